from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("carts", "0001_initial"),
    ]

    operations = [
        migrations.AddField(
            model_name="cartline",
            name="created_version",
            field=models.PositiveIntegerField(default=0),
        ),
        migrations.AddField(
            model_name="appliedclear",
            name="read_version",
            field=models.PositiveIntegerField(
                default=0, help_text="The cart version the checkout read (and ordered)."
            ),
        ),
    ]
