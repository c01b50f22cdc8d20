"""Settings of the auth service: the shopkit base plus what is auth's own."""

from shopkit.settings import *  # noqa: F403
from shopkit.settings import DJANGO_APPS, LOG_LEVEL, SHOPKIT_APPS, THIRD_PARTY_APPS, logging_config

SERVICE_NAME = "auth"
INSTALLED_APPS = [
    *DJANGO_APPS,
    *THIRD_PARTY_APPS,
    "rest_framework_simplejwt.token_blacklist",
    "django_countries",
    *SHOPKIT_APPS,
    "shopkit.outbox",  # password reset and verification emails, in auth_db
    "accounts",
]
ROOT_URLCONF = "auth_site.urls"
WSGI_APPLICATION = "auth_site.wsgi.application"
STATIC_URL = "/auth/static/"
LOGGING = logging_config(SERVICE_NAME, LOG_LEVEL)

SPECTACULAR_SETTINGS = {
    **SPECTACULAR_SETTINGS,
    "TITLE": "Tienda auth API",
    "DESCRIPTION": "Accounts: users, addresses, tokens, JWKS.",
}

# --- Tokens: auth_site alone holds the private key and signs ----------------------
from shopkit.keys import public_pem_from_private, read_pem  # noqa: E402

JWT_PRIVATE_KEY = read_pem(env.str("JWT_PRIVATE_KEY", default=""))
if not JWT_PRIVATE_KEY:
    raise ImproperlyConfigured(
        "JWT_PRIVATE_KEY must be set (a PEM or a path to one); `make run` generates a dev key."
    )
JWT_PUBLIC_KEY = public_pem_from_private(JWT_PRIVATE_KEY)
# Key rotation: the public keys of earlier signing keys (PEMs or paths, comma-separated)
# stay published in the JWKS and accepted until the tokens they signed have expired.
JWT_PREVIOUS_PUBLIC_KEYS = [
    read_pem(value) for value in env.list("JWT_PREVIOUS_PUBLIC_KEYS", default=[]) if value
]
SIMPLE_JWT = {
    **SIMPLE_JWT,
    # Verified by accounts' own token classes, which pick the key by the token's kid.
    "AUTH_TOKEN_CLASSES": ("accounts.tokens.AccessToken",),
    "SIGNING_KEY": JWT_PRIVATE_KEY,
    "VERIFYING_KEY": JWT_PUBLIC_KEY,
    "JWK_URL": None,
}

# auth owns the users, so it can afford the DB lookup (an inactive user is refused at
# once, and so is a token older than the user's last password change).
REST_FRAMEWORK = {
    **REST_FRAMEWORK,
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "accounts.authentication.AccountJWTAuthentication",
    ],
    "DEFAULT_THROTTLE_RATES": {
        **REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"],
        # Sign-ups per client address; email changes per user and per address
        # (both answers tell whether an account exists). Failed sign-ins: shopkit.
        "register": env.str("THROTTLE_REGISTER_RATE", default="10/hour"),
        "email_change": env.str("THROTTLE_EMAIL_CHANGE_RATE", default="10/hour"),
        # Password reset requests (every one counts), per email and per client address.
        "password_reset_email": env.str("THROTTLE_PASSWORD_RESET_EMAIL_RATE", default="5/hour"),
        "password_reset_ip": env.str("THROTTLE_PASSWORD_RESET_IP_RATE", default="20/hour"),
    },
}

# --- Emails of accounts (shopkit.outbox) ---------------------------------------------
# A reset link works once, for this long (Django's PasswordResetTokenGenerator).
PASSWORD_RESET_TIMEOUT = env.int("PASSWORD_RESET_TIMEOUT", default=3600)
# A verification link works once, for this long.
EMAIL_VERIFICATION_TIMEOUT = env.int("EMAIL_VERIFICATION_TIMEOUT", default=3 * 24 * 3600)
