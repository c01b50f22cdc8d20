"""shopkit.prepared: a `.values()` query compiled once, run with other arguments; writes
whose SQL is kept, storing what the ORM would store (run on SQLite too, see the Makefile)."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connections
from django.utils import timezone

from catalog.models import Product, Reservation, ReservationLine
from shopkit.prepared import PreparedInsert, PreparedValuesQuery, PreparedWrite
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


def test_raw_rows_are_the_drivers_tuples_and_convert_to_the_same_dicts(
    django_assert_num_queries,
):
    ProductFactory(price=Decimal("2.50"), is_active=False)
    ProductFactory(price=Decimal("3.00"))

    def with_converted_columns():
        # A boolean and a date-time: columns Django converts after the driver.
        return Product.objects.order_by("id").values("id", "price", "is_active", "created_at")

    query = PreparedValuesQuery(with_converted_columns, arguments=())
    rows = query.page(limit=10, offset=0)
    with django_assert_num_queries(1, using="ecommerce"):
        raw = query.raw_page(limit=10, offset=0)
    assert all(type(one) is tuple for one in raw) and len(raw) == 2
    columns, as_dict = query.row_maker()
    assert columns == ("id", "price", "is_active", "created_at")
    assert [as_dict(one) for one in raw] == rows == list(with_converted_columns())
    assert rows[0]["is_active"] is False and rows[0]["created_at"].tzinfo is not None
    # The same row reads as an equal tuple each time: it can key what is kept of it.
    assert query.raw_page(limit=10, offset=0) == raw

    every = query.raw_rows()
    assert every == raw and every.columns == columns
    assert [every.as_dict(one) for one in every] == rows

    pages = query.pages(raw=True)
    assert pages[1:2] == raw[1:] and pages.columns == columns
    assert pages.as_dict(pages[0:1][0]) == rows[0]
    assert query.pages()[0:2] == rows  # not raw: dicts, as before


def test_raw_rows_of_a_list_argument(django_assert_num_queries):
    products = [ProductFactory(stock=stock) for stock in (3, 4)]
    query = PreparedValuesQuery(by_ids, arguments=("ids",))
    raw = query.raw_rows(ids=[p.pk for p in products])
    assert [raw.as_dict(one) for one in raw] == query.rows(ids=[p.pk for p in products])
    with django_assert_num_queries(0, using="ecommerce"):
        assert query.raw_rows(ids=[]) == []


# --- writes: PreparedWrite, PreparedInsert -------------------------------------------


def _reservation_columns(reference):
    return Reservation.objects.filter(reference=reference).values(*RESERVATION_COLUMNS).get()


RESERVATION_COLUMNS = ("state", "expires_at", "committed_at", "released_at")


def test_an_insert_stores_what_save_stores(django_assert_num_queries):
    expires = timezone.now() + timedelta(minutes=15)
    by_orm = Reservation(reference="ORM-1", state=Reservation.State.RESERVED, expires_at=expires)
    by_orm.save()
    prepared = Reservation(reference="PREP-1", state=Reservation.State.RESERVED, expires_at=expires)
    with django_assert_num_queries(1, using="ecommerce"):
        assert INSERT_RESERVATION.save(prepared) is prepared
    assert prepared.pk == Reservation.objects.get(reference="PREP-1").pk
    assert not prepared._state.adding and prepared._state.db == "ecommerce"
    assert _reservation_columns("PREP-1") == _reservation_columns("ORM-1")
    stored = Reservation.objects.get(pk=prepared.pk)
    # auto_now_add and auto_now applied as save() does, the instance given the values.
    assert stored.created_at == prepared.created_at and stored.updated_at == prepared.updated_at
    assert prepared.created_at >= by_orm.created_at


def test_many_rows_in_one_statement_compiled_per_count(django_assert_num_queries):
    reservation = Reservation.objects.create(reference="MANY-1", expires_at=timezone.now())
    products = [ProductFactory(price=Decimal("12.34")) for _ in range(3)]
    insert = PreparedInsert(ReservationLine)

    def lines(items):
        return [
            ReservationLine(
                reservation=reservation,
                product_id=product.pk,
                quantity=index + 1,
                unit_price=product.price,
                tax_rate=Decimal("0.2100"),
                weight=None if index else Decimal("1.250"),
                sku=product.sku,
                name=product.name,
            )
            for index, product in items
        ]

    with django_assert_num_queries(1, using="ecommerce"):
        insert.save_many(lines(enumerate(products[:2])))
    with django_assert_num_queries(0, using="ecommerce"):
        assert insert.save_many([]) == []
    assert sorted(key[2] for key in insert._compiled) == [1, 2]  # save_many compiles its count
    stored = list(
        ReservationLine.objects.filter(reservation=reservation)
        .order_by("quantity")
        .values("product_id", "quantity", "unit_price", "tax_rate", "weight", "sku")
    )
    assert stored == [
        {
            "product_id": products[0].pk,
            "quantity": 1,
            "unit_price": Decimal("12.34"),
            "tax_rate": Decimal("0.2100"),
            "weight": Decimal("1.250"),
            "sku": products[0].sku,
        },
        {
            "product_id": products[1].pk,
            "quantity": 2,
            "unit_price": Decimal("12.34"),
            "tax_rate": Decimal("0.2100"),
            "weight": None,
            "sku": products[1].sku,
        },
    ]


def test_many_rows_are_split_where_the_database_limits_parameters(
    monkeypatch, django_assert_num_queries
):
    reservations = [
        Reservation(reference=f"SPLIT-{n}", expires_at=timezone.now()) for n in range(5)
    ]
    width = len(INSERT_RESERVATION._get(1)[2])
    monkeypatch.setattr(connections["ecommerce"].features, "max_query_params", 2 * width)
    with django_assert_num_queries(3, using="ecommerce"):
        INSERT_RESERVATION.save_many(reservations)
    assert Reservation.objects.filter(reference__startswith="SPLIT-").count() == 5


def test_an_update_matches_and_adapts_as_the_orm(django_assert_num_queries):
    expires = timezone.now()
    Reservation.objects.create(reference="UPD-1", expires_at=expires)
    Reservation.objects.create(reference="UPD-2", expires_at=expires)
    commit = PreparedWrite.update(
        Reservation, set=("state", "committed_at"), where=("reference", "state")
    )
    at = timezone.now()
    with django_assert_num_queries(1, using="ecommerce"):
        matched = commit.execute(
            Reservation.State.COMMITTED, at, "UPD-1", Reservation.State.RESERVED
        )
    assert matched == 1
    # Matched rows, not changed ones: the same values again still match (FOUND_ROWS).
    assert (
        commit.execute(Reservation.State.COMMITTED, at, "UPD-1", Reservation.State.COMMITTED) == 1
    )
    assert commit.execute(Reservation.State.COMMITTED, at, "UPD-1", Reservation.State.RESERVED) == 0
    Reservation.objects.filter(reference="UPD-2").update(
        state=Reservation.State.COMMITTED, committed_at=at
    )
    assert _reservation_columns("UPD-1") == _reservation_columns("UPD-2")
    assert Reservation.objects.get(reference="UPD-1").committed_at == at


def test_a_written_out_statement_and_a_delete():
    product = ProductFactory(stock=5)
    take = PreparedWrite(
        Product,
        "UPDATE {table} SET {stock} = {stock} - %s WHERE {id} = %s AND {stock} >= %s",
        params=("stock", "id", "stock"),
    )
    assert take.execute(3, product.pk, 3) == 1
    assert take.execute(3, product.pk, 3) == 0  # 2 left: the guard holds
    product.refresh_from_db()
    assert product.stock == 2
    reservation = Reservation.objects.create(reference="DEL-1", expires_at=timezone.now())
    ReservationLine.objects.create(
        reservation=reservation,
        product=product,
        quantity=1,
        unit_price=product.price,
        tax_rate=product.tax_rate,
        sku=product.sku,
        name=product.name,
    )
    delete = PreparedWrite.delete(ReservationLine, where=("reservation_id",))
    assert delete.execute(reservation.pk) == 1
    assert not ReservationLine.objects.exists()


def test_each_placeholder_needs_its_field():
    broken = PreparedWrite(
        Product, "UPDATE {table} SET {stock} = %s WHERE {id} = %s", params=("id",)
    )
    with pytest.raises(ValueError, match="each %s"):
        broken.execute(1)


INSERT_RESERVATION = PreparedInsert(Reservation)
