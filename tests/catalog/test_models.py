"""The database itself refuses what the code refuses (MariaDB enforces CHECK)."""

import pytest
from django.db import IntegrityError, transaction
from django.db.models import F

from catalog.models import Product, ReservationLine
from tests.catalog.factories import ProductFactory, ReservationLineFactory
from tests.support.databases import BOTH_DATABASES

pytestmark = pytest.mark.django_db(databases=BOTH_DATABASES)


@pytest.mark.parametrize(
    "change",
    [
        {"stock": F("stock") - 11},
        {"price": -1},
        {"tax_rate": "1.01"},
        {"tax_rate": "-0.01"},
        {"weight": -1},
    ],
)
def test_check_constraints_hold_in_the_database(change):
    product = ProductFactory(stock=10)
    with pytest.raises(IntegrityError), transaction.atomic(using="ecommerce"):
        Product.objects.filter(pk=product.pk).update(**change)
    product.refresh_from_db()
    assert product.stock == 10


def test_sku_and_slug_are_unique_in_the_database():
    ProductFactory(sku="A", slug="a")
    for duplicate in ({"sku": "A", "slug": "b"}, {"sku": "B", "slug": "a"}):
        with pytest.raises(IntegrityError), transaction.atomic(using="ecommerce"):
            Product.objects.create(name="x", price=1, tax_rate="0.21", **duplicate)


def test_a_reserved_product_cannot_be_erased():
    line = ReservationLineFactory()
    with pytest.raises(IntegrityError), transaction.atomic(using="ecommerce"):
        Product.objects.filter(pk=line.product_id)._raw_delete("ecommerce")
    assert ReservationLine.objects.filter(pk=line.pk).exists()
