"""Finish or undo checkouts that stopped halfway (recovery rules: orders/services/checkout.py).

Once, from cron:          manage.py reconcile_checkouts
Forever, in a container:  manage.py reconcile_checkouts --loop 60

Run it well inside the catalog's reservation TTL (RESERVATION_TTL_SECONDS, 15 min),
so that an order whose commit failed is committed before its reservation expires.
Every step is idempotent: safe while the shop serves, and even twice at once.
"""

from orders.services import checkouts_reconcile
from shopkit.commands import PeriodicCommand


class Command(PeriodicCommand):
    help = (
        "Commit reservations and clear carts that checkouts still owe, finish stale "
        "in-progress checkouts whose lease ran out and that wrote their order, mark the others failed (retryable), "
        "expire unpaid card orders and retry owed refunds. "
        "With --loop SECONDS, keep doing it."
    )

    def run_once(self, **options):
        self.report(checkouts_reconcile())

    def report(self, report):
        self.stdout.write(
            f"Keys completed: {report.keys_completed}, keys failed: {report.keys_failed}, "
            f"reservations committed: {report.reservations_committed}, "
            f"carts cleared: {report.carts_cleared}, "
            f"orders cancelled (reservation expired): {report.orders_cancelled}, "
            f"cancelled orders' stock released: {report.stock_released}, "
            f"unpaid orders expired: {report.payments.orders_expired}, "
            f"payments found succeeded: {report.payments.payments_settled}, "
            f"refunds made: {report.payments.refunds_made}, "
            f"refunds still owed: {report.payments.refunds_owed}."
        )
        if report.still_owed:
            shown = ", ".join(report.still_owed[:20])
            more = len(report.still_owed) - 20
            self.stdout.write(
                self.style.WARNING(
                    f"Still owed by {len(report.still_owed)} order(s) (a neighbour is down; "
                    f"the next pass retries): {shown}{f' and {more} more' if more > 0 else ''}"
                )
            )
