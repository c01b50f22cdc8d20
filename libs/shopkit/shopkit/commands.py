"""Base of the services' periodic jobs (reservation expiry, checkout reconciliation)."""

import signal
import time

from django.core.management.base import BaseCommand, CommandError
from django.db import DatabaseError, close_old_connections, connections

from shopkit.requestid import bind_request_id


class PeriodicCommand(BaseCommand):
    """A job run once (from cron) or forever with `--loop SECONDS` (in a container).

    Subclasses implement `run_once(**options)`. In a loop, a database failure does
    not end the process (the next pass retries), SIGTERM/SIGINT stop it cleanly
    between passes, and every pass gets its own request id for its log lines and
    service calls.
    """

    def add_arguments(self, parser):
        parser.add_argument(
            "--loop",
            type=float,
            metavar="SECONDS",
            help="Run forever, pausing SECONDS between passes (SIGTERM stops it cleanly).",
        )

    def run_once(self, **options):
        raise NotImplementedError

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
            bind_request_id(None)
            try:
                self.run_once(**options)
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
            # A long-running process: drop connections past CONN_MAX_AGE or broken.
            close_old_connections()
