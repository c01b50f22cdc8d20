"""Settings for the orders service's tests (pytest --ds=tests.orders.settings)."""

from tests.support.environment import apply_test_settings, prepare_environment

prepare_environment("orders")

from orders_site.settings import *  # noqa: E402, F403

apply_test_settings("orders", globals())
