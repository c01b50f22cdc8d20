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
