"""Settings of the catalog service: the shopkit base plus what is catalog's own."""

from shopkit.settings import *  # noqa: F403
from shopkit.settings import (
    DJANGO_APPS,
    LOG_LEVEL,
    SHOPKIT_APPS,
    THIRD_PARTY_APPS,
    env,
    logging_config,
)

SERVICE_NAME = "catalog"
INSTALLED_APPS = [*DJANGO_APPS, *THIRD_PARTY_APPS, *SHOPKIT_APPS, "catalog"]
ROOT_URLCONF = "catalog_site.urls"
WSGI_APPLICATION = "catalog_site.wsgi.application"
STATIC_URL = "/catalog/static/"
LOGGING = logging_config(SERVICE_NAME, LOG_LEVEL)
# /catalog/metrics also reports the reservations holding stock right now.
METRICS_COLLECTORS = ["catalog.metrics.ReservationsHeldCollector"]

SPECTACULAR_SETTINGS = {
    **SPECTACULAR_SETTINGS,
    "TITLE": "Tienda catalog API",
    "DESCRIPTION": "Catalog: categories, products, stock, reservations.",
}
# The extra members of this service's problem documents, for the OpenAPI schema.
PROBLEM_EXTENSION_MEMBERS = "catalog.errors.PROBLEM_EXTENSION_MEMBERS"

# --- Catalog ---------------------------------------------------------------------
# How long a stock reservation holds its units unless the caller asks for another
# ttl_seconds (capped at an hour by the internal API).
RESERVATION_TTL_SECONDS = env.int("RESERVATION_TTL_SECONDS", default=900)
# The admin's "low stock" filter: products with fewer units than this.
LOW_STOCK_THRESHOLD = env.int("LOW_STOCK_THRESHOLD", default=5)
# Charge the destination country's VAT (catalog.TaxRate, per tax class) when the cart
# or the checkout names a country; off: every product's own tax_rate, as before.
TAX_BY_DESTINATION = env.bool("TAX_BY_DESTINATION", default=False)

# --- Tokens ----------------------------------------------------------------------
# Stateless verification plus auth's revocation list, polled every few seconds: a
# deactivated staff member's old access token stops writing the catalogue within
# seconds, as it stops buying in cart and orders (shopkit.revocation).
REST_FRAMEWORK = {
    **REST_FRAMEWORK,
    "DEFAULT_AUTHENTICATION_CLASSES": ["shopkit.revocation.RevocationCheckingJWTAuthentication"],
}
