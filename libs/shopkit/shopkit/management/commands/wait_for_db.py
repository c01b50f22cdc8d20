import time

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import connections


class Command(BaseCommand):
    help = "Wait until every database of this service answers (for container start-up)."

    def add_arguments(self, parser):
        parser.add_argument("--timeout", type=float, default=60.0)

    def handle(self, *args, timeout, **options):
        deadline = time.monotonic() + timeout
        for alias in settings.DATABASES:
            while True:
                try:
                    connections[alias].ensure_connection()
                    break
                except Exception as exc:
                    if time.monotonic() > deadline:
                        raise CommandError(f"database '{alias}' not reachable: {exc}") from exc
                    connections[alias].close()
                    time.sleep(1)
            self.stdout.write(f"database '{alias}' is up")
