from django.apps import AppConfig


class ShopkitConfig(AppConfig):
    """Installed in every service for its templates (admin header) and commands."""

    name = "shopkit"
    verbose_name = "Tienda shared kit"
