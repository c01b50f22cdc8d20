from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("orders", "0002_order_stock_released_at"),
    ]

    operations = [
        migrations.AddField(
            model_name="idempotencykey",
            name="lease_owner",
            field=models.CharField(blank=True, default="", max_length=32),
        ),
        migrations.AddField(
            model_name="idempotencykey",
            name="lease_expires_at",
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name="idempotencykey",
            name="running_for_user",
            field=models.PositiveBigIntegerField(blank=True, null=True, unique=True),
        ),
    ]
