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
}
