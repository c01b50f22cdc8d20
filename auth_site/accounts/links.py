"""The single-use links accounts emails: password reset and email verification.

Both are Django's PasswordResetTokenGenerator (an HMAC of the user's state and a
timestamp, nothing stored): a reset token hashes the password and last_login, so it
dies once the password is set; a verification token hashes the email and whether it
is verified, so it dies once used and when the email changes. The storefront
(STOREFRONT_URL) shows the page and posts `uid` and `token` back to the API.
"""

from urllib.parse import urlencode

from django.conf import settings
from django.contrib.auth.models import User
from django.contrib.auth.tokens import PasswordResetTokenGenerator, default_token_generator
from django.utils.crypto import constant_time_compare
from django.utils.encoding import force_bytes
from django.utils.http import base36_to_int, urlsafe_base64_encode

from accounts.selectors import profile_of

PASSWORD_RESET_PATH = "/password-reset"
EMAIL_VERIFY_PATH = "/verify-email"

password_reset_tokens = default_token_generator  # expires after PASSWORD_RESET_TIMEOUT


class EmailVerificationTokenGenerator(PasswordResetTokenGenerator):
    key_salt = "tienda.accounts.EmailVerificationTokenGenerator"

    def _make_hash_value(self, user: User, timestamp: int) -> str:
        verified_at = profile_of(user).email_verified_at
        verified = "" if verified_at is None else verified_at.replace(microsecond=0).isoformat()
        return f"{user.pk}{user.email}{verified}{timestamp}"

    def check_token(self, user, token) -> bool:
        """Django's check, against EMAIL_VERIFICATION_TIMEOUT instead of the reset's timeout."""
        if not (user and token) or not isinstance(token, str):
            return False
        try:
            ts_b36, _ = token.split("-")
            ts = base36_to_int(ts_b36)
        except ValueError:
            return False
        for secret in [self.secret, *self.secret_fallbacks]:
            if constant_time_compare(self._make_token_with_timestamp(user, ts, secret), token):
                break
        else:
            return False
        return self._num_seconds(self._now()) - ts <= settings.EMAIL_VERIFICATION_TIMEOUT


email_verification_tokens = EmailVerificationTokenGenerator()


def uid_of(user: User) -> str:
    return urlsafe_base64_encode(force_bytes(user.pk))


def storefront_link(path: str, *, uid: str, token: str) -> str:
    return f"{settings.STOREFRONT_URL.rstrip('/')}{path}?{urlencode({'uid': uid, 'token': token})}"


def password_reset_link(user: User) -> str:
    return storefront_link(
        PASSWORD_RESET_PATH, uid=uid_of(user), token=password_reset_tokens.make_token(user)
    )


def email_verification_link(user: User) -> str:
    return storefront_link(
        EMAIL_VERIFY_PATH, uid=uid_of(user), token=email_verification_tokens.make_token(user)
    )
