"""Settings for the cart service's tests (pytest --ds=tests.cart.settings)."""

from tests.support.environment import apply_test_settings, prepare_environment

prepare_environment("cart")

from cart_site.settings import *  # noqa: E402, F403

apply_test_settings("cart", globals())
