"""Settings for the catalog service's tests (pytest --ds=tests.catalog.settings)."""

from tests.support.environment import apply_test_settings, prepare_environment

prepare_environment("catalog")

from catalog_site.settings import *  # noqa: E402, F403

apply_test_settings("catalog", globals())
