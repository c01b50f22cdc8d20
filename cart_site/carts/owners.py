"""Who a cart belongs to: a signed-in customer (by user id) or a guest (by token).

A guest token is a bearer secret: whoever holds it holds the cart. It is sent
and answered in the X-Cart-Token header and stored only as its SHA-256.
"""

import hashlib
import secrets
from dataclasses import dataclass

GUEST_TOKEN_HEADER = "X-Cart-Token"


@dataclass(frozen=True)
class CartOwner:
    user_id: int | None = None
    # The token the guest sent (None: the guest has no cart yet).
    guest_token: str | None = None

    @property
    def is_guest(self) -> bool:
        return self.user_id is None


def new_guest_token() -> str:
    return secrets.token_urlsafe(32)


def hash_guest_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()
