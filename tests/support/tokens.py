"""Access tokens for tests of the services that only verify them.

They are shaped exactly like auth_site's (RS256, kid, iss, token_type, jti,
user_id, email, is_staff, perms) and signed with the test key pair that the
services under test trust.
"""

import base64
import json
import time
import uuid

import jwt

from shopkit.keys import key_id, read_pem
from tests.support.keys import key_pair


def mint_access_token(
    *,
    user_id: int,
    email: str | None = None,
    is_staff: bool = False,
    is_superuser: bool = False,
    perms: tuple[str, ...] | list[str] = (),
    lifetime: int = 900,
    key_name: str = "signing",
    issuer: str = "tienda-auth",
    **claims,
) -> str:
    private_path, public_path = key_pair(key_name)
    now = int(time.time())
    payload = {
        "token_type": "access",
        "exp": now + lifetime,
        "iat": now,
        "jti": uuid.uuid4().hex,
        "iss": issuer,
        "user_id": user_id,
        "email": email or f"user{user_id}@example.com",
        "is_staff": is_staff,
        "is_superuser": is_superuser,
        "perms": list(perms),
        **claims,
    }
    return jwt.encode(
        payload,
        read_pem(str(private_path)),
        algorithm="RS256",
        headers={"kid": key_id(read_pem(str(public_path)))},
    )


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def with_flipped_signature_byte(token: str) -> str:
    """The same token with one bit of its signature changed."""
    header, payload, signature = token.split(".")
    raw = bytearray(base64.urlsafe_b64decode(signature + "=" * (-len(signature) % 4)))
    raw[10] ^= 0x01
    return ".".join([header, payload, _b64url(bytes(raw))])


def as_alg_none(token: str) -> str:
    """The token's claims, unsigned, claiming `alg: none`."""
    claims = jwt.decode(token, options={"verify_signature": False})
    header = _b64url(json.dumps({"alg": "none", "typ": "JWT"}).encode())
    return f"{header}.{_b64url(json.dumps(claims).encode())}."
