"""RSA keys for tokens: reading PEMs, the public JWK and its key id (kid).

Kept apart from shopkit.jwt so settings can import it before Django is set up.
"""

import base64
import hashlib
import json
from pathlib import Path

from cryptography.hazmat.primitives import serialization


def read_pem(value: str | None) -> str | None:
    """A PEM given inline (newlines may be written as \\n) or as a path to a file."""
    if not value:
        return None
    value = value.strip()
    if value.startswith("-----BEGIN"):
        return value.replace("\\n", "\n") + "\n"
    return Path(value).read_text()


def public_pem_from_private(private_pem: str) -> str:
    key = serialization.load_pem_private_key(private_pem.encode(), password=None)
    return (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )


def _b64url_uint(number: int) -> str:
    raw = number.to_bytes((number.bit_length() + 7) // 8, "big")
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def public_jwk(public_pem: str) -> dict:
    """The RSA public key as a JWK, with `kid` = its RFC 7638 thumbprint."""
    numbers = serialization.load_pem_public_key(public_pem.encode()).public_numbers()
    members = {"e": _b64url_uint(numbers.e), "kty": "RSA", "n": _b64url_uint(numbers.n)}
    thumbprint = hashlib.sha256(json.dumps(members, separators=(",", ":"), sort_keys=True).encode())
    kid = base64.urlsafe_b64encode(thumbprint.digest()).rstrip(b"=").decode()
    return {**members, "kid": kid, "use": "sig", "alg": "RS256"}


def key_id(public_pem: str) -> str:
    return public_jwk(public_pem)["kid"]
