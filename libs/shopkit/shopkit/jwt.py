"""Stateless JWT verification for catalog, cart and orders.

Tokens are RS256, signed by auth_site only. The other services verify them with
the public key (JWT_PUBLIC_KEY) or the JWKS document (JWKS_URL, cached by PyJWT),
with no database query and no call to auth per request: the user is a
`ShopTokenUser` built from the claims (`ShopStatelessJWTAuthentication`, with
TOKEN_USER_CLASS pointing here; cart and orders add auth's revocation list on top,
see shopkit.revocation). Claim types are checked strictly (docs/internal-api.md).
"""

import threading
import time

from django.conf import settings
from rest_framework_simplejwt.authentication import (
    JWTAuthentication,
    JWTStatelessUserAuthentication,
)
from rest_framework_simplejwt.exceptions import InvalidToken
from rest_framework_simplejwt.models import TokenUser

# Claims are checked by type, strictly: a correctly signed token is still input.
# (bool is a subclass of int in Python, hence the explicit exclusions.)
MAX_USER_ID = 2**63 - 1  # a BigAutoField
MAX_TIMESTAMP = 253402300799  # 9999-12-31T23:59:59Z: datetime's limit


def _is_int(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_timestamp(value) -> bool:
    return _is_int(value) and 0 <= value <= MAX_TIMESTAMP


def _is_string_list(value) -> bool:
    return isinstance(value, list) and all(isinstance(item, str) for item in value)


REQUIRED_CLAIMS = {
    "user_id": lambda value: _is_int(value) and 1 <= value <= MAX_USER_ID,
    "exp": _is_timestamp,
    "token_type": lambda value: isinstance(value, str),
    "jti": lambda value: isinstance(value, str),
}
OPTIONAL_CLAIMS = {
    "iat": _is_timestamp,
    "email": lambda value: isinstance(value, str),
    "is_staff": lambda value: isinstance(value, bool),
    "is_superuser": lambda value: isinstance(value, bool),
    "email_verified": lambda value: isinstance(value, bool),
    "language": lambda value: isinstance(value, str) and len(value) <= 8,
    "perms": _is_string_list,
}


def access_claims_problems(payload: dict) -> list[str]:
    """The claims of a signature-checked access token that do not have their type."""
    problems = [name for name, valid in REQUIRED_CLAIMS.items() if not valid(payload.get(name))]
    problems += [
        name
        for name, valid in OPTIONAL_CLAIMS.items()
        if name in payload and not valid(payload[name])
    ]
    return problems


class StrictClaimsMixin:
    """simplejwt's authentication, plus: odd claims are a 401, never a 500.

    simplejwt turns `exp: 1e20` into a datetime (OverflowError) and hands
    `user_id: "abc"` to the views; here such tokens are refused as invalid.
    """

    def get_validated_token(self, raw_token):
        try:
            token = super().get_validated_token(raw_token)
        except (OverflowError, ValueError, TypeError, OSError) as exc:
            raise InvalidToken(
                {"detail": "Token has invalid claims.", "code": "token_not_valid"}
            ) from exc
        problems = access_claims_problems(token.payload)
        if problems:
            raise InvalidToken(
                {
                    "detail": f"Token claims of the wrong type: {', '.join(problems)}.",
                    "code": "token_not_valid",
                }
            )
        return token


# Access tokens that passed every check, kept per process by their exact text until
# they expire: a signed-in customer sends the same token with every request, and
# checking its signature, segments and claims again cost a read about as much as
# its database query. Revocation is not part of this: it is checked on every
# request (shopkit.revocation), against the token's `iat`.
VERIFIED_TOKENS_KEPT = 4096
_verified_tokens: dict[bytes, tuple[object, int]] = {}
_verified_tokens_lock = threading.Lock()


def forget_verified_tokens() -> None:
    """Drop every kept token (tests that change the keys)."""
    with _verified_tokens_lock:
        _verified_tokens.clear()


class VerifiedTokenCacheMixin:
    """Answers a token already verified by this process from memory, until its `exp`.

    From `exp` on, each request checks the token in full again, so whether it is
    still accepted (the LEEWAY setting) or refused is decided exactly as without
    this cache.
    """

    def get_validated_token(self, raw_token):
        key = raw_token if isinstance(raw_token, bytes) else str(raw_token).encode()
        kept = _verified_tokens.get(key)
        if kept is not None:
            token, expires = kept
            if expires > time.time():
                return token
        token = super().get_validated_token(raw_token)
        with _verified_tokens_lock:
            _verified_tokens[key] = (token, token.payload["exp"])
            while len(_verified_tokens) > VERIFIED_TOKENS_KEPT:
                del _verified_tokens[next(iter(_verified_tokens))]  # the oldest
        return token


class ShopStatelessJWTAuthentication(
    VerifiedTokenCacheMixin, StrictClaimsMixin, JWTStatelessUserAuthentication
):
    """catalog's authentication (and the base of cart's and orders'): the user is built
    from the claims (no DB, no call); a token this process verified before is not
    verified again until it expires (VerifiedTokenCacheMixin)."""


class ShopJWTAuthentication(StrictClaimsMixin, JWTAuthentication):
    """The base of auth's authentication: the claims checked, then the user read from
    auth_db (accounts.authentication adds its revocation)."""


class ShopTokenUser(TokenUser):
    """The user behind an access token, permissions included (claim `perms`).

    `perms` holds Django permission names ("catalog.change_product") granted to a
    staff member, so DRF's DjangoModelPermissions works without a database.
    """

    @property
    def email(self) -> str:
        return self.token.get("email", "")

    @property
    def is_superuser(self) -> bool:
        return self.token.get("is_superuser", False) is True  # claims are type-checked

    @property
    def is_staff(self) -> bool:
        return self.token.get("is_staff", False) is True

    @property
    def email_verified(self) -> bool:
        """Whether the email was verified when the token was signed (REQUIRE_VERIFIED_EMAIL)."""
        return self.token.get("email_verified", False) is True

    @property
    def language(self) -> str:
        """The customer's language for emails (shopkit.outbox.rendering falls back if unknown)."""
        return self.token.get("language", "") or settings.SHOP_LANGUAGE

    @property
    def is_active(self) -> bool:
        return True  # auth never issues a token to an inactive user

    def get_all_permissions(self, obj=None) -> set:
        return set(self.token.get("perms", []))

    def has_perm(self, perm, obj=None) -> bool:
        return self.is_active and (self.is_superuser or perm in self.get_all_permissions())

    def has_perms(self, perm_list, obj=None) -> bool:
        return all(self.has_perm(perm, obj) for perm in perm_list)

    def has_module_perms(self, module) -> bool:
        return self.is_superuser or any(
            p.startswith(module + ".") for p in self.get_all_permissions()
        )


# The OpenAPI security scheme drf-spectacular gives simplejwt's own classes
# (it matches exact classes only), for ours and their subclasses.
from drf_spectacular.contrib.rest_framework_simplejwt import SimpleJWTScheme  # noqa: E402


class ShopJWTScheme(SimpleJWTScheme):
    target_class = "shopkit.jwt.StrictClaimsMixin"
    match_subclasses = True
