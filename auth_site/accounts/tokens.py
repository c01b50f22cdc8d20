"""The tokens auth issues: RS256 JWTs whose header names the signing key (`kid`).

simplejwt's TokenBackend.encode adds no header and its tokens take their backend
from `get_token_backend()`, so the token classes here use a backend that adds
the `kid` published in the JWKS. Claims are the contract of docs/internal-api.md.
"""

from functools import cache

import jwt
from django.conf import settings
from rest_framework_simplejwt.backends import TokenBackend
from rest_framework_simplejwt.settings import api_settings
from rest_framework_simplejwt.token_blacklist.models import OutstandingToken
from rest_framework_simplejwt.tokens import AccessToken as SimpleAccessToken
from rest_framework_simplejwt.tokens import RefreshToken as SimpleRefreshToken
from rest_framework_simplejwt.utils import datetime_from_epoch

from accounts.selectors import profile_of, user_token_permissions
from shopkit.keys import key_id, public_jwk


class KeyIdTokenBackend(TokenBackend):
    """simplejwt's backend, plus the `kid` header on every token it signs, and the
    choice of the verifying key by that `kid` (the current key or a previous one
    still accepted after a rotation)."""

    def __init__(self, *args, kid: str, previous_public_keys: dict[str, str], **kwargs):
        super().__init__(*args, **kwargs)
        self.kid = kid
        self.previous_public_keys = {
            previous_kid: self._prepare_key(pem)
            for previous_kid, pem in previous_public_keys.items()
        }

    def get_verifying_key(self, token):
        try:
            kid = jwt.get_unverified_header(token).get("kid")
        except jwt.InvalidTokenError:
            kid = None  # decode() refuses the token with simplejwt's own error
        return self.previous_public_keys.get(kid, self.prepared_verifying_key)

    def encode(self, payload: dict) -> str:
        claims = payload.copy()
        if self.audience is not None:
            claims["aud"] = self.audience
        if self.issuer is not None:
            claims["iss"] = self.issuer
        return jwt.encode(
            claims,
            self.prepared_signing_key,
            algorithm=self.algorithm,
            json_encoder=self.json_encoder,
            headers={"kid": self.kid},
        )


@cache
def signing_backend() -> KeyIdTokenBackend:
    return KeyIdTokenBackend(
        api_settings.ALGORITHM,
        api_settings.SIGNING_KEY,
        api_settings.VERIFYING_KEY,
        api_settings.AUDIENCE,
        api_settings.ISSUER,
        None,  # auth verifies with its own public key, never a JWKS URL
        api_settings.LEEWAY,
        api_settings.JSON_ENCODER,
        kid=key_id(settings.JWT_PUBLIC_KEY),
        previous_public_keys={key_id(pem): pem for pem in settings.JWT_PREVIOUS_PUBLIC_KEYS},
    )


@cache
def jwks() -> dict:
    """The JSON Web Key Set the other services verify access tokens with: the current
    key first, then the previous ones still accepted after a rotation."""
    return {
        "keys": [
            public_jwk(pem) for pem in [settings.JWT_PUBLIC_KEY, *settings.JWT_PREVIOUS_PUBLIC_KEYS]
        ]
    }


class AccessToken(SimpleAccessToken):
    def get_token_backend(self) -> TokenBackend:
        return signing_backend()

    @classmethod
    def for_user(cls, user) -> "AccessToken":
        """An access token carrying what the other services need, read fresh from the user."""
        token = cls()
        token[api_settings.USER_ID_CLAIM] = user.pk  # an int: services compare it with their rows
        token["email"] = user.email
        token["is_staff"] = user.is_staff
        token["is_superuser"] = user.is_superuser
        token["perms"] = user_token_permissions(user=user)
        # For orders: REQUIRE_VERIFIED_EMAIL's check, and the language of its emails.
        profile = profile_of(user)
        token["email_verified"] = profile.email_verified
        token["language"] = profile.language
        return token


class RefreshToken(SimpleRefreshToken):
    access_token_class = AccessToken

    def get_token_backend(self) -> TokenBackend:
        return signing_backend()

    @classmethod
    def for_user(cls, user) -> "RefreshToken":
        """A refresh token recorded as outstanding, so rotation and logout can blacklist it.

        It carries only the user id: access tokens are built from the user at each
        refresh, so a change of email, staff flag or permissions shows within 15 minutes.
        """
        token = cls()
        token[api_settings.USER_ID_CLAIM] = user.pk
        OutstandingToken.objects.create(
            user=user,
            jti=token[api_settings.JTI_CLAIM],
            token=str(token),
            created_at=token.current_time,
            expires_at=datetime_from_epoch(token["exp"]),
        )
        return token
