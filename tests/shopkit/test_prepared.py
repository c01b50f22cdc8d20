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


def all_by_id():
    return Product.objects.order_by("id").values("id", "stock")


def test_a_page_is_the_querysets_slice_in_one_query(django_assert_num_queries):
    products = [ProductFactory(stock=stock) for stock in range(5)]
    query = PreparedValuesQuery(all_by_id, arguments=())
    for offset, limit in ((0, 2), (2, 2), (4, 2), (5, 2), (1, 10)):
        with django_assert_num_queries(1, using="ecommerce"):
            rows = query.page(limit=limit, offset=offset)
        assert rows == list(all_by_id()[offset : offset + limit])
    assert [row["id"] for row in query.page(limit=2, offset=1)] == [p.pk for p in products[1:3]]


def test_pages_are_cut_and_counted_by_a_paginator(monkeypatch, django_assert_num_queries):
    from django.core.paginator import Paginator

    from shopkit import pagination

    monkeypatch.setattr(pagination, "EXACT_COUNT_LIMIT", 2)
    pagination.forget_cached_counts()
    products = [ProductFactory(stock=stock) for stock in range(5)]
    query = PreparedValuesQuery(all_by_id, arguments=())
    paginator = pagination.CachedCountPaginator(query.pages(), 2)
    page = paginator.page(3)
    assert paginator.count == 5 and [row["id"] for row in page] == [products[4].pk]
    # The count is kept (over the limit): another page is its one query.
    with django_assert_num_queries(1, using="ecommerce"):
        assert [row["id"] for row in Paginator(query.pages(), 2).page(2)] == [
            p.pk for p in products[2:4]
        ]
    ProductFactory()
    assert Paginator(query.pages(), 2).count == 5  # kept for COUNT_TTL_SECONDS
    pagination.forget_cached_counts()
    assert Paginator(query.pages(), 2).count == 6
    with pytest.raises(TypeError):
        query.pages()[0]
