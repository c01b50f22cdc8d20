from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Migrate every database alias of this service and create the cache table."

    def handle(self, *args, **options):
        verbosity = options["verbosity"]
        for alias in settings.DATABASES:
            self.stdout.write(f"Migrating database '{alias}'")
            call_command("migrate", database=alias, interactive=False, verbosity=verbosity)
        call_command("createcachetable", database="default", verbosity=verbosity)
