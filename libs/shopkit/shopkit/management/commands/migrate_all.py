from django.apps import apps
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand
from django.db import connections
from django.db.migrations.recorder import MigrationRecorder

from shopkit.routers import PER_SERVICE_APPS, database_for_app


def unrecord_foreign_per_service_apps(alias: str) -> list[str]:
    """Forget the migrations Django recorded on `alias` for a per-service app (the outbox)
    that lives in another database here, when its tables are not on `alias`.

    Django records every migration in every database, applied or skipped by the router.
    The outbox has the same app label in auth (auth_db) and orders (ecommerce_db): when
    auth migrates ecommerce_db first, its skipped `outbox` migrations would be recorded
    there, and orders would then never create its own outbox table.
    """
    connection = connections[alias]
    tables = set(connection.introspection.table_names())
    forgotten = []
    for config in apps.get_app_configs():
        if config.label not in PER_SERVICE_APPS or database_for_app(config.label) == alias:
            continue
        if any(model._meta.db_table in tables for model in config.get_models()):
            continue  # the service that owns it on this database has migrated it
        recorder = MigrationRecorder(connection)
        if recorder.has_table():
            deleted, _ = recorder.migration_qs.filter(app=config.label).delete()
            if deleted:
                forgotten.append(config.label)
    return forgotten


class Command(BaseCommand):
    help = "Migrate every database alias of this service and create the cache table."

    def handle(self, *args, **options):
        verbosity = options["verbosity"]
        for alias in settings.DATABASES:
            self.stdout.write(f"Migrating database '{alias}'")
            call_command("migrate", database=alias, interactive=False, verbosity=verbosity)
            for label in unrecord_foreign_per_service_apps(alias):
                self.stdout.write(f"  {label}: not this service's on '{alias}', left unrecorded")
        call_command("createcachetable", database="default", verbosity=verbosity)
