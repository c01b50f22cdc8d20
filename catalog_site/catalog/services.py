"""Every write of the catalog: categories, products, stock and reservations.

Stock only moves in one of two ways, always inside one transaction on ecommerce_db:
a conditional `UPDATE … SET stock = stock - n WHERE stock >= n` (reservations,
adjustments), or under a row lock (`select_for_update`) when staff set a value.
Rows are always locked in the same order (the reservation row first, then products
by ascending id), so concurrent reservations neither oversell nor deadlock each
other; a deadlock or lock wait timeout that happens anyway is retried a few times
and then becomes a 503 problem, never a 500.
"""

import functools
import logging
import secrets
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any, ParamSpec, TypeVar

from django.conf import settings
from django.db import IntegrityError, OperationalError, transaction
from django.db.models import F, ProtectedError
from django.utils import timezone
from django.utils.text import slugify

from catalog.errors import CatalogErrorCode, reservation_not_found
from catalog.models import (
    MAX_STOCK,
    PRODUCT_EDITABLE_FIELDS,
    Category,
    Product,
    Reservation,
    ReservationLine,
)
from catalog.selectors import reservation_rows, with_destination_tax_rates
from shopkit.errors import ApplicationError
from shopkit.prepared import PreparedInsert, PreparedValuesQuery, PreparedWrite
from shopkit.routers import ECOMMERCE_DB

logger = logging.getLogger("catalog.services")

T = TypeVar("T")
P = ParamSpec("P")

# MySQL/MariaDB error numbers: lock wait timeout, deadlock. InnoDB rolls the
# transaction back; running it again from the start is safe.
LOCK_CONFLICT_ERRORS = frozenset({1205, 1213})
LOCK_RETRY_ATTEMPTS = 4
LOCK_RETRY_BACKOFF_SECONDS = 0.05

RESERVATION_MAX_TTL_SECONDS = 3600  # docs/internal-api.md

CATEGORY_EDITABLE_FIELDS = frozenset({"name", "slug", "parent"})


def _is_lock_conflict(exc: OperationalError) -> bool:
    return bool(exc.args) and exc.args[0] in LOCK_CONFLICT_ERRORS


def retried_on_lock_conflict(service: Callable[P, T]) -> Callable[P, T]:
    """Decorate a service whose body is one whole transaction: run it again when MySQL
    reports a deadlock or a lock wait timeout; after the last attempt answer 503
    `stock_busy`.

    Inside a caller's transaction nothing can be retried (InnoDB already rolled it
    back), so the 503 comes at once.
    """

    @functools.wraps(service)
    def run(*args: P.args, **kwargs: P.kwargs) -> T:
        return run_with_lock_retries(functools.partial(service, *args, **kwargs))

    return run


def run_with_lock_retries(operation: Callable[[], T]) -> T:
    """The same for one call of `operation` (no arguments, one whole transaction)."""
    for attempt in range(1, LOCK_RETRY_ATTEMPTS + 1):
        try:
            return operation()
        except OperationalError as exc:
            if not _is_lock_conflict(exc):
                raise
            in_outer_transaction = transaction.get_connection(ECOMMERCE_DB).in_atomic_block
            retrying = attempt < LOCK_RETRY_ATTEMPTS and not in_outer_transaction
            logger.warning(
                "lock conflict",
                extra={"attempt": attempt, "mysql_error": exc.args[0], "retrying": retrying},
            )
            if not retrying:
                raise ApplicationError(
                    "The stock is busy right now; nothing was changed. Retry shortly.",
                    code=CatalogErrorCode.STOCK_BUSY,
                    status=503,
                ) from exc
            # Jitter, so the transactions that collided do not collide again in step.
            jitter = secrets.randbelow(1000) / 1000
            time.sleep(LOCK_RETRY_BACKOFF_SECONDS * attempt * (1 + jitter))
    raise AssertionError("unreachable")


# --- Categories ---------------------------------------------------------------------


def category_create(*, name: str, slug: str = "", parent: Category | None = None) -> Category:
    """Create a category; the slug defaults to the slugified name."""
    category = Category(name=name, slug=slug or slugify(name)[:140], parent=parent)
    category.full_clean()
    with transaction.atomic(using=ECOMMERCE_DB):
        category.save()
    return category


def category_update(*, category_id: int, data: Mapping[str, Any]) -> Category:
    """Change a category's name, slug or parent (never making the tree a cycle)."""
    unknown = set(data) - CATEGORY_EDITABLE_FIELDS
    if unknown:
        raise ValueError(f"not editable: {sorted(unknown)}")
    with transaction.atomic(using=ECOMMERCE_DB):
        if "parent" in data:
            # Moves are serialized (the table is small), so two concurrent moves
            # cannot each pass the cycle check and together make a cycle.
            list(Category.objects.select_for_update().order_by("id").values_list("id"))
        category = Category.objects.select_for_update().get(pk=category_id)
        for field, value in data.items():
            setattr(category, field, value)
        category.full_clean()
        category.save(update_fields=list(data))
    return category


def category_delete(*, category_id: int) -> None:
    """Delete an empty category; one with subcategories or products is refused (409)."""
    in_use = ApplicationError(
        "The category still has subcategories or products; move them first.",
        code=CatalogErrorCode.CATEGORY_IN_USE,
        status=409,
    )
    with transaction.atomic(using=ECOMMERCE_DB):
        category = Category.objects.select_for_update().get(pk=category_id)
        if category.children.exists() or category.products.exists():
            raise in_use
        try:
            category.delete()
        except ProtectedError:  # a product or subcategory arrived meanwhile
            raise in_use from None


# --- Products -----------------------------------------------------------------------


def default_product_slug(*, name: str, sku: str) -> str:
    return slugify(f"{name} {sku}")[:200]


def _check_editable(names: Iterable[str]) -> None:
    unknown = set(names) - set(PRODUCT_EDITABLE_FIELDS)
    if unknown:
        raise ValueError(f"not editable: {sorted(unknown)}")


def product_build(*, data: Mapping[str, Any], product: Product | None = None) -> Product:
    """`data` (editable fields; `category_id` may stand for `category`) applied to
    `product`, or to a new one with the model's defaults; not validated, not saved.

    A new product without a slug gets the slugified name and sku.
    """
    _check_editable("category" if name == "category_id" else name for name in data)
    product = Product() if product is None else product
    for name, value in data.items():
        setattr(product, name, value)
    if product.pk is None and not product.slug:
        product.slug = default_product_slug(name=product.name, sku=product.sku)
    return product


def product_full_clean(product: Product, *, checked_in_bulk: bool = False) -> None:
    """The rules every product write passes (the model's fields, limits and clean()).

    `checked_in_bulk`: the caller (the CSV import) checks, for many rows at once,
    what costs a query per product here: sku and slug uniqueness and that the
    category exists. The CHECK constraints repeat the fields' validators, so those
    are skipped too rather than run as one query each.
    """
    if checked_in_bulk:
        product.full_clean(exclude=["category"], validate_unique=False, validate_constraints=False)
    else:
        product.full_clean()


def _stale_stock_error(*, expected: int, current: int) -> ApplicationError:
    return ApplicationError(
        f"The stock changed from {expected} to {current} while you were editing "
        "(orders or another user); check the new value and save again.",
        code=CatalogErrorCode.STALE_STOCK,
        status=409,
        extra={"expected_stock": expected, "stock": current},
    )


def product_create(*, data: Mapping[str, Any]) -> Product:
    """Create a product from its editable fields; the slug defaults to the slugified
    name and sku, omitted fields to the model's defaults."""
    product = product_build(data=data)
    product_full_clean(product)
    with transaction.atomic(using=ECOMMERCE_DB):
        product.save()
    return product


@retried_on_lock_conflict
def product_update(
    *, product_id: int, data: Mapping[str, Any], expected_stock: int | None = None
) -> Product:
    """Change the given fields of a product, stock included, under a row lock.

    Only the fields in `data` are written, so a stale form never overwrites the
    stock that reservations moved meanwhile. `expected_stock` is the stock the
    writer last saw: when the stock is no longer that, nothing is written and the
    answer is a 409 `stale_stock` (the admin always sends it with a stock edit; API
    callers may). Without it, setting `stock` waits for running reservations of
    that product and then wins.
    """
    _check_editable(data)
    with transaction.atomic(using=ECOMMERCE_DB):
        product = Product.objects.select_for_update().get(pk=product_id)
        if expected_stock is not None and product.stock != expected_stock:
            raise _stale_stock_error(expected=expected_stock, current=product.stock)
        product_build(data=data, product=product)
        product_full_clean(product)
        product.save(update_fields=[*data, "updated_at"])
    return product


@retried_on_lock_conflict
def product_adjust_stock(*, product_id: int, delta: int) -> Product:
    """Add `delta` units (negative: remove them) in one conditional UPDATE.

    Unlike setting a value, an adjustment composes with concurrent reservations
    (a delivery of 10 adds 10, whatever was reserved meanwhile). 409 when the
    stock would go below zero.
    """
    with transaction.atomic(using=ECOMMERCE_DB):
        changed = Product.objects.filter(
            pk=product_id, stock__gte=-delta, stock__lte=MAX_STOCK - delta
        ).update(stock=F("stock") + delta, updated_at=timezone.now())
        product = Product.objects.get(pk=product_id)
        if not changed and delta < 0:
            raise ApplicationError(
                f"Only {product.stock} in stock; cannot remove {-delta}.",
                code=CatalogErrorCode.INSUFFICIENT_STOCK,
                status=409,
                extra={"available": product.stock},
            )
        if not changed:
            raise ApplicationError(
                f"The stock cannot exceed {MAX_STOCK}.", code="invalid", status=400
            )
    return product


def products_set_active(*, product_ids: Iterable[int], is_active: bool) -> int:
    """Activate or deactivate products; returns how many changed.

    Deactivating is how products are "deleted": orders keep product ids, so the
    row stays and the storefront stops showing it.
    """
    ids = sorted(set(product_ids))
    with transaction.atomic(using=ECOMMERCE_DB):
        return (
            Product.objects.filter(pk__in=ids)
            .exclude(is_active=is_active)
            .update(is_active=is_active, updated_at=timezone.now())
        )


def _product_in_use_error(product_ids: list[int]) -> ApplicationError:
    return ApplicationError(
        "Products that were ever reserved or ordered are kept (orders refer to them); "
        "deactivate them instead. Nothing was deleted.",
        code=CatalogErrorCode.PRODUCT_IN_USE,
        status=409,
        extra={"product_ids": product_ids},
    )


@retried_on_lock_conflict
def products_delete(*, product_ids: Iterable[int]) -> int:
    """Erase products for good; returns how many. Only for mistakes: a product that
    was ever reserved (every order reserves first, so also every product ever
    ordered) is refused with a 409 `product_in_use` listing them, and then nothing
    is deleted. Deactivating (`products_set_active`) is the ordinary "delete".
    """
    ids = sorted(set(product_ids))
    with transaction.atomic(using=ECOMMERCE_DB):
        # Locked in id order, so no reservation can take one of them meanwhile.
        locked = list(
            Product.objects.select_for_update()
            .filter(pk__in=ids)
            .order_by("id")
            .values_list("id", flat=True)
        )
        in_use = sorted(
            set(
                ReservationLine.objects.filter(product_id__in=locked).values_list(
                    "product_id", flat=True
                )
            )
        )
        if in_use:
            raise _product_in_use_error(in_use)
        try:
            Product.objects.filter(pk__in=locked).delete()
        except ProtectedError:  # a reservation line arrived through a path not locked
            raise _product_in_use_error(locked) from None
    return len(locked)


# --- Reservations ---------------------------------------------------------------------


def _merged_quantities(lines: Iterable[Mapping[str, int]]) -> dict[int, int]:
    """{product_id: quantity} in ascending product id (the lock order); duplicates summed."""
    quantities: dict[int, int] = {}
    for line in lines:
        product_id = int(line["product_id"])
        quantities[product_id] = quantities.get(product_id, 0) + int(line["quantity"])
    return dict(sorted(quantities.items()))


def _released_error(reference: str) -> ApplicationError:
    return ApplicationError(
        f"Reservation {reference} was released or expired; use a new reference.",
        code=CatalogErrorCode.RESERVATION_RELEASED,
        status=409,
    )


def _existing_reservation_answer(
    reference: str, quantities: dict[int, int]
) -> tuple[Reservation, bool]:
    """The answer to a reserve whose reference is taken: a retry, a conflict or too late."""
    existing = Reservation.objects.prefetch_related("lines").get(reference=reference)
    if existing.state == Reservation.State.RELEASED:
        raise _released_error(reference)
    held = {line.product_id: line.quantity for line in existing.lines.all()}
    if held != quantities:
        raise ApplicationError(
            f"Reference {reference} already holds a reservation with other lines.",
            code=CatalogErrorCode.REFERENCE_CONFLICT,
            status=409,
        )
    return existing, False


# A reservation's stock moves as one UPDATE whatever its lines, each product's quantity
# a CASE on its id; the SQL is kept per number of lines (shopkit.prepared), at most
# MAX_LINES of them.
def _per_product_sql(count: int) -> str:
    return "CASE {id} " + "WHEN %s THEN %s " * count + "END"


@functools.lru_cache(maxsize=128)
def _stock_take_statement(count: int) -> PreparedWrite:
    case, ids = _per_product_sql(count), ", ".join(["%s"] * count)
    return PreparedWrite(
        Product,
        f"UPDATE {{table}} SET {{stock}} = {{stock}} - {case} "  # noqa: S608 (names only)
        f"WHERE {{is_active}} = %s AND {{id}} IN ({ids}) AND {{stock}} >= {case}",
        params=(
            *(("id", "stock") * count),
            "is_active",
            *(("id",) * count),
            *(("id", "stock") * count),
        ),
    )


@functools.lru_cache(maxsize=128)
def _stock_give_back_statement(count: int) -> PreparedWrite:
    case, ids = _per_product_sql(count), ", ".join(["%s"] * count)
    return PreparedWrite(
        Product,
        f"UPDATE {{table}} SET {{stock}} = {{stock}} + {case} WHERE {{id}} IN ({ids})",  # noqa: S608
        params=(*(("id", "stock") * count), *(("id",) * count)),
    )


def _per_product(quantities: Mapping[int, int]) -> list[int]:
    """The CASE's parameters: each product id, then its quantity."""
    return [value for pair in quantities.items() for value in pair]


def _stock_take(quantities: Mapping[int, int]) -> int:
    """Take every line's units in one UPDATE, each guarded by `stock >= quantity`;
    returns how many products it changed."""
    case = _per_product(quantities)
    return _stock_take_statement(len(quantities)).execute(*case, True, *quantities, *case)


# Every reserve locks its products and reads them: compiled once per number of lines
# (shopkit.prepared), at its first use inside a reserve's transaction.
_PRODUCTS_FOR_UPDATE = PreparedValuesQuery(
    lambda ids: (
        Product.objects.select_for_update()
        .filter(pk__in=ids)
        .order_by("id")
        .values(
            "id", "sku", "name", "price", "tax_rate", "tax_class", "stock", "is_active", "weight"
        )
    ),
    arguments=("ids",),
)


# The reserve's, commit's and release's writes of a reservation, their SQL kept.
_INSERT_RESERVATION = PreparedInsert(Reservation)
_INSERT_RESERVATION_LINES = PreparedInsert(ReservationLine)
_RESERVATION_COMMIT = PreparedWrite.update(
    Reservation, set=("state", "committed_at", "updated_at"), where=("reference", "state")
)
_RESERVATION_RELEASED = PreparedWrite.update(
    Reservation, set=("state", "released_at", "updated_at"), where=("id",)
)


def _remember_lines(reservation: Reservation, lines: list[ReservationLine]) -> None:
    """`reservation.lines.all()` answers these without a query (as a prefetch would)."""
    cache = getattr(reservation, "_prefetched_objects_cache", None)
    if cache is None:
        cache = reservation._prefetched_objects_cache = {}
    cache["lines"] = lines


@retried_on_lock_conflict
def _reserve_once(
    reference: str, quantities: dict[int, int], ttl_seconds: int, country: str | None
) -> tuple[Reservation, bool]:
    now = timezone.now()
    reference_taken = False
    try:
        with transaction.atomic(using=ECOMMERCE_DB):
            # The reference row first: a parallel duplicate blocks on the unique index
            # until this transaction ends, then sees the outcome. A duplicate fails the
            # first statement, so the whole (empty) transaction goes: no savepoint.
            reservation = _INSERT_RESERVATION.save(
                Reservation(
                    reference=reference,
                    state=Reservation.State.RESERVED,
                    expires_at=now + timedelta(seconds=ttl_seconds),
                )
            )
            reference_taken = True
            # The products locked in ascending id (the lock order) and read at once:
            # what we read now is what we hold.
            products = {row["id"]: row for row in _PRODUCTS_FOR_UPDATE.rows(ids=list(quantities))}
            with_destination_tax_rates(list(products.values()), country=country)
            unknown_ids = [
                product_id
                for product_id in quantities
                if product_id not in products or not products[product_id]["is_active"]
            ]
            if unknown_ids:
                raise ApplicationError(
                    "Some products do not exist or are not for sale.",
                    code=CatalogErrorCode.UNKNOWN_PRODUCT,
                    status=400,
                    extra={"product_ids": unknown_ids},
                )
            short_ids = [
                product_id
                for product_id, quantity in quantities.items()
                if products[product_id]["stock"] < quantity
            ]
            if short_ids:
                raise ApplicationError(
                    "Not enough stock for some lines; nothing was reserved.",
                    code=CatalogErrorCode.INSUFFICIENT_STOCK,
                    status=409,
                    extra={
                        "short_lines": [
                            {
                                "product_id": product_id,
                                "requested": quantities[product_id],
                                "available": products[product_id]["stock"],
                            }
                            for product_id in short_ids
                        ]
                    },
                )
            # Under the locks the guards hold; they stay as the rule in SQL.
            if _stock_take(quantities) != len(quantities):
                raise AssertionError("stock moved under a row lock")
            lines = _INSERT_RESERVATION_LINES.save_many(
                ReservationLine(
                    reservation=reservation,
                    product_id=product_id,
                    quantity=quantity,
                    unit_price=products[product_id]["price"],
                    tax_rate=products[product_id]["tax_rate"],
                    weight=products[product_id]["weight"],
                    sku=products[product_id]["sku"],
                    name=products[product_id]["name"],
                )
                for product_id, quantity in quantities.items()
            )
    except IntegrityError:
        if reference_taken:
            raise
        return _existing_reservation_answer(reference, quantities)
    _remember_lines(reservation, lines)
    return reservation, True


def reservation_reserve(
    *,
    reference: str,
    lines: Sequence[Mapping[str, int]],
    ttl_seconds: int | None = None,
    country: str | None = None,
) -> tuple[Reservation, bool]:
    """Take stock for every line under `reference`, all or nothing; returns (reservation, created).

    Idempotent per reference: the same lines again return the existing reservation
    (created=False) without taking stock twice; other lines are a 409
    `reference_conflict`; a released reference is a 409 `reservation_released`.
    Missing or inactive products are a 400 `unknown_product`; short lines a 409
    `insufficient_stock` listing them. With a destination `country` (and
    TAX_BY_DESTINATION on) each line is charged that country's rate for its tax class.
    """
    quantities = _merged_quantities(lines)
    if not quantities:
        raise ApplicationError("A reservation needs at least one line.", code="invalid")
    if ttl_seconds is None:
        ttl_seconds = settings.RESERVATION_TTL_SECONDS
    ttl_seconds = min(ttl_seconds, RESERVATION_MAX_TTL_SECONDS)
    return _reserve_once(reference, quantities, ttl_seconds, country)


def _locked_reservation(reference: str) -> Reservation | None:
    return Reservation.objects.select_for_update().filter(reference=reference).first()


def _give_back_stock(reservation: Reservation, now: datetime) -> None:
    """Return a locked reservation's units to stock (one UPDATE) and mark it released."""
    quantities = dict(
        reservation.lines.order_by("product_id").values_list("product_id", "quantity")
    )
    if quantities:
        _stock_give_back_statement(len(quantities)).execute(*_per_product(quantities), *quantities)
    reservation.state = Reservation.State.RELEASED
    reservation.released_at = now
    reservation.updated_at = timezone.now()
    _RESERVATION_RELEASED.execute(
        reservation.state, reservation.released_at, reservation.updated_at, reservation.pk
    )


@retried_on_lock_conflict
def reservation_commit(*, reference: str) -> list[dict]:
    """Mark a reservation committed (its order exists). Idempotent. Returns the
    reservation joined to its lines (selectors.reservation_rows).

    404 for an unknown reference, 409 `reservation_released` when it was released
    or expired. A reservation past its expiry that the job has not released yet
    still holds its stock, so it can still be committed.
    """
    # One conditional UPDATE (it waits for a release holding the row, then sees its
    # outcome); the read after it tells a retry, a release and an unknown reference apart.
    now = timezone.now()
    _RESERVATION_COMMIT.execute(
        Reservation.State.COMMITTED, now, now, reference, Reservation.State.RESERVED
    )
    rows = reservation_rows(reference=reference)
    if not rows:
        raise reservation_not_found(reference)
    if rows[0]["state"] == Reservation.State.RELEASED:
        raise _released_error(reference)
    return rows


@retried_on_lock_conflict
def reservation_release(*, reference: str) -> Reservation:
    """Give a reservation's stock back (from reserved, or from committed when its order
    is cancelled). Idempotent: a released reservation stays as it is.

    An unknown reference is recorded as a released tombstone, so a reserve that
    arrives late for it is refused instead of holding stock nobody will commit.
    """
    now = timezone.now()
    with transaction.atomic(using=ECOMMERCE_DB):
        reservation = _locked_reservation(reference)
        if reservation is None:
            try:
                with transaction.atomic(using=ECOMMERCE_DB):
                    return Reservation.objects.create(
                        reference=reference,
                        state=Reservation.State.RELEASED,
                        expires_at=now,
                        released_at=now,
                    )
            except IntegrityError:
                # A reserve for this reference committed meanwhile: release it.
                reservation = _locked_reservation(reference)
        if reservation.state != Reservation.State.RELEASED:
            _give_back_stock(reservation, now)
    return reservation


@retried_on_lock_conflict
def reservation_expire(*, reference: str, now: datetime | None = None) -> bool:
    """Release a reservation still `reserved` after its expiry; False if it was committed
    or released meanwhile (the row is re-checked under its lock)."""
    now = now or timezone.now()
    with transaction.atomic(using=ECOMMERCE_DB):
        reservation = _locked_reservation(reference)
        if (
            reservation is None
            or reservation.state != Reservation.State.RESERVED
            or reservation.expires_at > now
        ):
            return False
        _give_back_stock(reservation, now)
    return True


def release_expired_reservations(*, now: datetime | None = None, batch_size: int = 200) -> int:
    """Release every reservation still `reserved` past its expiry; returns how many.

    Each is released in its own short transaction, so the job never holds many
    locks and is safe to run while the shop serves (or twice at once).
    """
    now = now or timezone.now()
    released = 0
    last_id = 0
    while True:
        batch = list(
            Reservation.objects.filter(
                state=Reservation.State.RESERVED, expires_at__lte=now, id__gt=last_id
            )
            .order_by("id")
            .values_list("id", "reference")[:batch_size]
        )
        if not batch:
            return released
        for reservation_id, reference in batch:
            last_id = reservation_id
            try:
                released += reservation_expire(reference=reference, now=now)
            except ApplicationError:  # stock busy: the next run picks it up
                logger.warning("could not release expired reservation %s now", reference)
