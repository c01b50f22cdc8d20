"""Settings for the auth service's tests (pytest --ds=tests.auth.settings)."""

from tests.support.environment import apply_test_settings, prepare_environment

prepare_environment("auth")

from auth_site.settings import *  # noqa: E402, F403

apply_test_settings("auth", globals())
