"""Fixtures of the cart's tests: the fake catalog neighbour and cart helpers."""

from pathlib import Path

import pytest
from hypothesis.configuration import set_hypothesis_home_dir

from shopkit.client import reset_service_clients
from tests.cart.fake_catalog import FakeCatalog
from tests.support.revocations import revocations  # noqa: F401  (autouse)

# Hypothesis (under schemathesis) keeps caches on disk: under var/, not in the checkout.
set_hypothesis_home_dir(Path(__file__).resolve().parents[2] / "var" / "hypothesis")


@pytest.fixture
def catalog(settings):
    """A running fake catalog that the cart's service client talks to."""
    fake = FakeCatalog(settings.SERVICE_TOKEN)
    settings.SERVICE_URLS = {**settings.SERVICE_URLS, "catalog": fake.url}
    reset_service_clients()
    yield fake
    fake.stop()
    reset_service_clients()


@pytest.fixture
def customer(client_for):
    """An API client signed in as customer 1 (`customer.user_id`)."""
    client = client_for(1)
    client.user_id = 1
    return client


@pytest.fixture
def other_customer(client_for):
    client = client_for(2)
    client.user_id = 2
    return client
