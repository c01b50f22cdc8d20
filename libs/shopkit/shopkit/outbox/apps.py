from django.apps import AppConfig


class OutboxConfig(AppConfig):
    name = "shopkit.outbox"
    label = "outbox"
    verbose_name = "Outbox (email)"
    default_auto_field = "django.db.models.BigAutoField"
