"""shopkit.pagination.cached_count: exact when small, kept when large, counted once at a time."""

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

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
