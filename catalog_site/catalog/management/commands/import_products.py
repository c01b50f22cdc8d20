"""Create or update products from CSV by sku, all or nothing: manage.py import_products FILE."""

import io

from django.core.management.base import BaseCommand, CommandError

from catalog.csv_io import CsvImportError, decode_upload, products_import_csv


class Command(BaseCommand):
    help = "Import products from a CSV file (the export's columns); a bad row stops everything."

    def add_arguments(self, parser):
        parser.add_argument("file", help="UTF-8 CSV with a header row.")

    def handle(self, *args, file, **options):
        try:
            with open(file, "rb") as raw:
                text = decode_upload(raw.read())
            result = products_import_csv(source=io.StringIO(text, newline=""))
        except OSError as exc:
            raise CommandError(f"cannot read {file}: {exc.strerror}") from exc
        except CsvImportError as exc:
            details = "\n".join(f"  line {e.line}: {e.message}" for e in exc.line_errors)
            raise CommandError(f"{file} was not imported; nothing changed.\n{details}") from exc
        self.stdout.write(
            f"Imported {file}: {result.created} created, {result.updated} updated, "
            f"{result.unchanged} unchanged."
        )
