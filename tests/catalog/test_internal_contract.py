"""The catalog's internal contract (tests/support/contracts.py), run against the real
catalog and against the fakes the cart's and the orders' tests use in its place."""

import pytest

from catalog.models import Product
from tests.cart.fake_catalog import FakeCatalog
from tests.catalog.factories import ProductFactory
from tests.orders.fakes import FakeNeighbours
from tests.support.contracts import (
    FakeApi,
    InProcessApi,
    check_catalog_product_list,
    check_catalog_reservations,
)
from tests.support.databases import BOTH_DATABASES


def add_real_product(**fields) -> int:
    return ProductFactory(**fields).pk


def real_stock(product_id: int) -> int:
    return Product.objects.get(pk=product_id).stock


@pytest.mark.django_db(databases=BOTH_DATABASES)
def test_the_real_product_list(settings):
    check_catalog_product_list(InProcessApi(settings.SERVICE_TOKEN), add_real_product)


def test_the_carts_fake_product_list(settings):
    fake = FakeCatalog(settings.SERVICE_TOKEN)
    try:
        check_catalog_product_list(FakeApi(fake), lambda **fields: fake.add_product(**fields)["id"])
    finally:
        fake.stop()


def test_the_orders_fake_product_list(settings):
    fake = FakeNeighbours(settings.SERVICE_TOKEN)
    ids = iter(range(1, 1000))

    def add_product(*, is_active, **fields):
        return fake.add_product(next(ids), is_active=is_active, **fields).id

    try:
        check_catalog_product_list(FakeApi(fake), add_product)
    finally:
        fake.close()


@pytest.mark.django_db(databases=BOTH_DATABASES)
def test_the_real_reservations(settings):
    check_catalog_reservations(InProcessApi(settings.SERVICE_TOKEN), add_real_product, real_stock)


def test_the_orders_fake_reservations(settings):
    fake = FakeNeighbours(settings.SERVICE_TOKEN)
    ids = iter(range(1, 1000))

    def add_product(*, is_active, **fields):
        return fake.add_product(next(ids), is_active=is_active, **fields).id

    try:
        check_catalog_reservations(FakeApi(fake), add_product, fake.stock)
    finally:
        fake.close()
