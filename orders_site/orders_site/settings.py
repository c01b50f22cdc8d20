"""Settings of the orders service: the shopkit base plus what is orders's own."""

from shopkit.settings import *  # noqa: F403
from shopkit.settings import DJANGO_APPS, LOG_LEVEL, SHOPKIT_APPS, THIRD_PARTY_APPS, logging_config

SERVICE_NAME = "orders"
INSTALLED_APPS = [*DJANGO_APPS, *THIRD_PARTY_APPS, *SHOPKIT_APPS, "orders"]
ROOT_URLCONF = "orders_site.urls"
WSGI_APPLICATION = "orders_site.wsgi.application"
STATIC_URL = "/orders/static/"
LOGGING = logging_config(SERVICE_NAME, LOG_LEVEL)

SPECTACULAR_SETTINGS = {
    **SPECTACULAR_SETTINGS,
    "TITLE": "Tienda orders API",
    "DESCRIPTION": "Orders: orders, lines, status history, idempotency keys.",
    # Tags and operation ids from the path after /api/v1/ ("orders_list", tag "orders").
    "SCHEMA_PATH_PREFIX": r"/api/v1/",
    # One name for the status choice set, wherever it appears (status, from/to_status).
    "ENUM_NAME_OVERRIDES": {"OrderStatusEnum": "orders.models.OrderStatus"},
}

# --- Checkout --------------------------------------------------------------------
# A checkout's Idempotency-Key still "in progress" after this long belongs to a request
# that died: a retry with the same key (or `manage.py reconcile_checkouts`) takes it
# over. Far longer than any live checkout (a few service calls with timeouts).
CHECKOUT_STALE_SECONDS = env.int("CHECKOUT_STALE_SECONDS", default=300)

# --- Tokens ----------------------------------------------------------------------
# Stateless verification plus auth's revocation list, polled every few seconds:
# a deactivated account or a changed password stops the old access tokens here
# within seconds (shopkit.revocation).
REST_FRAMEWORK = {
    **REST_FRAMEWORK,
    "DEFAULT_AUTHENTICATION_CLASSES": ["shopkit.revocation.RevocationCheckingJWTAuthentication"],
}
