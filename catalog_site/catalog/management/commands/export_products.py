"""Export every product as CSV (the admin's format): manage.py export_products [--output FILE]."""

import sys

from django.core.management.base import BaseCommand

from catalog.csv_io import products_export_csv


class Command(BaseCommand):
    help = "Write all products as CSV to --output FILE (default: standard output)."

    def add_arguments(self, parser):
        parser.add_argument("--output", "-o", metavar="FILE", help="Default: standard output.")

    def handle(self, *args, output, **options):
        if output is None:
            products_export_csv(output=sys.stdout)
            return
        with open(output, "w", encoding="utf-8", newline="") as file:
            count = products_export_csv(output=file)
        self.stderr.write(f"Exported {count} product(s) to {output}.")
