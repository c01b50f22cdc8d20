#!/usr/bin/env python3
"""Secrets for a development machine: never committed, made once, reused.

- `ensure_dev_env(var_dir)` (used by `make run`): var/dev.env with a random
  DJANGO_SECRET_KEY and SERVICE_TOKEN, DJANGO_DEBUG=0 (the dev run behaves like
  production) and a JWT key pair in var/keys/. Every Django process of this
  checkout reads that file (shopkit's settings), tests included, so it holds
  nothing that changes behaviour beyond those secrets.
- `.venv/bin/python scripts/dev_secrets.py --dotenv .env`: a .env for docker
  compose from .env.example, with every secret filled in (keys inline as PEM).

Needs `cryptography` (in the virtualenv `make install` creates).
"""

import argparse
import os
import re
import secrets
import sys
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

REPO_DIR = Path(__file__).resolve().parents[1]

# Variables of .env.example that --dotenv fills with fresh random values.
RANDOM_SECRETS = (
    "DJANGO_SECRET_KEY",
    "SERVICE_TOKEN",
    "MYSQL_ROOT_PASSWORD",
    "AUTH_DB_PASSWORD",
    "ECOMMERCE_DB_PASSWORD",
    "DJANGO_SUPERUSER_PASSWORD",
)


def random_secret() -> str:
    """URL-safe (it goes into database URLs as a password); 64 characters, so a
    DJANGO_SECRET_KEY passes `check --deploy` (at least 50)."""
    return secrets.token_hex(32)


def new_key_pair() -> tuple[str, str]:
    """(private PEM, public PEM) of a new RSA-2048 key for RS256."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private_pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    public_pem = (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    return private_pem, public_pem


def _write_private(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(text)


def ensure_key_pair(keys_dir: Path) -> tuple[Path, Path]:
    """var/keys/jwt_private.pem + jwt_public.pem, made on first use."""
    private_path, public_path = keys_dir / "jwt_private.pem", keys_dir / "jwt_public.pem"
    if not (private_path.is_file() and public_path.is_file()):
        private_pem, public_pem = new_key_pair()
        _write_private(private_path, private_pem)
        public_path.write_text(public_pem)
    return private_path, public_path


def read_env_file(path: Path) -> dict[str, str]:
    """KEY=VALUE lines (no quoting: the values written here need none)."""
    values = {}
    if path.is_file():
        for line in path.read_text().splitlines():
            line = line.strip()
            if line and not line.startswith("#") and "=" in line:
                key, _, value = line.partition("=")
                values[key.strip()] = value.strip()
    return values


def ensure_dev_env(var_dir: Path) -> dict[str, str]:
    """var/dev.env (made once, completed when something is missing); returns its values."""
    path = var_dir / "dev.env"
    values = read_env_file(path)
    private_path, public_path = ensure_key_pair(var_dir / "keys")
    wanted = {
        "DJANGO_DEBUG": "0",
        "DJANGO_SECRET_KEY": values.get("DJANGO_SECRET_KEY") or random_secret(),
        "SERVICE_TOKEN": values.get("SERVICE_TOKEN") or random_secret(),
        # Absolute paths: the services run from their own directories.
        "JWT_PRIVATE_KEY": str(private_path),
        "JWT_PUBLIC_KEY": str(public_path),
    }
    merged = {
        **wanted,
        **{k: v for k, v in values.items() if k not in ("JWT_PRIVATE_KEY", "JWT_PUBLIC_KEY")},
    }
    if merged != values:
        lines = [
            "# Made by `make run` (scripts/dev_secrets.py) for this checkout only; never commit it.",
            *(f"{key}={value}" for key, value in merged.items()),
        ]
        _write_private(path, "\n".join(lines) + "\n")
    return merged


def write_dotenv(target: Path, example: Path) -> None:
    """.env for docker compose: .env.example with secrets and inline keys filled in."""
    private_pem, public_pem = new_key_pair()
    filled = {name: random_secret() for name in RANDOM_SECRETS}
    # One line each; shopkit.keys.read_pem turns the \n back into newlines.
    filled["JWT_PRIVATE_KEY"] = "'" + private_pem.strip().replace("\n", "\\n") + "'"
    filled["JWT_PUBLIC_KEY"] = "'" + public_pem.strip().replace("\n", "\\n") + "'"
    lines = []
    for line in example.read_text().splitlines():
        match = re.match(r"^([A-Z][A-Z0-9_]*)=(.*)$", line)
        if match and match.group(1) in filled:
            line = f"{match.group(1)}={filled[match.group(1)]}"
        lines.append(line)
    _write_private(target, "\n".join(lines) + "\n")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Write a .env for docker compose.")
    parser.add_argument("--dotenv", type=Path, required=True, help="the file to write, e.g. .env")
    parser.add_argument("--force", action="store_true", help="overwrite an existing file")
    args = parser.parse_args(argv)
    if args.dotenv.exists() and not args.force:
        parser.error(f"{args.dotenv} exists; --force replaces it (and every secret in it)")
    write_dotenv(args.dotenv, REPO_DIR / ".env.example")
    print(f"wrote {args.dotenv} (secrets and a new JWT key pair; keep it out of git)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
