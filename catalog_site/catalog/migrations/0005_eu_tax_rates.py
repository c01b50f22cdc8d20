"""Seed catalog.TaxRate with the 27 EU countries' standard and reduced VAT rates.

The rates are data (catalog/eu_vat.py, with the date they were checked); staff keep
them current in the catalog admin. Rows already there are left as they are.
"""

from django.db import migrations


def seed_rates(apps, schema_editor):
    from catalog.eu_vat import eu_tax_rate_rows

    TaxRate = apps.get_model("catalog", "TaxRate")
    db = schema_editor.connection.alias
    existing = set(TaxRate.objects.using(db).values_list("country", "tax_class"))
    TaxRate.objects.using(db).bulk_create(
        TaxRate(**row)
        for row in eu_tax_rate_rows()
        if (row["country"], row["tax_class"]) not in existing
    )


class Migration(migrations.Migration):
    dependencies = [("catalog", "0004_product_tax_class_tax_rates")]

    operations = [migrations.RunPython(seed_rates, migrations.RunPython.noop)]
