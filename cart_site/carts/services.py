"""Writes to carts.

Every write runs in one transaction on ecommerce_db that starts by locking the
cart row (SELECT ... FOR UPDATE), so two requests on the same cart take turns:
parallel adds of one product merge into one line and no update is lost. Writes
that need product data ask the catalog once, inside that transaction and before
changing anything: when the catalog is down the 503 rolls everything back.
"""

import functools
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from carts.clients import CatalogProduct, catalog_products
from carts.errors import CartErrorCode
from carts.models import AppliedClear, Cart, CartLine
from carts.owners import CartOwner, hash_guest_token, new_guest_token
from carts.pricing import PricedCart, empty_cart, price_cart
from carts.selectors import MAX_USER_ID, CheckoutLine, cart_queryset_for
from shopkit.errors import ApplicationError
from shopkit.prepared import PreparedInsert, PreparedValuesQuery, PreparedWrite

# Purging guest carts deletes this many at a time (short transactions).
PURGE_BATCH_SIZE = 500


class _CartCreatedConcurrently(Exception):
    """A parallel first write created this customer's cart while we tried to."""


def _retrying_concurrent_cart_creation(service: Callable) -> Callable:
    """Run the service's transaction again when it lost the race to create the cart.

    The loser's INSERT fails on the unique user_id; it rolls back (releasing what
    it held) and on the next attempt simply locks the cart the winner created.
    """

    @functools.wraps(service)
    def run(*args, **kwargs):
        for _attempt in range(3):
            try:
                return service(*args, **kwargs)
            except _CartCreatedConcurrently:
                continue
        raise ApplicationError(
            "The cart is being changed by another request; retry.",
            code=CartErrorCode.CART_BUSY,
            status=409,
        )

    return run


_CART_COLUMNS = [field.attname for field in Cart._meta.concrete_fields]
_LINE_COLUMNS = [field.attname for field in CartLine._meta.concrete_fields]

# Every cart write starts by locking the cart and reading its lines: compiled once per
# process (shopkit.prepared), loaded as model instances. A customer's line writes do
# both in one statement, the cart LEFT JOIN its lines (a cart without lines is one row
# of NULLs): under READ COMMITTED (shopkit's setting) InnoDB then locks only the rows
# read, the cart and its own lines, no gaps; every writer locks the cart first, so
# the lines' locks make no one wait.
_CUSTOMER_CART_FOR_UPDATE = PreparedValuesQuery(
    lambda user_id: Cart.objects.select_for_update().filter(user_id=user_id).values(*_CART_COLUMNS),
    arguments=("user_id",),
)
_CUSTOMER_CART_AND_LINES_FOR_UPDATE = PreparedValuesQuery(
    lambda user_id: (
        Cart.objects.select_for_update()
        .filter(user_id=user_id)
        .order_by("lines__id")
        .values(*_CART_COLUMNS, *(f"lines__{column}" for column in _LINE_COLUMNS))
    ),
    arguments=("user_id",),
)
_CART_LINES = PreparedValuesQuery(
    lambda cart_id: CartLine.objects.filter(cart_id=cart_id).order_by("id").values(*_LINE_COLUMNS),
    arguments=("cart_id",),
)

# Every checkout's clear asks whether its reference was applied already.
_APPLIED_CLEAR = PreparedValuesQuery(
    lambda cart_id, reference: AppliedClear.objects.filter(
        cart_id=cart_id, reference=reference
    ).values("cleared_all"),
    arguments=("cart_id", "reference"),
)


# A cart write's line and version changes as one statement each, their SQL kept
# (shopkit.prepared): the ORM's save() built and compiled a query for each (and
# full_clean() checked what the database enforces: one line per product, quantity >= 1),
# costing more than MariaDB's answer.
_INSERT_LINE = PreparedInsert(CartLine)
_UPDATE_LINE_QUANTITY = PreparedWrite.update(
    CartLine, set=("quantity", "updated_at"), where=("id",)
)
_UPDATE_CART_VERSION = PreparedWrite.update(Cart, set=("version", "updated_at"), where=("id",))
# Emptying a cart (no related rows to collect first, as QuerySet.delete() would).
_DELETE_CART_LINES = PreparedWrite.delete(CartLine, where=("cart_id",))
_INSERT_APPLIED_CLEAR = PreparedInsert(AppliedClear)


def _loaded(model, row: dict):
    """A model instance from a row of all its columns, as the ORM would load it."""
    return model.from_db("ecommerce", list(row), list(row.values()))


def _cart_for_update(owner: CartOwner) -> Cart | None:
    if owner.is_guest:
        return cart_queryset_for(owner).select_for_update().first()
    if not 0 < owner.user_id <= MAX_USER_ID:
        return None
    rows = _CUSTOMER_CART_FOR_UPDATE.rows(user_id=owner.user_id)
    return _loaded(Cart, rows[0]) if rows else None


def _locked_cart(owner: CartOwner, *, create: bool) -> tuple[Cart | None, str | None]:
    """The owner's cart locked until the transaction ends, and the guest token to answer.

    With `create`, a missing cart is created: a customer's by user id, a guest's
    with a new token (also when the token sent is unknown, e.g. purged).
    """
    cart = _cart_for_update(owner)
    if cart is not None:
        return cart, owner.guest_token if cart.is_guest else None
    if not create:
        return None, None
    return _new_cart(owner)


def _new_cart(owner: CartOwner) -> tuple[Cart, str | None]:
    """A new cart for the owner, and a guest's new token."""
    if owner.is_guest:
        token = new_guest_token()
        cart = Cart(guest_token_hash=hash_guest_token(token))
    else:
        token = None
        cart = Cart(user_id=owner.user_id)
    cart.full_clean(validate_unique=False, validate_constraints=False)
    try:
        cart.save()
    except IntegrityError:
        raise _CartCreatedConcurrently from None
    return cart, token


def _lines_by_product(cart: Cart | None) -> dict[int, CartLine]:
    if cart is None or cart.pk is None:
        return {}
    return {row["product_id"]: _loaded(CartLine, row) for row in _CART_LINES.rows(cart_id=cart.pk)}


def _locked_cart_and_lines(
    owner: CartOwner, *, create: bool
) -> tuple[Cart | None, str | None, dict[int, CartLine]]:
    """`_locked_cart` and its `_lines_by_product`; a customer's in one statement."""
    if owner.is_guest or not 0 < owner.user_id <= MAX_USER_ID:
        cart, token = _locked_cart(owner, create=create)
        return cart, token, _lines_by_product(cart)
    rows = _CUSTOMER_CART_AND_LINES_FOR_UPDATE.rows(user_id=owner.user_id)
    if not rows:
        if not create:
            return None, None, {}
        cart, token = _new_cart(owner)
        return cart, token, {}
    cart = Cart.from_db("ecommerce", _CART_COLUMNS, [rows[0][column] for column in _CART_COLUMNS])
    lines = {}
    for row in rows:
        if row["lines__id"] is None:
            continue
        line = CartLine.from_db(
            "ecommerce", _LINE_COLUMNS, [row[f"lines__{column}"] for column in _LINE_COLUMNS]
        )
        lines[line.product_id] = line
    return cart, None, lines


def _next_version(cart: Cart) -> int:
    """The version the running write gives the cart (`_touch` ends every write)."""
    return cart.version + 1


def _touch(cart: Cart) -> None:
    """Record a write: the checkout compares versions to know whether the cart moved."""
    cart.version += 1
    cart.updated_at = timezone.now()
    _UPDATE_CART_VERSION.execute(cart.version, cart.updated_at, cart.pk)


def _save_line(line: CartLine) -> None:
    """Insert a new line or store an existing one's quantity (the cart is locked).

    Inputs were validated by the API; the database refuses a second line of a product
    and a quantity below 1 (carts_line_one_per_product, carts_line_quantity_positive).
    """
    if line.pk is not None:
        line.updated_at = timezone.now()
        _UPDATE_LINE_QUANTITY.execute(line.quantity, line.updated_at, line.pk)
        return
    _INSERT_LINE.save(line)


def _orderable_product(products: dict[int, CatalogProduct], product_id: int) -> CatalogProduct:
    product = products.get(product_id)
    if product is None:
        raise ApplicationError(
            f"Product {product_id} does not exist.",
            code=CartErrorCode.UNKNOWN_PRODUCT,
            extra={"product_id": product_id},
        )
    if not product.is_active:
        raise ApplicationError(
            f"Product {product_id} is not for sale.",
            code=CartErrorCode.INACTIVE_PRODUCT,
            extra={"product_id": product_id},
        )
    return product


def _check_line_quantity(product: CatalogProduct, quantity: int) -> None:
    """The quantity a line would end with: at most the per-line maximum and the stock."""
    maximum = settings.CART_MAX_LINE_QUANTITY
    if quantity > maximum:
        raise ApplicationError(
            f"A cart line holds at most {maximum} units.",
            code=CartErrorCode.QUANTITY_TOO_LARGE,
            extra={"product_id": product.id, "requested": quantity, "max_quantity": maximum},
        )
    if quantity > product.stock:
        raise ApplicationError(
            f"Only {product.stock} of product {product.id} in stock.",
            code=CartErrorCode.INSUFFICIENT_STOCK,
            status=409,
            extra={"product_id": product.id, "requested": quantity, "available": product.stock},
        )


def _check_line_count(count: int) -> None:
    maximum = settings.CART_MAX_LINES
    if count > maximum:
        raise ApplicationError(
            f"A cart holds at most {maximum} different products.",
            code=CartErrorCode.TOO_MANY_LINES,
            extra={"max_lines": maximum},
        )


def _line_not_found(line_id: int) -> ApplicationError:
    return ApplicationError(
        f"Your cart has no line {line_id}.", code=CartErrorCode.LINE_NOT_FOUND, status=404
    )


@dataclass(frozen=True)
class LineAdded:
    cart: PricedCart
    created: bool  # a new line (False: merged into the product's existing line)


@_retrying_concurrent_cart_creation
def cart_add_line(*, owner: CartOwner, product_id: int, quantity: int) -> LineAdded:
    """Add `quantity` units of a product; an existing line of that product grows.

    The product must exist and be active (400), the line may hold at most
    CART_MAX_LINE_QUANTITY units (400) and no more than the stock (409), and the
    cart at most CART_MAX_LINES lines (400). A guest without a (known) token gets
    a new guest cart; its token comes back in the result.
    """
    with transaction.atomic(using="ecommerce"):
        cart, token, lines = _locked_cart_and_lines(owner, create=True)
        products = catalog_products([*lines, product_id])
        product = _orderable_product(products, product_id)
        line = lines.get(product_id)
        created = line is None
        if created:
            _check_line_count(len(lines) + 1)
            line = CartLine(
                cart=cart, product_id=product_id, quantity=0, created_version=_next_version(cart)
            )
            lines[product_id] = line
        _check_line_quantity(product, line.quantity + quantity)
        line.quantity += quantity
        _save_line(line)
        _touch(cart)
        priced = price_cart(
            lines=lines.values(), products=products, is_guest=cart.is_guest, cart_token=token
        )
    return LineAdded(cart=priced, created=created)


def _owned_line(lines: dict[int, CartLine], line_id: int) -> CartLine:
    """The cart's line with this id; a line of another cart is a 404 like a missing one."""
    line = next((line for line in lines.values() if line.pk == line_id), None)
    if line is None:
        raise _line_not_found(line_id)
    return line


def cart_set_line_quantity(*, owner: CartOwner, line_id: int, quantity: int) -> PricedCart:
    """Set a line of the owner's cart to `quantity` (same rules as adding).

    A line of another cart is a 404, exactly like a line that does not exist.
    """
    with transaction.atomic(using="ecommerce"):
        cart, token, lines = _locked_cart_and_lines(owner, create=False)
        line = _owned_line(lines, line_id)
        products = catalog_products(lines)
        product = _orderable_product(products, line.product_id)
        _check_line_quantity(product, quantity)
        line.quantity = quantity
        _save_line(line)
        _touch(cart)
        return price_cart(
            lines=lines.values(), products=products, is_guest=cart.is_guest, cart_token=token
        )


def cart_remove_line(*, owner: CartOwner, line_id: int) -> PricedCart:
    """Remove a line of the owner's cart (404 for a line of another cart)."""
    with transaction.atomic(using="ecommerce"):
        cart, token, lines = _locked_cart_and_lines(owner, create=False)
        line = _owned_line(lines, line_id)
        # Asked before the delete (even for the last line, so line operations
        # behave alike): with the catalog down, the line stays.
        products = catalog_products(lines)
        del lines[line.product_id]
        line.delete()
        _touch(cart)
        return price_cart(
            lines=lines.values(), products=products, is_guest=cart.is_guest, cart_token=token
        )


def cart_clear(*, owner: CartOwner) -> PricedCart:
    """Remove every line of the owner's cart (the cart, and a guest's token, remain)."""
    with transaction.atomic(using="ecommerce"):
        cart, token = _locked_cart(owner, create=False)
        if cart is None:
            return empty_cart(is_guest=owner.is_guest)
        _DELETE_CART_LINES.execute(cart.pk)
        _touch(cart)
        return empty_cart(is_guest=cart.is_guest, cart_token=token)


@dataclass(frozen=True)
class MergeAdjustment:
    """A guest line that did not fully make it into the customer's cart, and why."""

    product_id: int
    requested: int  # the customer's quantity plus the guest's
    quantity: int  # what the customer's line holds now (0: no line)
    reason: CartErrorCode


@dataclass(frozen=True)
class MergeResult:
    cart: PricedCart
    merged: bool  # False: no guest cart had that token (e.g. merged already)
    adjustments: list[MergeAdjustment]


@_retrying_concurrent_cart_creation
def cart_merge_guest(*, user_id: int, guest_token: str) -> MergeResult:
    """Move a guest cart into the customer's cart, then delete the guest cart.

    Quantities of the same product are summed, capped at the stock and at the
    per-line maximum; products no longer for sale and lines beyond the cart's
    line limit are left out. Each such case is listed in `adjustments`. The
    customer's own lines are never lowered. An unknown token (a second merge)
    changes nothing and returns the customer's cart.
    """
    owner = CartOwner(user_id=user_id)
    with transaction.atomic(using="ecommerce"):
        # Always the guest cart first, then the customer's: one lock order, no deadlock.
        guest_cart, _ = _locked_cart(CartOwner(guest_token=guest_token), create=False)
        if guest_cart is None:
            cart, _, lines = _locked_cart_and_lines(owner, create=False)
            return MergeResult(
                cart=price_cart(
                    lines=lines.values(), products=catalog_products(lines), is_guest=False
                ),
                merged=False,
                adjustments=[],
            )
        cart, _, lines = _locked_cart_and_lines(owner, create=True)
        guest_lines = sorted(_lines_by_product(guest_cart).values(), key=lambda line: line.pk)
        products = catalog_products([*lines, *(line.product_id for line in guest_lines)])

        adjustments, changed, added = [], [], []
        for guest_line in guest_lines:
            product_id = guest_line.product_id
            line = lines.get(product_id)
            current = line.quantity if line else 0
            requested = current + guest_line.quantity
            product = products.get(product_id)
            if product is None or not product.is_active:
                reason = (
                    CartErrorCode.UNKNOWN_PRODUCT
                    if product is None
                    else CartErrorCode.INACTIVE_PRODUCT
                )
                adjustments.append(MergeAdjustment(product_id, requested, current, reason))
                continue
            if line is None and len(lines) >= settings.CART_MAX_LINES:
                adjustments.append(
                    MergeAdjustment(product_id, requested, 0, CartErrorCode.TOO_MANY_LINES)
                )
                continue
            quantity = min(requested, product.stock, settings.CART_MAX_LINE_QUANTITY)
            if quantity < requested:
                reason = (
                    CartErrorCode.INSUFFICIENT_STOCK
                    if product.stock < settings.CART_MAX_LINE_QUANTITY
                    else CartErrorCode.QUANTITY_TOO_LARGE
                )
                adjustments.append(
                    MergeAdjustment(product_id, requested, max(quantity, current), reason)
                )
            if quantity <= current:
                continue  # nothing fits on top of what the customer already has
            if line is None:
                line = CartLine(
                    cart=cart,
                    product_id=product_id,
                    quantity=quantity,
                    created_version=_next_version(cart),
                )
                lines[product_id] = line
                added.append(line)
            else:
                line.quantity = quantity
                changed.append(line)
            line.updated_at = timezone.now()  # bulk_update does not apply auto_now
            line.full_clean(exclude=["cart"], validate_unique=False, validate_constraints=False)

        CartLine.objects.bulk_create(added)
        CartLine.objects.bulk_update(changed, ["quantity", "updated_at"])
        guest_cart.delete()
        _touch(cart)
        if added:
            # On MySQL (unlike MariaDB) bulk_create sets no primary keys: read the lines back.
            lines = _lines_by_product(cart)
        priced = price_cart(lines=lines.values(), products=products, is_guest=False)
    return MergeResult(cart=priced, merged=True, adjustments=adjustments)


@dataclass(frozen=True)
class ClearOutcome:
    cleared: bool  # True: the whole cart was emptied (the version had not moved)
    version: int


def cart_clear_after_checkout(
    *, user_id: int, reference: str, version: int, lines: list[CheckoutLine]
) -> ClearOutcome:
    """Take an order out of the customer's cart, exactly once per order reference.

    `version` is the cart version the checkout read and `lines` what it ordered.
    If the cart is still at that version, every line goes. If it moved (the customer
    changed the cart meanwhile, or this clear comes late), only what was ordered is
    taken out of the lines the checkout saw: a line created after `version` (the
    product removed and added again) is left alone, and units added to a line since
    survive. A retried reference changes nothing and answers what the first call
    did, with the current version.
    """
    with transaction.atomic(using="ecommerce"):
        cart, _ = _locked_cart(CartOwner(user_id=user_id), create=False)
        return _clear_locked(cart, reference=reference, version=version, lines=lines)


def guest_cart_clear_after_checkout(
    *, cart_token_hash: str, reference: str, version: int, lines: list[CheckoutLine]
) -> ClearOutcome:
    """`cart_clear_after_checkout` for a guest's cart, named by its token's SHA-256.

    The hash (what the cart stores) rather than the token: orders keeps it on a guest
    order to apply a clear it still owes later, and so never stores the bearer secret.
    """
    with transaction.atomic(using="ecommerce"):
        cart = (
            Cart.objects.select_for_update()
            .filter(user_id__isnull=True, guest_token_hash=cart_token_hash)
            .first()
        )
        return _clear_locked(cart, reference=reference, version=version, lines=lines)


def _clear_locked(
    cart: Cart | None, *, reference: str, version: int, lines: list[CheckoutLine]
) -> ClearOutcome:
    """The clear of a locked cart (None: no cart, nothing to clear)."""
    if cart is None:
        return ClearOutcome(cleared=False, version=0)
    applied = _APPLIED_CLEAR.rows(cart_id=cart.pk, reference=reference)
    if applied:
        return ClearOutcome(cleared=applied[0]["cleared_all"], version=cart.version)

    cleared_all = cart.version == version
    if cleared_all:
        _DELETE_CART_LINES.execute(cart.pk)
    else:
        ordered = defaultdict(int)
        for line in lines:
            ordered[line.product_id] += line.quantity
        seen_by_checkout = CartLine.objects.filter(
            cart=cart, product_id__in=ordered, created_version__lte=version
        )
        remaining, emptied = [], []
        for line in seen_by_checkout:
            line.quantity -= ordered[line.product_id]
            line.updated_at = timezone.now()  # bulk_update does not apply auto_now
            (remaining if line.quantity > 0 else emptied).append(line)
        CartLine.objects.filter(pk__in=[line.pk for line in emptied]).delete()
        CartLine.objects.bulk_update(remaining, ["quantity", "updated_at"])

    record = AppliedClear(
        cart=cart,
        reference=reference,
        read_version=version,
        cleared_all=cleared_all,
        created_at=timezone.now(),
    )
    # Validated as the model says (a version beyond its column is a 400), written as
    # one statement (the cart is locked, its reference was not applied).
    record.full_clean(exclude=["cart"], validate_unique=False, validate_constraints=False)
    _INSERT_APPLIED_CLEAR.save(record)
    _touch(cart)
    return ClearOutcome(cleared=cleared_all, version=cart.version)


def guest_carts_purge(*, idle_for: timedelta) -> int:
    """Delete guest carts not written to for `idle_for`; returns how many went."""
    cutoff = timezone.now() - idle_for
    stale = Cart.objects.filter(user_id__isnull=True, updated_at__lt=cutoff)
    purged = 0
    while True:
        with transaction.atomic(using="ecommerce"):
            # Locked and re-checked: a guest writing right now keeps the cart.
            batch = list(
                stale.select_for_update(skip_locked=True)
                .order_by("pk")
                .values_list("pk", flat=True)[:PURGE_BATCH_SIZE]
            )
            if not batch:
                return purged
            Cart.objects.filter(pk__in=batch).delete()
            purged += len(batch)
