"""Settings of the orders service: the shopkit base plus what is orders's own."""

from shopkit.settings import *  # noqa: F403
from shopkit.settings import DJANGO_APPS, LOG_LEVEL, SHOPKIT_APPS, THIRD_PARTY_APPS, logging_config

SERVICE_NAME = "orders"
INSTALLED_APPS = [
    *DJANGO_APPS,
    *THIRD_PARTY_APPS,
    "django_countries",
    *SHOPKIT_APPS,
    "shopkit.outbox",  # the order emails, in ecommerce_db
    "orders",
]
ROOT_URLCONF = "orders_site.urls"
WSGI_APPLICATION = "orders_site.wsgi.application"
STATIC_URL = "/orders/static/"
LOGGING = logging_config(SERVICE_NAME, LOG_LEVEL)

SPECTACULAR_SETTINGS = {
    **SPECTACULAR_SETTINGS,
    "TITLE": "Tienda orders API",
    "DESCRIPTION": "Orders: orders, lines, status history, idempotency keys, payments.",
    # Tags and operation ids from the path after /api/v1/ ("orders_list", tag "orders").
    "SCHEMA_PATH_PREFIX": r"/api/v1/",
    # One name for the status choice set, wherever it appears (status, from/to_status).
    "ENUM_NAME_OVERRIDES": {
        "OrderStatusEnum": "orders.models.OrderStatus",
        "OrderPaymentStatusEnum": "orders.models.OrderPaymentStatus",
        "PaymentStatusEnum": "orders.models.PaymentStatus",
        "RefundStatusEnum": "orders.models.RefundStatus",
    },
}
# The extra members of this service's problem documents, for the OpenAPI schema.
PROBLEM_EXTENSION_MEMBERS = "orders.errors.PROBLEM_EXTENSION_MEMBERS"

# --- Checkout --------------------------------------------------------------------
# A running checkout holds a lease on its Idempotency-Key (and on its customer's one
# checkout slot) and renews it every third of this many seconds while it works. A lease
# that is not renewed belongs to a process that died: once it runs out, a retry (or
# `manage.py reconcile_checkouts`) takes the key over.
CHECKOUT_LEASE_SECONDS = env.int("CHECKOUT_LEASE_SECONDS", default=10)

# --- Tokens ----------------------------------------------------------------------
# Stateless verification plus auth's revocation list, polled every few seconds:
# a deactivated account or a changed password stops the old access tokens here
# within seconds (shopkit.revocation).
REST_FRAMEWORK = {
    **REST_FRAMEWORK,
    "DEFAULT_AUTHENTICATION_CLASSES": ["shopkit.revocation.RevocationCheckingJWTAuthentication"],
}

# --- Payments --------------------------------------------------------------------
# The payment providers, by name: "CLASS" (a orders.payments.base.PaymentProvider)
# plus the options its constructor takes. `manual` (bank transfer / cash on delivery,
# confirmed by staff) always; `stripe` only when both of its keys are set. Adding a
# provider is a class and one entry here (README, "Payments").
PAYMENT_PROVIDERS = {
    "manual": {"CLASS": "orders.payments.manual.ManualProvider"},
}
STRIPE_SECRET_KEY = env.str("STRIPE_SECRET_KEY", default="")
STRIPE_WEBHOOK_SECRET = env.str("STRIPE_WEBHOOK_SECRET", default="")
if STRIPE_SECRET_KEY and STRIPE_WEBHOOK_SECRET:
    PAYMENT_PROVIDERS["stripe"] = {
        "CLASS": "orders.payments.stripe_provider.StripeProvider",
        "secret_key": STRIPE_SECRET_KEY,
        "webhook_secret": STRIPE_WEBHOOK_SECRET,
        # Only to point the library at a stand-in of Stripe's API (tests, stripe-mock).
        "api_base": env.str("STRIPE_API_BASE", default=""),
        "timeout": env.float("STRIPE_TIMEOUT_SECONDS", default=10.0),
    }
# An order paid through an online provider (a card) that has no succeeded payment this
# long after it was placed is cancelled by `reconcile_checkouts`, its stock given back.
ORDER_PAYMENT_TIMEOUT_MINUTES = env.int("ORDER_PAYMENT_TIMEOUT_MINUTES", default=30)

# --- Order emails (orders.services.emails, through shopkit.outbox) ----------------------
# The shipped email links to the carrier's tracking page: known carriers have their own
# (orders.services.emails.CARRIER_TRACKING_URLS); any other uses this template, with
# {carrier} and {tracking_number} (URL-encoded). Unset: no link, only the number.
TRACKING_URL_TEMPLATE = env.str("TRACKING_URL_TEMPLATE", default="")
