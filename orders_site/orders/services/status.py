"""The order status machine (docs/architecture.md) and cancellation, with every change recorded."""

from django.db import transaction
from django.utils import timezone

from orders import clients
from orders.errors import OrderErrorCode
from orders.models import (
    ALLOWED_TRANSITIONS,
    Order,
    OrderPaymentStatus,
    OrderStatus,
    StatusChange,
)
from orders.services.emails import order_cancelled_email, order_shipped_email
from shopkit.errors import ApplicationError
from shopkit.prepared import PreparedInsert
from shopkit.routers import ECOMMERCE_DB

_INSERT_STATUS_CHANGE = PreparedInsert(StatusChange)  # its SQL kept (shopkit.prepared)

CUSTOMER_CANCELLABLE = frozenset({OrderStatus.PENDING, OrderStatus.CONFIRMED})
STAFF_CANCELLABLE = frozenset({OrderStatus.PENDING, OrderStatus.CONFIRMED, OrderStatus.PROCESSING})


def status_change_record(
    *,
    order: Order,
    from_status: str | None,
    to_status: str,
    by_user_id: int | None,
    by_email: str = "",
    note: str = "",
    validated: bool = False,
) -> StatusChange:
    """One history entry (from, to, by, at, note); the caller holds the order's transaction.

    `validated`: every value is known good (the checkout's first entry: a fixed note,
    the token's email), so the entry is not checked field by field first.
    """
    change = StatusChange(
        order=order,
        from_status=from_status,
        to_status=to_status,
        by_user_id=by_user_id,
        by_email=by_email or "",
        note=note or "",
    )
    if not validated:
        change.full_clean(exclude=["order"])
    return _INSERT_STATUS_CHANGE.save(change)


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
    status_change_record(
        order=order,
        from_status=from_status,
        to_status=to_status,
        by_user_id=by_user_id,
        by_email=by_email,
        note=note,
    )


def _tracking_checked(carrier: str | None, tracking_number: str | None) -> tuple[str, str]:
    carrier, tracking_number = (carrier or "").strip(), (tracking_number or "").strip()
    missing = {
        name: ["Required to ship an order."]
        for name, value in (("carrier", carrier), ("tracking_number", tracking_number))
        if not value
    }
    if missing:
        raise ApplicationError(
            "Shipping an order needs its carrier and tracking number.",
            code=OrderErrorCode.TRACKING_REQUIRED,
            status=400,
            errors=missing,
        )
    return carrier, tracking_number


def order_change_status(
    *,
    order: Order,
    to_status: str,
    by_user_id: int | None,
    by_email: str = "",
    note: str = "",
    carrier: str | None = None,
    tracking_number: str | None = None,
) -> Order:
    """Staff move an order along the status machine (docs/architecture.md); 409 for any other move.

    Cancelling goes through `order_cancel`, so the stock always goes back. Shipping needs
    the `carrier` and `tracking_number` (400 `tracking_required`): stored on the order,
    shown to the customer, and named in the history entry.
    """
    if to_status == OrderStatus.CANCELLED:
        return order_cancel(
            order=order, by_user_id=by_user_id, by_email=by_email, note=note, by_staff=True
        )
    with transaction.atomic(using=ECOMMERCE_DB):
        locked = Order.objects.select_for_update().get(pk=order.pk)
        if to_status not in ALLOWED_TRANSITIONS.get(locked.status, ()):
            raise _invalid_transition(locked, to_status)
        if to_status == OrderStatus.SHIPPED:
            carrier, tracking_number = _tracking_checked(carrier, tracking_number)
            shipped = f"Shipped with {carrier}, tracking number {tracking_number}."
            note = f"{note} {shipped}" if note else shipped
            locked.tracking_carrier, locked.tracking_number = carrier, tracking_number
            locked.save(update_fields=["tracking_carrier", "tracking_number", "updated_at"])
        _status_set(
            order=locked, to_status=to_status, by_user_id=by_user_id, by_email=by_email, note=note
        )
        if to_status == OrderStatus.SHIPPED:
            order_shipped_email(order=locked)
    return locked


def order_cancel(
    *,
    order: Order,
    by_user_id: int | None,
    by_staff: bool,
    by_email: str = "",
    note: str = "",
    only_if_unpaid: bool = False,
) -> Order:
    """Cancel an order, give its stock back through the catalog and refund what was paid.

    The owner may cancel while pending or confirmed; staff also while processing.
    The cancellation is committed first and the stock released after it: no row lock
    is held across the call to the catalog, and nothing can move an order out of
    "cancelled", so releasing afterwards is safe. If the catalog cannot be reached,
    the order is still cancelled and `reconcile_checkouts` gives the stock back later.
    The same goes for the refund of a paid order (services/payments.py): in full through
    its provider after the commit, retried by reconcile while the provider is down; a
    payment that succeeds after the cancellation is refunded too. `only_if_unpaid` (the
    expiry of unpaid orders) refuses with 409 when a payment arrived meanwhile.
    """
    allowed = STAFF_CANCELLABLE if by_staff else CUSTOMER_CANCELLABLE
    with transaction.atomic(using=ECOMMERCE_DB):
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
        if only_if_unpaid and locked.payment_status != OrderPaymentStatus.UNPAID:
            raise _invalid_transition(
                locked, OrderStatus.CANCELLED, "The order was paid meanwhile; it stays."
            )
        _status_set(
            order=locked,
            to_status=OrderStatus.CANCELLED,
            by_user_id=by_user_id,
            by_email=by_email,
            note=note,
        )
        order_cancelled_email(order=locked, paid=locked.payment_status != OrderPaymentStatus.UNPAID)
    order_release_stock(order=locked)
    from orders.services.payments import order_payments_refund_all  # payments imports this module

    order_payments_refund_all(order=locked, reason="Refunded in full: the order was cancelled.")
    locked.refresh_from_db()
    return locked


def order_release_stock(*, order: Order) -> bool:
    """Give a cancelled order's units back (idempotent in the catalog); False while it is down."""
    if not clients.catalog_release_quietly(reference=order.number):
        return False
    order.stock_released_at = timezone.now()
    Order.objects.filter(pk=order.pk).update(stock_released_at=order.stock_released_at)
    return True
