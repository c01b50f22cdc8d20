"""RSA key pairs for tests: made once per checkout under var/test-keys/, never committed."""

import os
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

KEYS_DIR = Path(__file__).resolve().parents[2] / "var" / "test-keys"


def _write_atomically(path: Path, data: bytes) -> None:
    tmp = path.with_suffix(f".{os.getpid()}.tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)


def key_pair(name: str = "signing") -> tuple[Path, Path]:
    """(private_pem_path, public_pem_path) for `name`, created on first use."""
    KEYS_DIR.mkdir(parents=True, exist_ok=True)
    private_path, public_path = KEYS_DIR / f"{name}.pem", KEYS_DIR / f"{name}.pub.pem"
    if not (private_path.exists() and public_path.exists()):
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        _write_atomically(
            private_path,
            key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            ),
        )
        _write_atomically(
            public_path,
            key.public_key().public_bytes(
                serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
            ),
        )
    return private_path, public_path
