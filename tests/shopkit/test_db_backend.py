"""shopkit.db.mysql: a kept connection is pinged before a request only after it idled."""

import time
from datetime import datetime

import MySQLdb
import pytest
from django.db import connections
from django.utils import timezone
from MySQLdb.times import DateTime_or_None

from shopkit.db.mysql.base import datetime_from_text

pytestmark = pytest.mark.django_db(databases="__all__", transaction=True)


@pytest.fixture
def connection():
    connection = connections["ecommerce"]
    if connection.vendor != "mysql":
        pytest.skip("the backend is MySQL/MariaDB's")
    connection.ensure_connection()
    assert connection.health_check_enabled
    return connection


@pytest.fixture
def pings(connection, monkeypatch):
    """How many times the connection was checked (Django's is_usable: a ping)."""
    calls = []
    is_usable = connection.is_usable
    monkeypatch.setattr(connection, "is_usable", lambda: calls.append(1) or is_usable())
    return calls


def first_query_of_a_request(connection) -> int:
    connection.close_if_unusable_or_obsolete()  # what request_started does
    with connection.cursor() as cursor:
        cursor.execute("SELECT CONNECTION_ID()")
        return cursor.fetchone()[0]


def test_a_connection_used_within_the_idle_time_is_not_pinged(connection, pings):
    first_query_of_a_request(connection)
    first_query_of_a_request(connection)
    assert pings == []


def test_a_connection_idle_for_longer_is_pinged_once_per_request(connection, pings):
    connection.health_checked_at = time.monotonic() - connection.health_check_after_idle - 1
    first_query_of_a_request(connection)
    with connection.cursor() as cursor:  # the request's next query: no second ping
        cursor.execute("SELECT 1")
    assert pings == [1]


def test_a_connection_the_server_dropped_while_idle_is_replaced(connection):
    dropped = first_query_of_a_request(connection)
    params = connection.get_connection_params()
    admin = MySQLdb.connect(**{k: v for k, v in params.items() if k != "conv"})
    try:
        admin.cursor().execute(f"KILL CONNECTION {dropped}")
    finally:
        admin.close()
    connection.health_checked_at = time.monotonic() - connection.health_check_after_idle - 1

    assert first_query_of_a_request(connection) != dropped


def test_a_connection_that_saw_an_error_is_pinged(connection, pings):
    first_query_of_a_request(connection)
    connection.errors_occurred = True  # a statement failed (not a DataError/IntegrityError)
    connection.health_check_done = False  # the request's first query comes next
    connection.close_if_health_check_failed()
    assert pings == [1]


@pytest.mark.parametrize(
    "text",
    [
        "2026-12-07 09:20:13.123456",
        "2026-12-07 09:20:13",
        "2026-12-07 09:20:13.5",
        "2026-12-07 09:20:13.000123",
        "1000-01-01 00:00:00",
        "9999-12-31 23:59:59.999999",
        "0000-00-00 00:00:00",
        "2026-00-00 00:00:00",
    ],
)
def test_date_times_are_read_as_mysqlclient_reads_them(text):
    assert datetime_from_text(text) == DateTime_or_None(text)


def test_date_time_columns_come_back_as_django_gives_them(connection):
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT CAST('2026-12-07 09:20:13.123456' AS DATETIME(6)),"
            " CAST('2026-12-07 09:20:13' AS DATETIME), CAST(NULL AS DATETIME)"
        )
        assert cursor.fetchone() == (
            datetime(2026, 12, 7, 9, 20, 13, 123456),
            datetime(2026, 12, 7, 9, 20, 13),
            None,
        )


def test_date_times_are_made_aware_as_django_makes_them(connection):
    naive = datetime(2026, 12, 7, 9, 20, 13, 123456)
    converted = connection.ops.convert_datetimefield_value(naive, None, connection)
    assert converted == timezone.make_aware(naive, connection.timezone)
    assert converted.tzinfo is connection.timezone
    assert connection.ops.convert_datetimefield_value(None, None, connection) is None
