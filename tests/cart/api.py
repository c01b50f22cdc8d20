"""Calling the cart's public API in tests."""

CART = "/api/v1/cart/"
ITEMS = "/api/v1/cart/items/"


def item_url(line_id):
    return f"/api/v1/cart/items/{line_id}/"


def add(client, product_id, quantity, **extra):
    return client.post(ITEMS, {"product_id": product_id, "quantity": quantity}, **extra)
