"""Every read of the catalog. Hot paths cost a fixed number of queries (no per-row ones)."""

import threading
from collections.abc import Iterable

from django.conf import settings
from django.db import router
from django.db.models import QuerySet, Sum
from django.db.models.functions import Coalesce

from catalog.errors import reservation_not_found
from catalog.models import Category, Product, Reservation, ReservationLine, TaxRate
from shopkit import pagination
from shopkit.prepared import PreparedPages, PreparedValuesQuery, RawRows

INTERNAL_PRODUCT_FIELDS = (
    "id",
    "sku",
    "name",
    "slug",
    "price",
    "tax_rate",
    "tax_class",
    "stock",
    "is_active",
    "weight",
)
# The columns behind the public product JSON (serializers.product_representation).
PUBLIC_PRODUCT_FIELDS = (
    "id",
    "sku",
    "slug",
    "name",
    "description",
    "category_id",
    "price",
    "tax_rate",
    "tax_class",
    "stock",
    "is_active",
    "image_url",
    "weight",
    "created_at",
    "updated_at",
)


def user_sees_inactive_products(user) -> bool:
    """Staff who manage the catalog or read it for orders also see inactive products."""
    return bool(
        user
        and user.is_authenticated
        and (user.has_perm("catalog.view_product") or user.has_perm("catalog.change_product"))
    )


def category_list() -> QuerySet[Category]:
    return Category.objects.order_by("name", "id")


def category_rows(categories: QuerySet[Category]) -> QuerySet:
    """The public columns of `categories` as dicts (serializers.category_representation)."""
    return categories.values("id", "name", "slug", "parent_id")


# The whole category table, the categories list's only query (compiled once).
_CATEGORY_ROWS = PreparedValuesQuery(lambda: category_rows(category_list()), arguments=())


def category_rows_all() -> RawRows:
    """category_rows(category_list()): every category, in the list's order, as the
    driver's tuples (`as_dict` makes one the dict; serializers.category_json keeps
    each text by its tuple)."""
    return _CATEGORY_ROWS.raw_rows()


def category_subtree_ids(*, slug: str) -> list[int]:
    """Ids of the category `slug` and all its descendants ([] when no such category).

    The category table is small: one query loads it and the tree is walked in
    memory, however deep it is.
    """
    rows = list(Category.objects.values_list("id", "parent_id", "slug"))
    root_ids = [category_id for category_id, _, category_slug in rows if category_slug == slug]
    if not root_ids:
        return []
    children: dict[int, list[int]] = {}
    for category_id, parent_id, _ in rows:
        if parent_id is not None:
            children.setdefault(parent_id, []).append(category_id)
    subtree, pending = [], [root_ids[0]]
    while pending:
        category_id = pending.pop()
        if category_id in subtree:  # defensive: the model refuses cycles
            continue
        subtree.append(category_id)
        pending.extend(children.get(category_id, ()))
    return subtree


def product_list(*, include_inactive: bool = False) -> QuerySet[Product]:
    """Products for the API, default order name then id (stable pages)."""
    products = Product.objects.order_by("name", "id")
    if not include_inactive:
        products = products.filter(is_active=True)
    return products


def product_rows(products: QuerySet[Product]) -> QuerySet:
    """The public columns of `products` as dicts (no model instances on the hot reads)."""
    return products.values(*PUBLIC_PRODUCT_FIELDS)


MAX_PRODUCT_ID = 2**63 - 1  # a BigAutoField

# A product page is the hottest read: its query is compiled once (shopkit.prepared).
_ACTIVE_PRODUCT_ROW = PreparedValuesQuery(
    lambda product_id: product_rows(product_list().filter(pk=product_id)),
    arguments=("product_id",),
)
_ANY_PRODUCT_ROW = PreparedValuesQuery(
    lambda product_id: product_rows(product_list(include_inactive=True).filter(pk=product_id)),
    arguments=("product_id",),
)


# The storefront's plain list (no filter, default order), browsed page by page.
_ACTIVE_PRODUCT_ROWS = PreparedValuesQuery(lambda: product_rows(product_list()), arguments=())
_ANY_PRODUCT_ROWS = PreparedValuesQuery(
    lambda: product_rows(product_list(include_inactive=True)), arguments=()
)


# The same list's ids only: the (is_active, name, id) index alone answers them.
_ACTIVE_PRODUCT_IDS = PreparedValuesQuery(lambda: product_list().values("id"), arguments=())
_ANY_PRODUCT_IDS = PreparedValuesQuery(
    lambda: product_list(include_inactive=True).values("id"), arguments=()
)

# From this row on, a page of the plain list reads its ids first, then their rows by
# primary key. For every row an OFFSET skips, MariaDB reads the row itself too (the
# page's columns are not in the index): at 100,000 products a page 200 rows in cost
# it 0.65 ms against 0.39 ms for ids then rows, and 90,000 rows in 205 ms against
# 14 ms (bench/README.md, ninth pass). Shallower pages are cheaper as one query.
DEEP_PAGE_OFFSET = 200

# A storefront list of more than this many products keeps its pages' ids from row
# KEPT_PAGE_OFFSET on (ProductPages). At 100,000 products a page 180 rows in cost
# MariaDB 0.70 ms as one query, 0.20 ms by id, and the list served half the requests
# it serves at 2,000; at 2,000 the kept ids save about what they cost (0.12 ms of
# MariaDB against 0.08 ms of Python a page), and the list stays exact.
# Reading 20 rows by id costs about what one query costs 40 rows in (0.2-0.25 ms),
# plus 0.08 ms of Python for the ids, so the first two pages stay one query.
KEEP_PAGES_ABOVE = 10_000
KEPT_PAGE_OFFSET = 40


class ProductPages(PreparedPages):
    """The plain list's pages (product_pages): one prepared query each, or, from
    DEEP_PAGE_OFFSET on, the page's ids and then its rows by id, in the same order.

    A large storefront list (more than KEEP_PAGES_ABOVE products; its count is kept
    too) keeps the ids of each page from KEPT_PAGE_OFFSET on, as a search does
    (pagination.kept_page, apart from the searches' pages): such a page then costs
    one query by primary key, however deep it is. Its rows are read
    fresh, so price, stock and deactivation show at once; which products are on the
    page may lag by pagination.PAGE_TTL_SECONDS. Staff lists and small lists read
    their pages every time.
    """

    def __init__(self, *, include_inactive: bool, raw: bool):
        query = _ANY_PRODUCT_ROWS if include_inactive else _ACTIVE_PRODUCT_ROWS
        super().__init__(query, {}, raw=raw)
        self.include_inactive = include_inactive
        self._count: int | None = None

    def count(self) -> int:
        if self._count is None:  # asked by the paginator, then by __getitem__
            self._count = super().count()
        return self._count

    def __getitem__(self, item: slice) -> list:
        if not isinstance(item, slice):
            return super().__getitem__(item)  # refused there
        start = item.start or 0
        if item.step is not None or item.stop is None or item.stop < start:
            raise ValueError("ProductPages needs a slice from start to stop")
        if (
            start >= KEPT_PAGE_OFFSET
            and not self.include_inactive
            and self.count() > max(KEEP_PAGES_ABOVE, pagination.EXACT_COUNT_LIMIT)
        ):
            ids = pagination.kept_page(
                f"{start}:{item.stop}:{_ACTIVE_PRODUCT_IDS.key()}",
                lambda: self._ids(start, item.stop),
                kind="catalog-list",
            )
        elif start < DEEP_PAGE_OFFSET:
            return super().__getitem__(item)
        else:
            ids = self._ids(start, item.stop)
        # A product deactivated (or deleted) between the two reads is left out, as it
        # would be from a page read a moment later.
        rows = products_raw_rows_in_order(ids=ids, include_inactive=self.include_inactive)
        return rows if self.raw else [rows.as_dict(raw) for raw in rows]

    def _ids(self, start: int, stop: int) -> list[int]:
        ids_query = _ANY_PRODUCT_IDS if self.include_inactive else _ACTIVE_PRODUCT_IDS
        return [raw[0] for raw in ids_query.raw_page(limit=stop - start, offset=start)]


class FilteredProductRows:
    """product_rows of a filtered or ordered list, for a paginator: from DEEP_PAGE_OFFSET
    on, a page reads its ids in the list's order (an index answers them alone for the
    orderings the storefront uses: name, price, created_at), then their rows."""

    ordered = True

    def __init__(self, products: QuerySet[Product]):
        self.products = products

    def count(self) -> int:
        return pagination.cached_count(self.products)

    def __getitem__(self, item: slice) -> list[dict]:
        if (item.start or 0) < DEEP_PAGE_OFFSET:
            return list(product_rows(self.products)[item])
        ids = list(self.products.values_list("id", flat=True)[item])
        # The same filters again: a product that stopped matching meanwhile is left out.
        rows = {row["id"]: row for row in product_rows(self.products.filter(pk__in=ids))}
        return [rows[pk] for pk in ids if pk in rows]


def product_pages(*, include_inactive: bool = False, raw: bool = False) -> ProductPages:
    """product_rows(product_list(...)) for a paginator: a page is one prepared query, or
    two for a deep one (ProductPages); its rows the driver's tuples with `raw`
    (PreparedPages.as_dict converts one)."""
    return ProductPages(include_inactive=include_inactive, raw=raw)


def product_raw_rows(*, product_id: int, include_inactive: bool = False) -> RawRows:
    """The public columns of one product as the driver's tuple: no rows when unknown, or
    inactive and not included (`as_dict` makes the dict; product_json.from_raw finds
    its kept text, the list's too)."""
    if not 0 < product_id <= MAX_PRODUCT_ID:
        return RawRows.empty()  # no such id (and not a value to send to the database)
    query = _ANY_PRODUCT_ROW if include_inactive else _ACTIVE_PRODUCT_ROW
    return query.raw_rows(product_id=product_id)


# A search page's rows by id: one prepared query per number of ids (at most the
# largest page size, 100, per visibility), compiled the first time it is needed.
_ROWS_BY_IDS: dict[tuple[bool, int], PreparedValuesQuery] = {}


def _rows_by_ids_query(*, include_inactive: bool, count: int) -> PreparedValuesQuery:
    key = (include_inactive, count)
    query = _ROWS_BY_IDS.get(key)
    if query is None:
        query = _ROWS_BY_IDS.setdefault(
            key,
            PreparedValuesQuery(
                lambda **ids: product_rows(
                    product_list(include_inactive=include_inactive).filter(
                        pk__in=list(ids.values())
                    )
                ),
                arguments=tuple(f"id_{index}" for index in range(count)),
            ),
        )
    return query


def products_raw_rows_in_order(*, ids: Iterable[int], include_inactive: bool = False) -> RawRows:
    """The public columns of the products with these ids as the driver's tuples, in the
    order of `ids` (unknown ids, and inactive ones unless included, left out)."""
    ids = list(dict.fromkeys(ids))
    if not ids:
        return RawRows.empty()
    query = _rows_by_ids_query(include_inactive=include_inactive, count=len(ids))
    rows = query.raw_rows(**{f"id_{index}": pk for index, pk in enumerate(ids)})
    at = rows.columns.index("id")
    by_id = {raw[at]: raw for raw in rows}
    return RawRows([by_id[pk] for pk in ids if pk in by_id], rows.columns, rows.as_dict)


# Every cart read and cart write asks for this: compiled once per number of ids.
_PRODUCTS_BY_IDS = PreparedValuesQuery(
    lambda ids: Product.objects.filter(pk__in=ids).order_by("id").values(*INTERNAL_PRODUCT_FIELDS),
    arguments=("ids",),
)


def products_by_ids(*, ids: Iterable[int], country: str | None = None) -> list[dict]:
    """The internal batch lookup: inactive products included, unknown ids absent; one query.

    With a destination `country` (and TAX_BY_DESTINATION on) each row's `tax_rate` is
    that country's rate for the product's class: one more query.
    """
    wanted = sorted({product_id for product_id in ids if 0 < product_id <= MAX_PRODUCT_ID})
    return with_destination_tax_rates(_PRODUCTS_BY_IDS.rows(ids=wanted), country=country)


def destination_tax_rates(*, country: str | None, tax_classes: Iterable[str]) -> dict[str, object]:
    """The rate per tax class of `country` (classes without a row are absent).

    Empty unless TAX_BY_DESTINATION is on and a country is given: then the products'
    own `tax_rate` applies, exactly as before destination rates existed.
    """
    classes = set(tax_classes)
    if not (settings.TAX_BY_DESTINATION and country and classes):
        return {}
    return dict(
        TaxRate.objects.filter(country=country, tax_class__in=classes).values_list(
            "tax_class", "rate"
        )
    )


def with_destination_tax_rates(rows: list[dict], *, country: str | None) -> list[dict]:
    """Product rows (with tax_class and tax_rate) charged at the destination's rates."""
    rates = destination_tax_rates(country=country, tax_classes=(row["tax_class"] for row in rows))
    for row in rows:
        row["tax_rate"] = rates.get(row["tax_class"], row["tax_rate"])
    return rows


# A reservation LEFT JOIN its lines, by product (a reservation without lines, a
# tombstone, is one row of NULL lines): every checkout's commit reads it.
_RESERVATION_WITH_LINES = PreparedValuesQuery(
    lambda reference: (
        Reservation.objects.filter(reference=reference)
        .order_by("lines__product_id")
        .values(
            "reference",
            "state",
            "expires_at",
            "lines__id",
            "lines__product_id",
            "lines__sku",
            "lines__name",
            "lines__unit_price",
            "lines__tax_rate",
            "lines__quantity",
            "lines__weight",
        )
    ),
    arguments=("reference",),
)


def reservation_rows(*, reference: str) -> list[dict]:
    """A reservation joined to its lines, one row per line ([] when unknown); one query,
    compiled once per process (serializers.reservation_rows_representation shapes it)."""
    return _RESERVATION_WITH_LINES.rows(reference=reference)


def reservation_detail_rows(*, reference: str) -> list[dict]:
    """The same; a 404 problem when unknown."""
    rows = reservation_rows(reference=reference)
    if not rows:
        raise reservation_not_found(reference)
    return rows


def reservations_held() -> dict:
    """Reservations still holding stock (reserved, not yet committed or released): count and units."""
    held = Reservation.objects.filter(state=Reservation.State.RESERVED)
    return {
        "reservations": held.count(),
        "units": ReservationLine.objects.filter(reservation__in=held).aggregate(
            units=Coalesce(Sum("quantity"), 0)
        )["units"],
    }


class SearchIdPages:
    """The ids of the products matching a `search` value, in relevance order, for a
    paginator: shopkit.pagination.KeptPages, kept under a key made of the value
    itself, so a request whose ids are kept builds and compiles no QuerySet at all.

    Up to EXACT_COUNT_LIMIT matches, one query reads all their ids (kept_page); a
    larger set is counted by cached_count and read page by page (each page kept).
    """

    ordered = True

    def __init__(self, *, search: str, include_inactive: bool, using: str | None = None):
        alias = using or router.db_for_read(Product)
        self._key = f"catalog-search:{alias}:{include_inactive}:{search}"
        self._search = search
        self._include_inactive = include_inactive
        self._alias = alias
        self._rows: list | None = None  # all of them, when there are few
        self._count: int | None = None

    def _ids(self) -> QuerySet:
        from catalog.filters import search_products  # filters imports this module

        products = product_list(include_inactive=self._include_inactive).using(self._alias)
        return search_products(products, self._search).values_list("id", flat=True)

    def _all_if_few(self) -> list | None:
        ids = list(self._ids()[: pagination.EXACT_COUNT_LIMIT + 1])
        if len(ids) <= pagination.EXACT_COUNT_LIMIT:
            return ids
        with _large_searches_lock:
            _large_searches[self._key] = None
            while len(_large_searches) > pagination.MAX_KEPT_PAGES:
                del _large_searches[next(iter(_large_searches))]  # the oldest
        return None

    def count(self) -> int:
        if self._count is None:
            if self._key not in _large_searches:
                ids = pagination.kept_page(f"all:{self._key}", self._all_if_few)
                if ids is not None:
                    self._rows, self._count = ids, len(ids)
                    return self._count
            self._count = pagination.cached_count(self._ids, key=f"count:{self._key}")
            if self._count <= pagination.EXACT_COUNT_LIMIT:
                with _large_searches_lock:  # small again: all its ids read at once again
                    _large_searches.pop(self._key, None)
        return self._count

    def __len__(self) -> int:
        return self.count()

    def __getitem__(self, item: slice) -> list:
        self.count()
        if self._rows is not None:
            return self._rows[item]
        return pagination.kept_page(
            f"page:{item.start}:{item.stop}:{self._key}", lambda: list(self._ids()[item])
        )


# Searches found to match more than EXACT_COUNT_LIMIT products: their ids are read
# page by page (never all at once again) until their count finds them small.
_large_searches: dict[str, None] = {}
_large_searches_lock = threading.Lock()
