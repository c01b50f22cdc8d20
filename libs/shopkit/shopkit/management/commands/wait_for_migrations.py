import time

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import connections
from django.db.migrations.executor import MigrationExecutor


def pending_migrations(alias: str) -> list[str]:
    """Migrations of this service not yet applied on database `alias`."""
    connection = connections[alias]
    executor = MigrationExecutor(connection)
    plan = executor.migration_plan(executor.loader.graph.leaf_nodes())
    return [f"{migration.app_label}.{migration.name}" for migration, _ in plan]


class Command(BaseCommand):
    help = (
        "Wait until every migration of this service is applied on every database "
        "(a Kubernetes init container: new pods start only after the migrations Job)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--timeout", type=float, default=600.0)
        parser.add_argument("--interval", type=float, default=3.0)

    def handle(self, *args, timeout, interval, **options):
        deadline = time.monotonic() + timeout
        while True:
            try:
                pending = {alias: pending_migrations(alias) for alias in settings.DATABASES}
            except Exception as exc:  # a database not up yet: keep waiting
                pending = {"?": [f"{type(exc).__name__}: {exc}"]}
                for alias in settings.DATABASES:
                    connections[alias].close()
            if not any(pending.values()):
                self.stdout.write("every migration is applied")
                return
            if time.monotonic() > deadline:
                raise CommandError(f"migrations still pending after {timeout:.0f}s: {pending}")
            time.sleep(interval)
