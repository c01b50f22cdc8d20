"""Calling the cart's public API in tests."""

CART = "/api/v1/cart/"
ITEMS = "/api/v1/cart/items/"


def item_url(line_id):
    return f"/api/v1/cart/items/{line_id}/"


def add(client, product_id, quantity, **extra):
    return client.post(ITEMS, {"product_id": product_id, "quantity": quantity}, **extra)


def assert_problem(response, status, code):
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith("application/problem+json")
    body = response.json()
    assert body["code"] == code
    assert body["status"] == status
    return body
