"""Release reservations still `reserved` past their expiry (their stock goes back).

Once, from cron:          manage.py release_expired_reservations
Forever, in a container:  manage.py release_expired_reservations --loop 60

Safe to run while the shop serves and even twice at once: each reservation is
re-checked under its row lock, so a commit that wins the race keeps its stock.
"""

import signal
import time

from django.core.management.base import BaseCommand, CommandError
from django.db import DatabaseError, close_old_connections, connections

from catalog.services import release_expired_reservations
from shopkit.requestid import bind_request_id


class Command(BaseCommand):
    help = "Release expired stock reservations; with --loop SECONDS, keep doing it."

    def add_arguments(self, parser):
        parser.add_argument(
            "--loop",
            type=float,
            metavar="SECONDS",
            help="Run forever, pausing SECONDS between passes (SIGTERM stops it cleanly).",
        )
        parser.add_argument("--batch-size", type=int, default=200)

    def handle(self, *args, loop, batch_size, **options):
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
            bind_request_id(None)  # one id per pass, on every log line
            try:
                released = release_expired_reservations(batch_size=batch_size)
            except DatabaseError as exc:
                if loop is None:
                    raise CommandError(f"the database failed: {exc}") from exc
                # A database restart must not end the loop: try again next pass.
                self.stderr.write(f"Pass failed, retrying in {loop:g}s: {exc}")
                connections.close_all()
            else:
                self.stdout.write(f"Released {released} expired reservation(s).")
            if loop is None:
                return
            deadline = time.monotonic() + loop
            while not stopping and time.monotonic() < deadline:
                time.sleep(min(1.0, loop))
            if stopping:
                connections.close_all()
                return
            # A long-running process: drop connections past CONN_MAX_AGE or broken.
            close_old_connections()
