"""The cart read's JSON (serializers.cart_representation) is CartSerializer's, to the byte."""

import json
from decimal import Decimal

from carts.clients import CatalogProduct
from carts.models import CartLine
from carts.pricing import empty_cart, price_cart
from carts.serializers import CartSerializer, cart_representation


def product(pk, price, tax_rate, stock=10, is_active=True):
    return CatalogProduct(
        id=pk,
        sku=f"SKU-{pk}",
        name=f"Product «{pk}»",
        price=Decimal(price),
        tax_rate=Decimal(tax_rate),
        stock=stock,
        is_active=is_active,
    )


def test_a_priced_cart_reads_exactly_as_its_serializer_writes_it():
    lines = [
        CartLine(id=3, product_id=1, quantity=2),
        CartLine(id=1, product_id=2, quantity=7),  # more than in stock
        CartLine(id=2, product_id=99, quantity=1),  # the catalog no longer knows it
        CartLine(id=4, product_id=3, quantity=1),
    ]
    products = {
        1: product(1, "19.99", "0.21"),
        2: product(2, "0.10", "0.055", stock=3),
        3: product(3, "1000000.5", "0", is_active=False),
    }
    for cart in (
        price_cart(lines=lines, products=products, is_guest=False),
        price_cart(lines=lines[:1], products=products, is_guest=True, cart_token="tok-1"),
        empty_cart(is_guest=True),
    ):
        expected = CartSerializer(cart).data
        assert cart_representation(cart) == expected
        assert json.dumps(cart_representation(cart)) == json.dumps(expected)
