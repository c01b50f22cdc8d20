"""Recovery of checkouts that stopped halfway (`manage.py reconcile_checkouts`).

It applies the recovery table of services/checkout.py; every step is idempotent, so
running it twice, or next to live checkouts, is safe.
"""

from dataclasses import dataclass, field

from orders.models import IdempotencyKeyState, Order, OrderStatus
from orders.services.checkout import (
    checkout_abandoned_settle,
    checkout_follow_up,
    orders_owing_follow_up,
)
from orders.services.idempotency import expired_keys_in_progress
from orders.services.payments import PaymentsReconcileReport, payments_reconcile
from orders.services.status import order_release_stock


@dataclass
class ReconcileReport:
    keys_failed: int = 0
    keys_completed: int = 0
    reservations_committed: int = 0
    carts_cleared: int = 0
    orders_cancelled: int = 0
    stock_released: int = 0
    still_owed: list[str] = field(default_factory=list)
    payments: PaymentsReconcileReport = field(default_factory=PaymentsReconcileReport)


def checkouts_reconcile() -> ReconcileReport:
    """Finish or undo what checkouts left behind.

    1. Keys in progress whose lease ran out (their process died): with an order, the
       checkout is finished (commit, clear, 201 stored); without, its number is released
       and the key marked failed, so the client's retry runs the checkout again.
    2. Orders that still owe the reservation commit or the cart clear get them.
    3. Unpaid orders of an online payment provider past ORDER_PAYMENT_TIMEOUT_MINUTES are
       cancelled (services/payments.py), so their stock goes back in step 4.
    4. Cancelled orders whose stock did not go back yet (the catalog was down) get it back.
    5. Refunds still owed (the provider was down) are asked for again.
    """
    report = ReconcileReport()
    for key_id in list(expired_keys_in_progress().values_list("pk", flat=True)):
        outcome = checkout_abandoned_settle(key_id=key_id)
        report.keys_failed += outcome == IdempotencyKeyState.FAILED
        report.keys_completed += outcome == IdempotencyKeyState.COMPLETED

    for order in orders_owing_follow_up():
        result = checkout_follow_up(order=order)
        report.reservations_committed += result.committed
        report.carts_cleared += result.cleared
        report.orders_cancelled += result.cancelled
        owes_commit = order.status != OrderStatus.CANCELLED and not result.cancelled
        if (owes_commit and order.reservation_committed_at is None) or (
            order.cart_cleared_at is None
        ):
            report.still_owed.append(order.number)

    report.payments = payments_reconcile()
    unreleased = Order.objects.filter(status=OrderStatus.CANCELLED, stock_released_at__isnull=True)
    for order in unreleased.only("pk", "number"):
        if order_release_stock(order=order):
            report.stock_released += 1
        else:
            report.still_owed.append(order.number)
    return report
