"""The cart's internal contract (tests/support/contracts.py), run against the real cart
and against the fake the orders' tests use in its place."""

import pytest

from tests.cart.factories import CartFactory, CartLineFactory
from tests.orders.fakes import FakeNeighbours
from tests.support.contracts import FakeApi, InProcessApi, check_cart_read_and_clear
from tests.support.databases import BOTH_DATABASES


@pytest.mark.django_db(databases=BOTH_DATABASES)
def test_the_real_cart(settings):
    def fill_cart(user_id, lines):
        from carts.models import Cart

        cart = Cart.objects.filter(user_id=user_id).first() or CartFactory(user_id=user_id)
        for product_id, quantity in lines.items():
            CartLineFactory(cart=cart, product_id=product_id, quantity=quantity)
        Cart.objects.filter(pk=cart.pk).update(version=cart.version + 1)

    check_cart_read_and_clear(InProcessApi(settings.SERVICE_TOKEN), fill_cart)


def test_the_orders_fake_cart(settings):
    fake = FakeNeighbours(settings.SERVICE_TOKEN)
    try:
        check_cart_read_and_clear(FakeApi(fake), fake.fill_cart)
    finally:
        fake.close()
