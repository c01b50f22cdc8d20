"""Fixtures of the orders service's tests: fake neighbours, callers, a checkout helper."""

import pytest

from shopkit.client import reset_service_clients
from tests.orders.api import CUSTOMER_ID, OTHER_CUSTOMER_ID, STAFF_ID, STAFF_PERMS
from tests.orders.fakes import FakeNeighbours
from tests.support.revocations import revocations  # noqa: F401  (autouse)


@pytest.fixture
def neighbours(settings):
    """catalog, cart and auth as one fake server; SERVICE_URLS point at it."""
    fake = FakeNeighbours(settings.SERVICE_TOKEN)
    settings.SERVICE_URLS = {
        **settings.SERVICE_URLS,
        "catalog": fake.url,
        "cart": fake.url,
        "auth": fake.url,
    }
    reset_service_clients()
    yield fake
    fake.close()
    reset_service_clients()


@pytest.fixture
def customer(client_for):
    return client_for(CUSTOMER_ID, email="ada@example.com")


@pytest.fixture
def other_customer(client_for):
    return client_for(OTHER_CUSTOMER_ID)


@pytest.fixture
def staff(client_for):
    return client_for(STAFF_ID, email="staff@example.com", is_staff=True, perms=STAFF_PERMS)


@pytest.fixture
def stripe_standin(settings):
    """The stand-in of Stripe's API (test code), and the stripe provider pointed at it."""
    from tests.support.stripe_standin import StripeStandIn

    standin = StripeStandIn(settings.STRIPE_SECRET_KEY)
    settings.PAYMENT_PROVIDERS = {
        **settings.PAYMENT_PROVIDERS,
        "stripe": {**settings.PAYMENT_PROVIDERS["stripe"], "api_base": standin.url},
    }
    yield standin
    standin.close()
