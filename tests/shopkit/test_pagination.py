"""shopkit.pagination.cached_count: exact when small, kept when large, counted once at a time."""

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from rest_framework.request import Request
from rest_framework.test import APIRequestFactory
from rest_framework.utils.urls import remove_query_param, replace_query_param

from shopkit import pagination


class FakeQuery:
    def __init__(self, sql):
        self.sql = sql

    def sql_with_params(self):
        return self.sql, ()


class CountingQueryset:
    """Stands in for a QuerySet: `rows` rows, every count recorded (and slow)."""

    db = "ecommerce"

    def __init__(self, rows: int, *, sql="SELECT 1", delay=0.0):
        self.rows, self.delay = rows, delay
        self.query = FakeQuery(sql)
        self.bounded_counts = self.exact_counts = 0
        self._limit = None

    def order_by(self):
        return self

    def __getitem__(self, item):
        bounded = CountingQueryset(self.rows)
        bounded.query, bounded._limit, bounded.parent = self.query, item.stop, self
        return bounded

    def count(self):
        time.sleep(getattr(self, "parent", self).delay)
        if self._limit is not None:
            self.parent.bounded_counts += 1
            return min(self.rows, self._limit)
        self.exact_counts += 1
        return self.rows


@pytest.fixture(autouse=True)
def fresh(monkeypatch):
    monkeypatch.setattr(pagination, "EXACT_COUNT_LIMIT", 10)
    pagination.forget_cached_counts()
    yield
    pagination.forget_cached_counts()


def test_small_counts_are_exact_every_time():
    queryset = CountingQueryset(7)
    assert [pagination.cached_count(queryset) for _ in range(3)] == [7, 7, 7]
    assert (queryset.bounded_counts, queryset.exact_counts) == (3, 0)


def test_large_counts_are_kept_until_they_expire(monkeypatch):
    queryset = CountingQueryset(50)
    assert pagination.cached_count(queryset) == 50
    queryset.rows = 60
    assert pagination.cached_count(queryset) == 50  # kept
    assert (queryset.bounded_counts, queryset.exact_counts) == (1, 1)
    monkeypatch.setattr(pagination, "COUNT_TTL_SECONDS", 0)
    assert pagination.cached_count(queryset) == 60
    queryset.rows = 3  # small again: exact, and no longer kept
    assert pagination.cached_count(queryset) == 3
    monkeypatch.setattr(pagination, "COUNT_TTL_SECONDS", 10)
    queryset.rows = 4
    assert pagination.cached_count(queryset) == 4


def test_other_queries_have_their_own_counts():
    assert pagination.cached_count(CountingQueryset(50, sql="A")) == 50
    assert pagination.cached_count(CountingQueryset(70, sql="B")) == 70
    assert pagination.cached_count(CountingQueryset(99, sql="A")) == 50


def test_a_burst_of_requests_counts_a_big_table_once():
    queryset = CountingQueryset(500, delay=0.2)
    start = threading.Barrier(8)

    def read():
        start.wait()
        return pagination.cached_count(queryset)

    with ThreadPoolExecutor(8) as pool:
        assert list(pool.map(lambda _: read(), range(8))) == [500] * 8
    assert queryset.exact_counts == 1


def test_a_stale_count_is_recounted_by_one_request_while_the_others_use_it(monkeypatch):
    queryset = CountingQueryset(500)
    assert pagination.cached_count(queryset) == 500
    monkeypatch.setattr(pagination, "COUNT_TTL_SECONDS", 0)
    queryset.rows, queryset.delay = 600, 0.3
    start = threading.Barrier(6)

    def read():
        start.wait()
        return pagination.cached_count(queryset)

    with ThreadPoolExecutor(6) as pool:
        answers = list(pool.map(lambda _: read(), range(6)))
    assert sorted(answers) == [500] * 5 + [600]
    assert queryset.exact_counts == 2


def wait_for_refreshes():
    for thread in threading.enumerate():
        if thread.name == "shopkit-refresh":
            thread.join(5)


def test_a_count_past_its_refresh_time_is_recounted_in_the_background(monkeypatch):
    queryset = CountingQueryset(500)
    assert pagination.cached_count(queryset) == 500
    # Past REFRESH_AHEAD of its time (here: at once), not yet expired.
    monkeypatch.setattr(pagination, "REFRESH_AHEAD", 0)
    queryset.rows, queryset.delay = 600, 0.3
    started = time.monotonic()
    answers = [pagination.cached_count(queryset) for _ in range(5)]
    # Nobody waited for the recount: every answer is the kept count, at once ...
    assert answers == [500] * 5 and time.monotonic() - started < 0.25
    wait_for_refreshes()
    # ... counted once, in the background, and kept from then on.
    assert queryset.exact_counts == 2
    monkeypatch.setattr(pagination, "REFRESH_AHEAD", 0.8)
    assert pagination.cached_count(queryset) == 600
    assert queryset.exact_counts == 2


def test_a_kept_page_past_its_refresh_time_is_recomputed_in_the_background(monkeypatch):
    computed = []

    def compute(value, delay=0.0):
        time.sleep(delay)
        computed.append(value)
        return [value]

    assert pagination.kept_page("k", lambda: compute(1)) == [1]
    monkeypatch.setattr(pagination, "REFRESH_AHEAD", 0)
    started = time.monotonic()
    assert [pagination.kept_page("k", lambda: compute(2, 0.3)) for _ in range(4)] == [[1]] * 4
    assert time.monotonic() - started < 0.25
    wait_for_refreshes()
    monkeypatch.setattr(pagination, "REFRESH_AHEAD", 0.8)
    assert pagination.kept_page("k", lambda: compute(3)) == [2]
    assert computed == [1, 2]


def test_each_kind_of_page_is_kept_apart(monkeypatch):
    monkeypatch.setattr(pagination, "MAX_KEPT_PAGES", 2)
    assert pagination.kept_page("k", lambda: ["search"]) == ["search"]
    # A crawler walking many pages of a list evicts only the list's oldest pages ...
    for number in range(5):
        assert pagination.kept_page(f"k{number}", lambda n=number: [n], kind="list") == [number]
    assert pagination.kept_page("k", lambda: ["again"]) == ["search"]
    # ... and the same key of another kind is a page of its own.
    assert pagination.kept_page("k", lambda: ["list"], kind="list") == ["list"]
    assert pagination.kept_page("k4", lambda: ["again"], kind="list") == [4]
    assert pagination.kept_page("k0", lambda: ["again"], kind="list") == ["again"]


def test_a_failed_refresh_keeps_the_kept_value_and_is_tried_again(monkeypatch):
    assert pagination.kept_page("k", lambda: [1]) == [1]
    monkeypatch.setattr(pagination, "REFRESH_AHEAD", 0)

    def fail():
        raise RuntimeError("the database went away")

    assert pagination.kept_page("k", fail) == [1]
    wait_for_refreshes()
    assert pagination.kept_page("k", lambda: [2]) == [1]  # tried again, in the background
    wait_for_refreshes()
    monkeypatch.setattr(pagination, "REFRESH_AHEAD", 0.8)
    assert pagination.kept_page("k", lambda: [3]) == [2]


@pytest.mark.django_db(databases=["default"])
def test_inside_a_transaction_the_request_refreshes_it_itself(monkeypatch):
    # Another connection could not see this transaction's rows: no background refresh.
    from django.db import connections

    connections["default"].ensure_connection()
    assert connections["default"].in_atomic_block
    assert pagination.kept_page("k", lambda: [1]) == [1]
    monkeypatch.setattr(pagination, "REFRESH_AHEAD", 0)
    assert pagination.kept_page("k", lambda: [2]) == [2]
    assert not [t for t in threading.enumerate() if t.name == "shopkit-refresh"]


@pytest.mark.parametrize(
    "query",
    [
        "",
        "page=2",
        "page=3&page_size=20",
        "page_size=5&page=2&search=blue%20kettle",
        "category=a&category=b&page=4",
        "empty=&page=2&z=%C3%B1",
        "page=2&page=3",
    ],
)
@pytest.mark.parametrize("number", [1, 2, 7])
def test_page_links_are_drfs(query, number):
    request = Request(APIRequestFactory().get(f"/api/v1/things/?{query}"))
    url = request.build_absolute_uri()
    expected = (
        remove_query_param(url, "page") if number == 1 else replace_query_param(url, "page", number)
    )
    paginator = pagination.PageNumberPagination()
    paginator.request = request
    for _ in range(2):  # parsed once, reused
        assert paginator._page_link(number) == expected
