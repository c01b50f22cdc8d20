"""shopkit.prepared: a `.values()` query compiled once, run with other arguments."""

from decimal import Decimal

import pytest

from catalog.models import Product
from shopkit.prepared import PreparedValuesQuery
from tests.catalog.factories import ProductFactory

pytestmark = pytest.mark.django_db(databases=["default", "ecommerce"])


def by_price_and_stock(min_stock):
    return Product.objects.filter(stock__gte=min_stock).order_by("id").values("id", "price")


def test_rows_are_the_querysets_for_each_argument(django_assert_num_queries):
    products = [ProductFactory(stock=stock, price=Decimal("1.50")) for stock in (1, 5, 9)]
    query = PreparedValuesQuery(by_price_and_stock, arguments=("min_stock",))
    for min_stock in (0, 5, 10):
        with django_assert_num_queries(1, using="ecommerce"):
            rows = query.rows(min_stock=min_stock)
        assert rows == list(by_price_and_stock(min_stock))
    assert [row["id"] for row in query.rows(min_stock=5)] == [p.pk for p in products[1:]]


def test_a_query_whose_sql_ignores_an_argument_is_refused():
    query = PreparedValuesQuery(lambda pk: Product.objects.values("id"), arguments=("pk",))
    with pytest.raises(ValueError, match="exactly once"):
        query.rows(pk=1)


def test_forget_compiles_again():
    query = PreparedValuesQuery(by_price_and_stock, arguments=("min_stock",))
    assert query.rows(min_stock=0) == []
    query.forget()
    product = ProductFactory(stock=3)
    assert query.rows(min_stock=0) == [{"id": product.pk, "price": product.price}]


def by_ids(ids):
    return Product.objects.filter(pk__in=ids).order_by("id").values("id", "stock")


def test_a_list_argument_is_compiled_per_length(django_assert_num_queries):
    products = [ProductFactory(stock=stock) for stock in (1, 5, 9)]
    ids = [product.pk for product in products]
    query = PreparedValuesQuery(by_ids, arguments=("ids",))
    for wanted in ([ids[0]], ids[:2], ids, [ids[2], ids[0]], [ids[1], 10**9]):
        with django_assert_num_queries(1, using="ecommerce"):
            rows = query.rows(ids=wanted)
        assert rows == list(by_ids(wanted))
    with django_assert_num_queries(0, using="ecommerce"):
        assert query.rows(ids=[]) == []
    assert sorted(query._compiled) == [(1,), (2,), (3,)]


def test_a_text_argument():
    kettle, lamp = ProductFactory(sku="KETTLE-1"), ProductFactory(sku="LAMP-1")
    query = PreparedValuesQuery(
        lambda sku: Product.objects.filter(sku=sku).values("id"), arguments=("sku",)
    )
    assert query.rows(sku="LAMP-1") == [{"id": lamp.pk}]
    assert query.rows(sku="KETTLE-1") == [{"id": kettle.pk}]
    assert query.rows(sku="' OR 1=1 --") == []
