"""Settings for the orders service's tests (pytest --ds=tests.orders.settings)."""

from tests.support.environment import apply_test_settings, prepare_environment

prepare_environment("orders")

from orders_site.settings import *  # noqa: E402, F403

apply_test_settings("orders", globals())

# The stripe provider is configured in the tests, against the stand-in of Stripe's API
# (tests/support/stripe_standin.py) that the `stripe_standin` fixture starts; until then
# its API base is a closed port, so nothing can ever reach the real Stripe.
STRIPE_SECRET_KEY = "sk_test_tienda_standin"
STRIPE_WEBHOOK_SECRET = "whsec_tienda_standin"
PAYMENT_PROVIDERS = {
    **PAYMENT_PROVIDERS,
    "stripe": {
        "CLASS": "orders.payments.stripe_provider.StripeProvider",
        "secret_key": STRIPE_SECRET_KEY,
        "webhook_secret": STRIPE_WEBHOOK_SECRET,
        "api_base": "http://127.0.0.1:9",
        "timeout": 5.0,
    },
}
