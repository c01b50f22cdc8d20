"""Page-number pagination for every list, and the count that does not scan.

A big table's `COUNT(*)` walks every matching index entry on each request (at
100,000 products it cost more than the page itself). `CachedCountPaginator`
counts at most EXACT_COUNT_LIMIT + 1 rows; a list that small gets its exact
count, always. A larger one is counted exactly once and that count is kept in
the worker's memory for COUNT_TTL_SECONDS per query (filters included), so a
count above the limit may lag behind by that long.
"""

import hashlib

from django.core.cache.backends.locmem import LocMemCache
from django.core.exceptions import EmptyResultSet
from django.core.paginator import Paginator
from django.utils.functional import cached_property
from rest_framework.pagination import PageNumberPagination as DRFPageNumberPagination

EXACT_COUNT_LIMIT = 1000
COUNT_TTL_SECONDS = 10

# Per worker process: a bounded, thread-safe, expiring map of query -> count.
_counts = LocMemCache(
    "shopkit-counts", {"TIMEOUT": COUNT_TTL_SECONDS, "OPTIONS": {"MAX_ENTRIES": 500}}
)


def _count_key(queryset) -> str:
    sql, params = queryset.query.sql_with_params()
    return hashlib.blake2b(repr((queryset.db, sql, params)).encode(), digest_size=16).hexdigest()


def cached_count(queryset) -> int:
    """Exact up to EXACT_COUNT_LIMIT rows; above it, exact as of at most COUNT_TTL_SECONDS ago."""
    queryset = queryset.order_by()
    try:
        key = _count_key(queryset)
    except EmptyResultSet:  # a filter that matches nothing (e.g. pk__in=[])
        return 0
    count = _counts.get(key)
    if count is not None:
        return count
    # COUNT(*) over a LIMITed subquery: reads at most limit + 1 index entries.
    count = queryset[: EXACT_COUNT_LIMIT + 1].count()
    if count > EXACT_COUNT_LIMIT:
        count = queryset.count()
        _counts.set(key, count)
    return count


def forget_cached_counts() -> None:
    """Drop every kept count (tests)."""
    _counts.clear()


class CachedCountPaginator(Paginator):
    @cached_property
    def count(self):
        return cached_count(self.object_list)


class PageNumberPagination(DRFPageNumberPagination):
    """`page` and `page_size` (capped at 100, never an error for a larger one)."""

    page_size = 20
    page_size_query_param = "page_size"
    max_page_size = 100


class CachedCountPageNumberPagination(PageNumberPagination):
    """The same pages, counted by `cached_count` (lists of large, browsed tables)."""

    django_paginator_class = CachedCountPaginator
