"""Settings of the cart service: the shopkit base plus what is cart's own."""

from shopkit.settings import *  # noqa: F403
from shopkit.settings import DJANGO_APPS, LOG_LEVEL, SHOPKIT_APPS, THIRD_PARTY_APPS, logging_config

SERVICE_NAME = "cart"
INSTALLED_APPS = [*DJANGO_APPS, *THIRD_PARTY_APPS, *SHOPKIT_APPS, "carts"]
ROOT_URLCONF = "cart_site.urls"
WSGI_APPLICATION = "cart_site.wsgi.application"
STATIC_URL = "/cart/static/"
LOGGING = logging_config(SERVICE_NAME, LOG_LEVEL)

SPECTACULAR_SETTINGS = {
    **SPECTACULAR_SETTINGS,
    "TITLE": "Tienda cart API",
    "DESCRIPTION": "Carts: carts and cart lines.",
}
# The extra members of this service's problem documents, for the OpenAPI schema.
PROBLEM_EXTENSION_MEMBERS = "carts.errors.PROBLEM_EXTENSION_MEMBERS"

# --- Cart rules ------------------------------------------------------------------

# The most units of one product a cart line may hold, and the most lines a cart may hold.
CART_MAX_LINE_QUANTITY = env.int("CART_MAX_LINE_QUANTITY", default=99)
CART_MAX_LINES = env.int("CART_MAX_LINES", default=50)

# --- Tokens ----------------------------------------------------------------------
# Stateless verification plus auth's revocation list, polled every few seconds:
# a deactivated account or a changed password stops the old access tokens here
# within seconds (shopkit.revocation).
REST_FRAMEWORK = {
    **REST_FRAMEWORK,
    "DEFAULT_AUTHENTICATION_CLASSES": ["shopkit.revocation.RevocationCheckingJWTAuthentication"],
}
