"""A FULLTEXT index for the product search on MySQL/MariaDB (name, description, sku).

Django has no FULLTEXT index type, so it is created in SQL, on MySQL/MariaDB
only; SQLite keeps the substring search (catalog.filters).
"""

from django.db import migrations

INDEX = "catalog_prod_search_ft"


def create_index(apps, schema_editor):
    if schema_editor.connection.vendor == "mysql":
        schema_editor.execute(
            f"ALTER TABLE catalog_product ADD FULLTEXT INDEX {INDEX} (name, description, sku)"
        )


def drop_index(apps, schema_editor):
    if schema_editor.connection.vendor == "mysql":
        schema_editor.execute(f"ALTER TABLE catalog_product DROP INDEX {INDEX}")


class Migration(migrations.Migration):
    # DDL in RunPython: MySQL cannot roll DDL back, so no transaction around it.
    atomic = False
    dependencies = [("catalog", "0002_tax_rate_four_decimals")]

    operations = [migrations.RunPython(create_index, drop_index, elidable=False)]
