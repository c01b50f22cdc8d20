from django.apps import AppConfig
from django.conf import settings


class ShopkitConfig(AppConfig):
    """Installed in every service for its templates (admin header), commands and admin setup."""

    name = "shopkit"
    verbose_name = "Tienda shared kit"

    def ready(self):
        # django.contrib.admin is installed before shopkit, so autodiscovery has run.
        from shopkit import metrics
        from shopkit.admin import configure_admin_site

        configure_admin_site(settings.SERVICE_NAME)
        metrics.install()
