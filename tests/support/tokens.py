"""Access tokens for tests of the services that only verify them.

They are shaped exactly like auth_site's (RS256, kid, iss, token_type, jti,
user_id, email, is_staff, perms) and signed with the test key pair that the
services under test trust.
"""

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
