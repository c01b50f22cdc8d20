"""shopkit.db.mysql: a kept connection is pinged before a request only after it idled."""

import time

import MySQLdb
import pytest
from django.db import connections

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
