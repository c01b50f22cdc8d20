"""Page-number pagination for every list, and the count that does not scan.

A big table's `COUNT(*)` walks every matching index entry on each request (at
100,000 products it cost more than the page itself). `CachedCountPaginator`
counts at most EXACT_COUNT_LIMIT + 1 rows; a list that small gets its exact
count, always. A larger one is counted exactly and that count is kept in the
worker's memory per query (filters included) for COUNT_TTL_SECONDS, after which
one request recounts while the others keep answering with the kept count: so a
count above the limit may lag behind by about that long, and a burst of
requests never counts the same big table at once.

Refreshed ahead: the first request that finds a kept count (or kept page) past
REFRESH_AHEAD of its time starts its recomputation in a thread of its own and
answers with the kept value, as every other request does meanwhile; so a
browsed query is recomputed before it expires and no request waits for it (that
wait was the p99 of the list and of search at 100,000 products). Only a value
nobody asked for during the last fifth of its time is recomputed by a request.
"""

import hashlib
import logging
import threading
import time
from urllib import parse

from django.core.exceptions import EmptyResultSet
from django.core.paginator import Paginator
from django.db import connections
from django.db.models import QuerySet
from django.http import HttpResponse
from django.utils.functional import cached_property
from rest_framework.pagination import PageNumberPagination as DRFPageNumberPagination

from shopkit.rendering import json_response, render_json

EXACT_COUNT_LIMIT = 1000
COUNT_TTL_SECONDS = 10
MAX_KEPT_COUNTS = 500
FIRST_COUNT_WAIT_SECONDS = 10
# The share of its time after which a kept count or page is recomputed ahead.
REFRESH_AHEAD = 0.8

logger = logging.getLogger(__name__)

# Per worker process: query key -> (count, when it was counted); and the keys
# being counted right now, with the event their other readers wait on.
_counts: dict[str, tuple[int, float]] = {}
_counting: dict[str, threading.Event] = {}
_lock = threading.Lock()


def _count_key(queryset) -> str:
    sql, params = queryset.query.sql_with_params()
    return hashlib.blake2b(repr((queryset.db, sql, params)).encode(), digest_size=16).hexdigest()


def _count(queryset, key: str) -> int:
    # COUNT(*) over a LIMITed subquery: reads at most limit + 1 index entries.
    count = queryset[: EXACT_COUNT_LIMIT + 1].count()
    with _lock:
        if count > EXACT_COUNT_LIMIT:
            count = None
        else:
            _counts.pop(key, None)  # small again: exact from now on
    if count is None:
        count = queryset.count()
        with _lock:
            _counts[key] = (count, time.monotonic())
            while len(_counts) > MAX_KEPT_COUNTS:
                del _counts[next(iter(_counts))]  # the oldest
    return count


def _refresh_ahead(key: str, running: dict, compute) -> bool:
    """`compute()` in a thread of its own, then `running[key]` dropped and set; False
    (nothing started) when this thread's database work is inside a transaction, whose
    rows another connection cannot see (ATOMIC_REQUESTS, tests): the caller then
    computes it itself."""
    if any(connection.in_atomic_block for connection in connections.all(initialized_only=True)):
        return False

    def run():
        try:
            compute()
        except Exception:  # the kept value stays; a later request tries again
            logger.exception("refreshing the kept %s failed", key)
        finally:
            with _lock:
                running.pop(key).set()
            connections.close_all()  # this thread's own connections only

    try:
        threading.Thread(target=run, name="shopkit-refresh", daemon=True).start()
    except RuntimeError:  # no thread to be had: the caller computes it
        return False
    return True


def _due_for_refresh(kept: tuple | None, ttl: float) -> bool:
    """A kept (value, time) still fresh but past REFRESH_AHEAD of `ttl`."""
    if kept is None:
        return False
    age = time.monotonic() - kept[1]
    return ttl * REFRESH_AHEAD <= age < ttl


def cached_count(queryset, *, key: str | None = None) -> int:
    """Exact up to EXACT_COUNT_LIMIT rows; above it, exact as of about COUNT_TTL_SECONDS ago.

    `key` names the query when the caller already has a name for it (a prepared
    query); `queryset` is then a function that builds the QuerySet, called only to
    count: compiling, even building, a QuerySet only to look up its kept count cost
    a tenth of a list's time.
    """
    if key is None:
        queryset = queryset.order_by()
        try:
            key = _count_key(queryset)
        except EmptyResultSet:  # a filter that matches nothing (e.g. pk__in=[])
            return 0
        build = lambda: queryset  # noqa: E731
    else:
        build = lambda: queryset().order_by()  # noqa: E731
    with _lock:
        kept = _counts.get(key)
        ahead = _due_for_refresh(kept, COUNT_TTL_SECONDS)
        if kept is not None and not ahead and time.monotonic() - kept[1] < COUNT_TTL_SECONDS:
            return kept[0]
        counting = _counting.get(key)
        if counting is None:
            _counting[key] = threading.Event()
    if counting is None and ahead and _refresh_ahead(key, _counting, lambda: _count(build(), key)):
        return kept[0]
    if counting is not None:
        if kept is not None:
            return kept[0]  # another thread is recounting: the kept count meanwhile
        counting.wait(FIRST_COUNT_WAIT_SECONDS)
        with _lock:
            kept = _counts.get(key)
        if kept is not None:
            return kept[0]
        return build()[: EXACT_COUNT_LIMIT + 1].count()  # small (or the counter failed)
    try:
        return _count(build(), key)
    finally:
        with _lock:
            _counting.pop(key).set()


def forget_cached_counts() -> None:
    """Drop every kept count and kept page (tests)."""
    with _lock:
        _counts.clear()
        _pages.clear()


# Pages of an expensive ordering (a FULLTEXT search sorted by relevance, a large list's
# OFFSET): which rows are on them, in which order, is kept per query for
# PAGE_TTL_SECONDS (a search's all of them up to EXACT_COUNT_LIMIT, else per page),
# recomputed then by one request while the others use the kept ids, as for the counts.
# Callers read the rows fresh (by id). Each kind of page is kept apart, at most
# MAX_KEPT_PAGES of each: a crawler walking a list's pages never evicts the searches'.
PAGE_TTL_SECONDS = 5
MAX_KEPT_PAGES = 300  # at most 1,001 ids each: a few MB
_pages: dict[str, dict[str, tuple[list, float]]] = {}  # kind -> key -> (page, when kept)
_paging: dict[str, threading.Event] = {}


def _keep_page(key: str, compute, kind: str) -> list:
    page = compute()
    with _lock:
        pages = _pages.setdefault(kind, {})
        pages.pop(key, None)  # kept anew: now the newest
        pages[key] = (page, time.monotonic())
        while len(pages) > MAX_KEPT_PAGES:
            del pages[next(iter(pages))]  # the oldest
    return page


def kept_page(key: str, compute, *, kind: str = "search") -> list:
    """`compute()`, kept under `key` for PAGE_TTL_SECONDS (one computation at a time),
    among the kept pages of its `kind`."""
    paging_key = f"{kind}:{key}"
    with _lock:
        kept = _pages.get(kind, {}).get(key)
        ahead = _due_for_refresh(kept, PAGE_TTL_SECONDS)
        if kept is not None and not ahead and time.monotonic() - kept[1] < PAGE_TTL_SECONDS:
            return kept[0]
        paging = _paging.get(paging_key)
        if paging is None:
            _paging[paging_key] = threading.Event()
    if (
        paging is None
        and ahead
        and _refresh_ahead(paging_key, _paging, lambda: _keep_page(key, compute, kind))
    ):
        return kept[0]
    if paging is not None:
        if kept is not None:
            return kept[0]  # another thread is recomputing it: the kept page meanwhile
        paging.wait(FIRST_COUNT_WAIT_SECONDS)
        with _lock:
            kept = _pages.get(kind, {}).get(key)
        return kept[0] if kept is not None else compute()
    try:
        return _keep_page(key, compute, kind)
    finally:
        with _lock:
            _paging.pop(paging_key).set()


class KeptPages:
    """An expensively ordered QuerySet (a search by relevance) for a Paginator.

    Up to EXACT_COUNT_LIMIT rows, one query reads them all (LIMIT limit + 1) and
    they are kept (kept_page): the count and every page come from them. A larger
    one is counted by cached_count and its pages are kept one by one. Either way a
    request whose ids are kept costs no query of them at all; which rows match
    may lag by PAGE_TTL_SECONDS (the count of a large one by COUNT_TTL_SECONDS).
    """

    ordered = True

    def __init__(self, queryset: QuerySet):
        self.queryset = queryset
        self._rows: list | None = None  # all of them, when there are few
        self._count: int | None = None

    def count(self) -> int:
        if self._count is None:
            try:
                key = _count_key(self.queryset.order_by())
            except EmptyResultSet:  # a filter that matches nothing
                self._rows, self._count = [], 0
                return 0
            with _lock:
                known_large = key in _counts
            if not known_large:
                rows = kept_page(f"all:{_count_key(self.queryset)}", self._all_if_few)
                if rows is not None:
                    self._rows, self._count = rows, len(rows)
                    return self._count
            self._count = cached_count(self.queryset)
        return self._count

    def _all_if_few(self) -> list | None:
        rows = list(self.queryset[: EXACT_COUNT_LIMIT + 1])
        return rows if len(rows) <= EXACT_COUNT_LIMIT else None  # None: a large one

    def __getitem__(self, item: slice) -> list:
        self.count()
        if self._rows is not None:
            return self._rows[item]
        page = self.queryset[item]
        return kept_page(_count_key(page), lambda: list(page))


class CachedCountPaginator(Paginator):
    @cached_property
    def count(self):
        if isinstance(self.object_list, QuerySet):
            return cached_count(self.object_list)
        return super().count  # e.g. shopkit.prepared.PreparedPages: counts itself


class PageNumberPagination(DRFPageNumberPagination):
    """`page` and `page_size` (capped at 100, never an error for a larger one)."""

    page_size = 20
    page_size_query_param = "page_size"
    max_page_size = 100

    def get_next_link(self) -> str | None:
        if not self.page.has_next():
            return None
        return self._page_link(self.page.next_page_number())

    def get_previous_link(self) -> str | None:
        if not self.page.has_previous():
            return None
        return self._page_link(self.page.previous_page_number())

    def _page_link(self, number: int) -> str:
        """DRF's link to page `number` (the first without `page`): the request's URL built
        and parsed once for both links, not once each (DRF's replace_query_param)."""
        parsed = getattr(self.request, "_page_link_parts", None)
        if parsed is None:
            scheme, netloc, path, query, fragment = parse.urlsplit(
                self.request.build_absolute_uri()
            )
            parsed = (scheme, netloc, path, parse.parse_qs(query, keep_blank_values=True), fragment)
            self.request._page_link_parts = parsed
        scheme, netloc, path, query, fragment = parsed
        query = {**query, self.page_query_param: [str(number)]}
        if number == 1:
            del query[self.page_query_param]
        return parse.urlunsplit(
            (scheme, netloc, path, parse.urlencode(sorted(query.items()), doseq=True), fragment)
        )

    def get_paginated_json_response(self, results: list[bytes]) -> HttpResponse:
        """What get_paginated_response answers, byte for byte, from results already
        rendered one by one (shopkit.rendering.render_json): no renderer walks them again."""
        head = render_json(
            {
                "count": self.page.paginator.count,
                "next": self.get_next_link(),
                "previous": self.get_previous_link(),
            }
        )
        return json_response(b"".join((head[:-1], b',"results":[', b",".join(results), b"]}")))


class CachedCountPageNumberPagination(PageNumberPagination):
    """The same pages, counted by `cached_count` (lists of large, browsed tables)."""

    django_paginator_class = CachedCountPaginator
