"""An index for staff lists of products in the default order (inactive ones included)."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("catalog", "0005_eu_tax_rates"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="product",
            index=models.Index(fields=["name", "id"], name="catalog_prod_name"),
        ),
    ]
