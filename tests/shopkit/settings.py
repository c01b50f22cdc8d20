"""shopkit's tests run inside a stateless verifier service (catalog's project)."""

from tests.support.environment import apply_test_settings, prepare_environment

prepare_environment("shopkit")

from catalog_site.settings import *  # noqa: E402, F403

apply_test_settings("shopkit", globals())
ROOT_URLCONF = "tests.shopkit.urls"
# shopkit.address names countries through django-countries' translations.
INSTALLED_APPS = [*INSTALLED_APPS, "django_countries"]
