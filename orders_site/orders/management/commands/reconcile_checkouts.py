"""Finish or undo checkouts that stopped halfway (the recovery rules in orders/services.py).

Once, from cron:          manage.py reconcile_checkouts
Forever, in a container:  manage.py reconcile_checkouts --loop 60

Run it well inside the catalog's reservation TTL (RESERVATION_TTL_SECONDS, 15 min),
so that an order whose commit failed is committed before its reservation expires.
Every step is idempotent: safe while the shop serves, and even twice at once.
"""

import signal
import time

from django.core.management.base import BaseCommand, CommandError
from django.db import DatabaseError, close_old_connections, connections

from orders.services import checkouts_reconcile
from shopkit.requestid import bind_request_id


class Command(BaseCommand):
    help = (
        "Commit reservations and clear carts that checkouts still owe, finish stale "
        "in-progress checkouts that wrote their order, mark the others failed (retryable). "
        "With --loop SECONDS, keep doing it."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--loop",
            type=float,
            metavar="SECONDS",
            help="Run forever, pausing SECONDS between passes (SIGTERM stops it cleanly).",
        )

    def handle(self, *args, loop, **options):
        if loop is not None and loop <= 0:
            raise CommandError("--loop needs a positive number of seconds.")
        stopping = False

        def stop(signum, frame):
            nonlocal stopping
            stopping = True

        if loop is not None:
            signal.signal(signal.SIGTERM, stop)
            signal.signal(signal.SIGINT, stop)
        while True:
            bind_request_id(None)  # one id per pass, on every log line and service call
            try:
                self.report(checkouts_reconcile())
            except DatabaseError as exc:
                if loop is None:
                    raise CommandError(f"the database failed: {exc}") from exc
                self.stderr.write(f"Pass failed, retrying in {loop:g}s: {exc}")
                connections.close_all()
            if loop is None:
                return
            deadline = time.monotonic() + loop
            while not stopping and time.monotonic() < deadline:
                time.sleep(min(1.0, loop))
            if stopping:
                connections.close_all()
                return
            close_old_connections()

    def report(self, report):
        self.stdout.write(
            f"Keys completed: {report.keys_completed}, keys failed: {report.keys_failed}, "
            f"reservations committed: {report.reservations_committed}, "
            f"carts cleared: {report.carts_cleared}, "
            f"orders cancelled (reservation expired): {report.orders_cancelled}."
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
