"""auth's internal contract (tests/support/contracts.py), run against the real auth and
against the fake the orders' tests use in its place."""

import pytest

from tests.auth.factories import AddressFactory, UserFactory
from tests.orders.fakes import FakeNeighbours
from tests.support.contracts import FakeApi, InProcessApi, check_auth_address
from tests.support.databases import BOTH_DATABASES

FIELDS = {"full_name": "Ana Torres", "line1": "Calle Mayor 1", "city": "Madrid", "country": "ES"}


@pytest.mark.django_db(databases=BOTH_DATABASES)
def test_the_real_addresses(settings):
    owner, other = UserFactory(), UserFactory()

    def add_address(user_id):
        return AddressFactory(user_id=user_id, **FIELDS).pk, FIELDS

    check_auth_address(InProcessApi(settings.SERVICE_TOKEN), add_address, (owner.pk, other.pk))


def test_the_orders_fake_addresses(settings):
    fake = FakeNeighbours(settings.SERVICE_TOKEN)

    def add_address(user_id):
        address = {"line2": "", "region": "", "postal_code": "28013", "phone": "", **FIELDS}
        fake.addresses[(user_id, 5)] = address
        return 5, FIELDS

    try:
        check_auth_address(FakeApi(fake), add_address, (1, 2))
    finally:
        fake.close()
