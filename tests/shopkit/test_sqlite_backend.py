"""shopkit.db.sqlite3 and the SQLite settings: `make run`'s database, kept and indexed.

Run on MariaDB with the other shopkit tests (the settings' part) and again on SQLite
(`make test-shopkit`'s second run), where the query plans are read.
"""

import pytest
from django.db import connections
from django.db.utils import load_backend

from catalog.models import Product
from catalog.selectors import product_list, product_rows
from shopkit import settings as shopkit_settings


def sqlite_entry(monkeypatch, url: str) -> dict:
    monkeypatch.setenv("TIENDA_TEST_SQLITE_URL", url)
    return shopkit_settings.database("TIENDA_TEST_SQLITE_URL", "unused.sqlite3")


@pytest.fixture
def file_connection(monkeypatch, tmp_path, django_db_blocker):
    """A connection to a SQLite file configured as `make run`'s (not the test database)."""
    entry = sqlite_entry(monkeypatch, f"sqlite:///{tmp_path / 'shop.sqlite3'}")
    # Django's defaults for the entry (TIME_ZONE, AUTOCOMMIT, ...), as for DATABASES.
    settings_dict = connections.configure_settings({"default": entry})["default"]
    connection = load_backend(entry["ENGINE"]).DatabaseWrapper(settings_dict, "probe")
    with django_db_blocker.unblock():  # a file of the test's own, not a test database
        yield connection
        connection.close()


def test_a_sqlite_connection_outlives_its_request(file_connection):
    assert file_connection.settings_dict["ENGINE"] == "shopkit.db.sqlite3"
    file_connection.close_if_unusable_or_obsolete()  # what request_started does
    with file_connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    opened = file_connection.connection

    file_connection.close_if_unusable_or_obsolete()  # request_finished, and the next start

    # A connection per request re-opened the file, ran its PRAGMAs and started with a
    # cold page cache: now the same connection serves the next request.
    assert opened is not None and file_connection.connection is opened


def test_a_sqlite_connection_is_in_wal_mode_with_a_small_page_cache(file_connection):
    with file_connection.cursor() as cursor:
        cursor.execute("PRAGMA journal_mode")
        assert cursor.fetchone()[0] == "wal"
        cursor.execute("PRAGMA cache_size")
        assert cursor.fetchone()[0] == -256


@pytest.fixture
def sqlite():
    connection = connections["ecommerce"]
    if connection.vendor != "sqlite":
        pytest.skip("the backend is SQLite's (make test-shopkit's second run)")
    return connection


def query_plan(connection, queryset) -> str:
    sql, params = queryset.query.get_compiler(connection=connection).as_sql()
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN QUERY PLAN {sql}", params)
        return "\n".join(str(row[-1]) for row in cursor.fetchall())


@pytest.mark.django_db(databases="__all__")
def test_a_boolean_filter_is_a_comparison_on_sqlite(sqlite):
    sql, params = product_list().query.get_compiler(connection=sqlite).as_sql()

    assert '"catalog_product"."is_active" = ' in sql
    assert True in params


@pytest.mark.django_db(databases="__all__")
def test_the_storefront_list_walks_its_index_in_order_on_sqlite(sqlite):
    page = product_rows(product_list())[40:60]

    plan = query_plan(sqlite, page)

    # Written `WHERE "is_active"`, SQLite scanned the table and sorted every active
    # product for each page ("SCAN ... USE TEMP B-TREE FOR ORDER BY").
    assert "catalog_prod_active_name" in plan
    assert "(is_active=?)" in plan
    assert "TEMP B-TREE" not in plan


@pytest.mark.django_db(databases="__all__")
def test_boolean_filters_still_select_the_same_rows_on_sqlite(sqlite):
    active = Product.objects.create(
        sku="A-1", slug="a-1", name="Active", price="1.00", tax_rate="0.21", stock=1
    )
    inactive = Product.objects.create(
        sku="I-1",
        slug="i-1",
        name="Inactive",
        price="1.00",
        tax_rate="0.21",
        stock=1,
        is_active=False,
    )

    assert list(Product.objects.filter(is_active=True)) == [active]
    assert list(Product.objects.filter(is_active=False)) == [inactive]
    assert list(Product.objects.exclude(is_active=True)) == [inactive]
