"""Service functions called directly: the rules that the API tests reach only by luck."""

from decimal import Decimal

import pytest

from carts import services
from carts.clients import CatalogProduct
from carts.models import Cart, CartLine
from carts.owners import CartOwner
from carts.pricing import price_cart
from carts.services import cart_add_line
from shopkit.errors import ApplicationError
from tests.support.databases import BOTH_DATABASES

pytestmark = pytest.mark.django_db(databases=BOTH_DATABASES)


def test_losing_the_race_to_create_a_cart_runs_the_write_again(catalog, monkeypatch):
    product = catalog.add_product()
    real_new_cart = services._new_cart
    attempts = []

    def racing(owner):
        attempts.append(owner)
        if len(attempts) == 1:
            # Our INSERT hit the unique user_id of a cart another request just made
            # (the real race runs in test_concurrency.py).
            raise services._CartCreatedConcurrently
        return real_new_cart(owner)

    monkeypatch.setattr(services, "_new_cart", racing)
    result = cart_add_line(owner=CartOwner(user_id=3), product_id=product["id"], quantity=2)
    assert len(attempts) == 2 and result.created
    cart = Cart.objects.get(user_id=3)
    assert cart.version == 1
    assert list(CartLine.objects.values_list("cart_id", "quantity")) == [(cart.pk, 2)]


def test_a_cart_that_keeps_losing_the_race_is_a_409(catalog, monkeypatch):
    product = catalog.add_product()

    def always_losing(owner):
        raise services._CartCreatedConcurrently

    monkeypatch.setattr(services, "_new_cart", always_losing)
    with pytest.raises(ApplicationError) as refused:
        cart_add_line(owner=CartOwner(user_id=3), product_id=product["id"], quantity=1)
    assert refused.value.status == 409 and refused.value.code == "cart_busy"
    assert not Cart.objects.exists()


def test_pricing_follows_the_shared_money_rule():
    lines = [
        CartLine(id=1, product_id=10, quantity=3),
        CartLine(id=2, product_id=20, quantity=2),
    ]
    products = {
        10: CatalogProduct(10, "A", "a", Decimal("19.99"), Decimal("0.21"), 5, True),
        20: CatalogProduct(20, "B", "b", Decimal("4.10"), Decimal("0.04"), 1, True),
    }
    priced = price_cart(lines=lines, products=products, is_guest=False)
    assert (priced.subtotal, priced.tax, priced.total) == (
        Decimal("68.17"),
        Decimal("12.92"),
        Decimal("81.09"),
    )
    assert [item.available for item in priced.items] == [True, False]  # stock 1 < 2
    assert priced.item_count == 5
