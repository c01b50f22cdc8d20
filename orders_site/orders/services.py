"""Writes of the orders service: the checkout saga, status changes, cancellation, recovery.

Checkout (`order_checkout`) is a saga over HTTP; each step is idempotent on the
order number, which is drawn when the Idempotency-Key is claimed and is also the
catalog reservation's and the cart clear's `reference`:

    1 claim the key (unique insert)   2 read the cart (cart)   3 reserve stock (catalog)
    4 write order + lines + history (one transaction)   5 commit the reservation (catalog)
    6 clear the cart (cart, version-checked)   7 store the 201 on the key

Replays: same key + same body -> the stored response (201, or a stored 4xx:
empty cart, out of stock, products no longer sold, unknown/invalid saved address),
with `Idempotent-Replayed: true`; same key + other body -> 422; a key another
request is working on -> 409 `checkout_in_progress` (Retry-After: 1), and the
retry gets the stored result. Bad input (body, header) is refused before the key
is claimed, so it does not use the key up. A neighbour failure (503) stores no
response: the key is `failed` and the same key may run the checkout again.

Recovery rules: what a crash (or a failure) after each step leaves, and what repairs it.
"Retry" is the client sending the same key and body again; "reconcile" is
`manage.py reconcile_checkouts` (every minute or so, well inside the catalog's
RESERVATION_TTL_SECONDS); "stale" is a key in_progress for CHECKOUT_STALE_SECONDS.

| stopped after | left behind | repaired by |
| --- | --- | --- |
| 1 claim, 2 cart read (crash) | key in_progress, nothing held | a retry once stale, or reconcile (key -> failed, then a retry): the saga runs again under a new order number |
| 3 reserve (crash, or its answer lost) | key in_progress, stock maybe held under the number | the catalog's expiry; sooner, a retry once stale or reconcile releases the number (tombstone), and the retry runs the saga under a new one |
| 2-4 failed: a neighbour 503, or the order write raised | key failed, no response stored; the number released at once (if the catalog answers; else its expiry) | a retry with the same key runs the saga again (new number) |
| 4 order written (crash) | order pending, reservation reserved, cart full, key in_progress | reconcile commits and clears at once; once stale, a retry or reconcile also stores the 201 on the key. A reservation that expired first: the order is cancelled by the system, its history says why |
| 5 committed (crash) | the same, reservation committed | the same: clear, then store the 201 |
| 5 or 6 answered 503 | order stands, 201 stored and returned, the step owed | a replay of the key, or reconcile, retries the owed step (each is idempotent per reference) |
| 6 cart cleared (crash) | all done, key in_progress | once stale, a retry or reconcile stores the order's 201 on the key |

Cancellation (`order_cancel`) commits the new status first, then releases the
reservation in the catalog (stock back) and sets `stock_released_at`; if the catalog
is down then, reconcile releases it later. No database lock is held across a call
to another service (on SQLite, `make run`'s default, one would block the catalog).

Why the order number changes when a key runs again: a released or expired
reference can never be reserved again (catalog tombstones). It changes only under
the key's row lock and only when no order exists for the old number; the order
write takes the same lock and checks the number, so an attempt that was given up
can never write its order late (it releases its reservation instead).
"""

import hashlib
import json
import logging
import secrets
from dataclasses import dataclass, field
from datetime import timedelta

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from orders import clients
from orders.clients import LineQuantity, Reservation, ReservationReleased
from orders.errors import FINAL_CHECKOUT_ERRORS, CheckoutInProgress, OrderErrorCode
from orders.models import (
    ALLOWED_TRANSITIONS,
    SHIPPING_ADDRESS_FIELDS,
    IdempotencyKey,
    IdempotencyKeyState,
    Order,
    OrderLine,
    OrderStatus,
    StatusChange,
)
from orders.serializers import ShippingAddressSerializer, order_document
from shopkit import money
from shopkit.errors import ApplicationError, ServiceUnavailable, problem

logger = logging.getLogger(__name__)

DB = "ecommerce"
CROCKFORD_BASE32 = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
CUSTOMER_CANCELLABLE = frozenset({OrderStatus.PENDING, OrderStatus.CONFIRMED})
STAFF_CANCELLABLE = frozenset({OrderStatus.PENDING, OrderStatus.CONFIRMED, OrderStatus.PROCESSING})


@dataclass(frozen=True)
class CheckoutResponse:
    """What a checkout answers: the first time, or replayed from its Idempotency-Key."""

    status: int
    body: dict
    replayed: bool = False


def order_number_generate() -> str:
    """A fresh public order number: "T-" + 10 random Crockford base32 characters (50 bits)."""
    return "T-" + "".join(secrets.choice(CROCKFORD_BASE32) for _ in range(10))


def request_fingerprint(payload: dict) -> str:
    """sha256 of the request as canonical JSON (sorted keys, no whitespace)."""
    canonical = json.dumps(
        payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False, cls=DjangoJSONEncoder
    )
    return hashlib.sha256(canonical.encode()).hexdigest()


# --- checkout ------------------------------------------------------------------------


def order_checkout(
    *,
    user_id: int,
    email: str,
    idempotency_key: str,
    shipping_address: dict | None = None,
    address_id: int | None = None,
    notes: str = "",
) -> CheckoutResponse:
    """Turn the user's cart into an order, exactly once per Idempotency-Key.

    Returns the response to send (201 with the order, or a stored 4xx problem);
    raises ApplicationError for answers that are not stored: 422 key reused,
    409 checkout in progress, 503 a neighbour is down (nothing held, key reusable).
    """
    fingerprint = request_fingerprint(
        {"shipping_address": shipping_address, "address_id": address_id, "notes": notes}
    )
    key = _idempotency_key_claim(user_id=user_id, key=idempotency_key, fingerprint=fingerprint)
    if key is None:
        key, written_order_id = _idempotency_key_resume(
            user_id=user_id, key=idempotency_key, fingerprint=fingerprint
        )
        if key.state == IdempotencyKeyState.COMPLETED:
            return _checkout_replay(key=key)
        if written_order_id is not None:
            return _checkout_finish(key=key, order_id=written_order_id)
    return _checkout_run(
        key=key,
        user_id=user_id,
        email=email,
        shipping_address=shipping_address,
        address_id=address_id,
        notes=notes,
    )


def _idempotency_key_claim(*, user_id: int, key: str, fingerprint: str) -> IdempotencyKey | None:
    """Insert the key (it is ours), or None when it already exists."""
    for _ in range(3):
        claim = IdempotencyKey(
            user_id=user_id, key=key, fingerprint=fingerprint, order_number=order_number_generate()
        )
        # Uniqueness is what the insert itself decides (that is the claim); checking it
        # first would only race.
        claim.full_clean(validate_unique=False, validate_constraints=False)
        try:
            with transaction.atomic(using=DB):
                claim.save()
            return claim
        except IntegrityError:
            if IdempotencyKey.objects.filter(user_id=user_id, key=key).exists():
                return None
            # Not the key: the drawn order number was taken (50 random bits). Draw again.
    raise ApplicationError(
        "Could not allocate an order number; retry.", code="conflict", status=409
    )


def _is_stale(key: IdempotencyKey) -> bool:
    return key.updated_at < timezone.now() - timedelta(seconds=settings.CHECKOUT_STALE_SECONDS)


def _idempotency_key_resume(
    *, user_id: int, key: str, fingerprint: str
) -> tuple[IdempotencyKey, int | None]:
    """An existing key, for a request with the same key.

    Returns the key completed (replay it), or taken over by this request (run the
    saga; the second value is the id of an order a crashed attempt already wrote).
    """
    existing = IdempotencyKey.objects.get(user_id=user_id, key=key)
    if existing.fingerprint != fingerprint:
        raise ApplicationError(
            "This Idempotency-Key was used for a different request; use a new key.",
            code=OrderErrorCode.IDEMPOTENCY_KEY_REUSED,
            status=422,
        )
    if existing.state == IdempotencyKeyState.COMPLETED:
        return existing, None
    if existing.state == IdempotencyKeyState.IN_PROGRESS and not _is_stale(existing):
        raise CheckoutInProgress()
    return _idempotency_key_take_over(key_id=existing.pk)


def _idempotency_key_take_over(*, key_id: int) -> tuple[IdempotencyKey, int | None]:
    """Make a failed or stale key ours again (see the recovery rules above)."""
    with transaction.atomic(using=DB):
        key = IdempotencyKey.objects.select_for_update().get(pk=key_id)
        if key.state == IdempotencyKeyState.COMPLETED:
            return key, None
        if key.state == IdempotencyKeyState.IN_PROGRESS and not _is_stale(key):
            raise CheckoutInProgress()
        written_order_id = _order_id_for(number=key.order_number)
        abandoned_number = None
        if written_order_id is None:
            abandoned_number, key.order_number = key.order_number, order_number_generate()
        key.state = IdempotencyKeyState.IN_PROGRESS
        key.save(update_fields=["order_number", "state", "updated_at"])
    if abandoned_number is not None:
        logger.info(
            "checkout taken over",
            extra={"abandoned_number": abandoned_number, "number": key.order_number},
        )
        _release_quietly(reference=abandoned_number)
    return key, written_order_id


def _order_id_for(*, number: str) -> int | None:
    return Order.objects.filter(number=number).values_list("pk", flat=True).first()


def _idempotency_key_complete(*, key: IdempotencyKey, status: int, body: dict) -> CheckoutResponse:
    """Store the response on the key (only if this attempt still owns it)."""
    IdempotencyKey.objects.filter(
        pk=key.pk, order_number=key.order_number, state=IdempotencyKeyState.IN_PROGRESS
    ).update(
        state=IdempotencyKeyState.COMPLETED,
        response_status=status,
        response_body=body,
        updated_at=timezone.now(),
    )
    return CheckoutResponse(status=status, body=body)


def _idempotency_key_fail(*, key: IdempotencyKey) -> None:
    """No response stored: the same key may run the checkout again."""
    IdempotencyKey.objects.filter(
        pk=key.pk, order_number=key.order_number, state=IdempotencyKeyState.IN_PROGRESS
    ).update(state=IdempotencyKeyState.FAILED, updated_at=timezone.now())


def _checkout_run(
    *,
    key: IdempotencyKey,
    user_id: int,
    email: str,
    shipping_address: dict | None,
    address_id: int | None,
    notes: str,
) -> CheckoutResponse:
    """Steps 2-7 for a key this request owns."""
    try:
        address = (
            shipping_address
            if shipping_address is not None
            else _saved_address(user_id=user_id, address_id=address_id)
        )
        cart = clients.cart_read(user_id=user_id)
        if not cart.lines:
            raise ApplicationError(
                "The cart is empty; add products before checking out.",
                code=OrderErrorCode.EMPTY_CART,
                status=400,
            )
        reservation = _stock_reserve(reference=key.order_number, lines=list(cart.lines))
        try:
            order = _order_write(
                key=key,
                user_id=user_id,
                email=email,
                address=address,
                notes=notes,
                reservation=reservation,
                cart_version=cart.version,
            )
        except Exception:
            # Nothing will ever commit this reservation: give the stock back now.
            _release_quietly(reference=key.order_number)
            raise
    except ApplicationError as error:
        if error.code in FINAL_CHECKOUT_ERRORS:
            body = problem(
                error.status,
                code=error.code,
                detail=error.detail,
                errors=error.errors,
                extra=error.extra,
            )
            return _idempotency_key_complete(key=key, status=error.status, body=body)
        _idempotency_key_fail(key=key)
        raise
    except Exception:
        _idempotency_key_fail(key=key)
        raise
    return _checkout_finish(key=key, order_id=order.pk)


def _saved_address(*, user_id: int, address_id: int) -> dict:
    address = ShippingAddressSerializer(
        data=clients.auth_address(user_id=user_id, address_id=address_id)
    )
    if not address.is_valid():
        raise ApplicationError(
            "The saved address is incomplete; fix it or send the address inline.",
            code=OrderErrorCode.ADDRESS_INVALID,
            status=400,
            errors={
                "address_id": [
                    f"{field}: {message}"
                    for field, messages in address.errors.items()
                    for message in messages
                ]
            },
        )
    return dict(address.validated_data)


def _stock_reserve(*, reference: str, lines: list[LineQuantity]) -> Reservation:
    try:
        return clients.catalog_reserve(reference=reference, lines=lines)
    except ServiceUnavailable:
        # The catalog may have reserved before the failure: release the reference (this
        # also tombstones it, so a late reserve holds nothing). Unreachable: it expires.
        _release_quietly(reference=reference)
        raise


def _release_quietly(*, reference: str) -> bool:
    """Release a reservation if the catalog answers; otherwise its expiry will."""
    try:
        clients.catalog_release(reference=reference)
        return True
    except ServiceUnavailable:
        logger.warning("reservation left to expire", extra={"reference": reference})
        return False


def _order_write(
    *,
    key: IdempotencyKey,
    user_id: int,
    email: str,
    address: dict,
    notes: str,
    reservation: Reservation,
    cart_version: int,
) -> Order:
    """Step 4: order, lines (prices from the reservation) and first history entry, together."""
    amounts = [
        money.line_amounts(line.unit_price, line.quantity, line.tax_rate)
        for line in reservation.lines
    ]
    sums = money.totals(amounts)
    with transaction.atomic(using=DB):
        # The key's row lock orders this write against a retry taking the key over.
        still_ours = (
            IdempotencyKey.objects.select_for_update()
            .filter(pk=key.pk, order_number=key.order_number, state=IdempotencyKeyState.IN_PROGRESS)
            .values_list("pk", flat=True)
        )
        if not list(still_ours):
            raise CheckoutInProgress()
        order = Order(
            number=key.order_number,
            user_id=user_id,
            email=email,
            status=OrderStatus.PENDING,
            notes=notes,
            currency=settings.SHOP_CURRENCY,
            subtotal=sums.subtotal,
            tax=sums.tax,
            total=sums.total,
            cart_version=cart_version,
            **{name: address.get(name, "") for name in SHIPPING_ADDRESS_FIELDS},
        )
        # The number is unique through the key; the checks hold by construction (and in
        # the database). Validating them here would cost queries on the hot path.
        order.full_clean(validate_unique=False, validate_constraints=False)
        order.save()
        lines = [
            OrderLine(
                order=order,
                product_id=line.product_id,
                sku=line.sku,
                name=line.name,
                unit_price=line.unit_price,
                tax_rate=line.tax_rate,
                quantity=line.quantity,
                line_total=amount.line_total,
                line_tax=amount.line_tax,
            )
            for line, amount in zip(reservation.lines, amounts, strict=True)
        ]
        for line in lines:
            # Per-line uniqueness/constraint checks would be one query per line.
            line.full_clean(exclude=["order"], validate_unique=False, validate_constraints=False)
        OrderLine.objects.bulk_create(lines)
        _status_change_record(
            order=order,
            from_status=None,
            to_status=OrderStatus.PENDING,
            by_user_id=user_id,
            by_email=email,
            note="Order placed.",
        )
    return order


def _checkout_finish(*, key: IdempotencyKey, order_id: int) -> CheckoutResponse:
    """Steps 5-7 for an order that exists: commit, clear the cart, store the 201."""
    orders = Order.objects.prefetch_related("lines", "history")
    order = orders.get(pk=order_id)
    if checkout_follow_up(order=order).cancelled:
        order = orders.get(pk=order_id)  # the reservation had expired: show the cancellation
    return _idempotency_key_complete(key=key, status=201, body=order_document(order))


def _checkout_replay(*, key: IdempotencyKey) -> CheckoutResponse:
    """The stored response; a step the first attempt could not finish is retried first."""
    if key.response_status == 201:
        order = (
            Order.objects.filter(number=key.order_number)
            .exclude(status=OrderStatus.CANCELLED)
            .exclude(reservation_committed_at__isnull=False, cart_cleared_at__isnull=False)
            .prefetch_related("lines")
            .first()
        )
        if order is not None:
            checkout_follow_up(order=order)
    return CheckoutResponse(status=key.response_status, body=key.response_body, replayed=True)


@dataclass
class FollowUpResult:
    committed: bool = False
    cleared: bool = False
    cancelled: bool = False


def checkout_follow_up(*, order: Order) -> FollowUpResult:
    """Steps 5 and 6 for an order that still owes them. Failures leave them owed, never raise.

    A cancelled order owes nothing. If the catalog says the reservation was released
    (it expired before it was committed), the order cannot be fulfilled: it is cancelled
    by the system, and its history says why.
    """
    result = FollowUpResult()
    if order.status == OrderStatus.CANCELLED:
        return result
    now = timezone.now()
    if order.reservation_committed_at is None:
        try:
            clients.catalog_commit(reference=order.number)
            order.reservation_committed_at = now
            result.committed = True
        except ReservationReleased:
            logger.error("reservation expired before commit", extra={"number": order.number})
            try:
                order_cancel(
                    order=order,
                    by_user_id=None,
                    by_staff=True,
                    note="Cancelled by the system: the stock reservation expired before it "
                    "was committed.",
                )
                result.cancelled = True
            except ApplicationError as error:  # shipped meanwhile, or the catalog went down
                logger.error(
                    "could not cancel an unreserved order",
                    extra={"number": order.number, "reason": str(error)},
                )
            return result
        except ServiceUnavailable:
            logger.warning("reservation commit left for later", extra={"number": order.number})
    if order.cart_cleared_at is None:
        try:
            clients.cart_clear(
                user_id=order.user_id,
                reference=order.number,
                version=order.cart_version,
                lines=[
                    LineQuantity(product_id=line.product_id, quantity=line.quantity)
                    for line in order.lines.all()
                ],
            )
            order.cart_cleared_at = now
            result.cleared = True
        except ServiceUnavailable:
            logger.warning("cart clear left for later", extra={"number": order.number})
    if result.committed or result.cleared:
        Order.objects.filter(pk=order.pk).update(
            reservation_committed_at=order.reservation_committed_at,
            cart_cleared_at=order.cart_cleared_at,
        )
    return result


# --- status workflow -----------------------------------------------------------------


def _status_change_record(
    *,
    order: Order,
    from_status: str | None,
    to_status: str,
    by_user_id: int | None,
    by_email: str = "",
    note: str = "",
) -> StatusChange:
    change = StatusChange(
        order=order,
        from_status=from_status,
        to_status=to_status,
        by_user_id=by_user_id,
        by_email=by_email or "",
        note=note or "",
    )
    change.full_clean(exclude=["order"])
    change.save()
    return change


def _invalid_transition(order: Order, to_status: str, detail: str | None = None):
    return ApplicationError(
        detail or f"An order cannot go from {order.status} to {to_status}.",
        code=OrderErrorCode.INVALID_TRANSITION,
        status=409,
        extra={"from_status": order.status, "to_status": to_status},
    )


def _status_set(
    *, order: Order, to_status: str, by_user_id: int | None, by_email: str, note: str
) -> None:
    """Move a locked order and record the move (inside the caller's transaction)."""
    from_status = order.status
    order.status = to_status
    order.full_clean(validate_unique=False, validate_constraints=False)
    order.save(update_fields=["status", "updated_at"])
    _status_change_record(
        order=order,
        from_status=from_status,
        to_status=to_status,
        by_user_id=by_user_id,
        by_email=by_email,
        note=note,
    )


def order_change_status(
    *, order: Order, to_status: str, by_user_id: int | None, by_email: str = "", note: str = ""
) -> Order:
    """Staff move an order along the status machine (docs/architecture.md); 409 for any other move.

    Cancelling goes through `order_cancel`, so the stock always goes back.
    """
    if to_status == OrderStatus.CANCELLED:
        return order_cancel(
            order=order, by_user_id=by_user_id, by_email=by_email, note=note, by_staff=True
        )
    with transaction.atomic(using=DB):
        locked = Order.objects.select_for_update().get(pk=order.pk)
        if to_status not in ALLOWED_TRANSITIONS.get(locked.status, ()):
            raise _invalid_transition(locked, to_status)
        _status_set(
            order=locked, to_status=to_status, by_user_id=by_user_id, by_email=by_email, note=note
        )
    return locked


def order_cancel(
    *,
    order: Order,
    by_user_id: int | None,
    by_staff: bool,
    by_email: str = "",
    note: str = "",
) -> Order:
    """Cancel an order and give its stock back through the catalog.

    The owner may cancel while pending or confirmed; staff also while processing.
    The cancellation is committed first and the stock released after it: no row lock
    is held across the call to the catalog, and nothing can move an order out of
    "cancelled", so releasing afterwards is safe. If the catalog cannot be reached,
    the order is still cancelled and `reconcile_checkouts` gives the stock back later.
    """
    allowed = STAFF_CANCELLABLE if by_staff else CUSTOMER_CANCELLABLE
    with transaction.atomic(using=DB):
        locked = Order.objects.select_for_update().get(pk=order.pk)
        if locked.status not in allowed:
            if locked.status == OrderStatus.CANCELLED:
                raise _invalid_transition(
                    locked, OrderStatus.CANCELLED, "The order is already cancelled."
                )
            if locked.status in STAFF_CANCELLABLE:
                raise _invalid_transition(
                    locked,
                    OrderStatus.CANCELLED,
                    f"An order in {locked.status} can only be cancelled by staff.",
                )
            raise _invalid_transition(
                locked,
                OrderStatus.CANCELLED,
                f"An order that is {locked.status} cannot be cancelled.",
            )
        _status_set(
            order=locked,
            to_status=OrderStatus.CANCELLED,
            by_user_id=by_user_id,
            by_email=by_email,
            note=note,
        )
    order_release_stock(order=locked)
    return locked


def order_release_stock(*, order: Order) -> bool:
    """Give a cancelled order's units back (idempotent in the catalog); False while it is down."""
    if not _release_quietly(reference=order.number):
        return False
    order.stock_released_at = timezone.now()
    Order.objects.filter(pk=order.pk).update(stock_released_at=order.stock_released_at)
    return True


# --- recovery ------------------------------------------------------------------------


@dataclass
class ReconcileReport:
    keys_failed: int = 0
    keys_completed: int = 0
    reservations_committed: int = 0
    carts_cleared: int = 0
    orders_cancelled: int = 0
    stock_released: int = 0
    still_owed: list[str] = field(default_factory=list)


def checkouts_reconcile() -> ReconcileReport:
    """Apply the recovery rules (module docstring) to checkouts that stopped halfway.

    1. Keys in_progress for longer than CHECKOUT_STALE_SECONDS: with an order, the
       checkout is finished (commit, clear, 201 stored); without, its number is released
       and the key marked failed, so the client's retry runs the checkout again.
    2. Orders that still owe the reservation commit or the cart clear get them.
    3. Cancelled orders whose stock did not go back yet (the catalog was down) get it back.
    Every step is idempotent: running it twice, or next to live checkouts, is safe.
    """
    report = ReconcileReport()
    cutoff = timezone.now() - timedelta(seconds=settings.CHECKOUT_STALE_SECONDS)
    stale_keys = IdempotencyKey.objects.filter(
        state=IdempotencyKeyState.IN_PROGRESS, updated_at__lt=cutoff
    ).values_list("pk", flat=True)
    for key_id in list(stale_keys):
        outcome = _stale_key_settle(key_id=key_id)
        report.keys_failed += outcome == IdempotencyKeyState.FAILED
        report.keys_completed += outcome == IdempotencyKeyState.COMPLETED

    owing = (
        Order.objects.exclude(status=OrderStatus.CANCELLED)
        .filter(Q(reservation_committed_at__isnull=True) | Q(cart_cleared_at__isnull=True))
        .prefetch_related("lines")
    )
    for order in owing:
        result = checkout_follow_up(order=order)
        report.reservations_committed += result.committed
        report.carts_cleared += result.cleared
        report.orders_cancelled += result.cancelled
        if not result.cancelled and (
            order.reservation_committed_at is None or order.cart_cleared_at is None
        ):
            report.still_owed.append(order.number)

    unreleased = Order.objects.filter(status=OrderStatus.CANCELLED, stock_released_at__isnull=True)
    for order in unreleased.only("pk", "number"):
        if order_release_stock(order=order):
            report.stock_released += 1
        else:
            report.still_owed.append(order.number)
    return report


def _stale_key_settle(*, key_id: int) -> str | None:
    """A stale in-progress key: finish its order, or mark it failed. Returns its new state."""
    with transaction.atomic(using=DB):
        key = IdempotencyKey.objects.select_for_update().get(pk=key_id)
        if key.state != IdempotencyKeyState.IN_PROGRESS or not _is_stale(key):
            return None  # settled, or taken by a live request, meanwhile
        written_order_id = _order_id_for(number=key.order_number)
        if written_order_id is None:
            key.state = IdempotencyKeyState.FAILED
        key.save(update_fields=["state", "updated_at"])
    if written_order_id is None:
        _release_quietly(reference=key.order_number)
        return IdempotencyKeyState.FAILED
    _checkout_finish(key=key, order_id=written_order_id)
    return IdempotencyKeyState.COMPLETED
