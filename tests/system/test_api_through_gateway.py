"""What the catalog, cart and orders issues promise, checked from outside: through
nginx, on the real processes and MariaDB, with the database read back afterwards.
"""

import uuid
from decimal import Decimal

import pytest
import requests

from tests.support.problems import assert_problem
from tests.system.shopping import ShopUser, create_product, product_stock, token_buyer

# --- catalog -------------------------------------------------------------------------------


def test_catalog_list_is_capped_and_validated(gateway, staff):
    create_product(staff["catalog"], stock=1)
    page = requests.get(
        f"{gateway.url}/api/v1/catalog/products/", params={"page_size": 1000000}, timeout=30
    )
    assert page.status_code == 200
    assert len(page.json()["results"]) <= 100
    bad = requests.get(
        f"{gateway.url}/api/v1/catalog/products/", params={"min_price": "abc"}, timeout=30
    )
    assert "min_price" in assert_problem(bad, 400, "invalid")["errors"]


@pytest.mark.parametrize(
    "fields",
    [{"price": "-1.00"}, {"stock": -1}, {"tax_rate": "1.5"}],
    ids=["negative-price", "negative-stock", "tax-rate-over-1"],
)
def test_catalog_refuses_bad_products_and_stores_nothing(gateway, staff, shop, fields):
    sku = f"BAD-{uuid.uuid4().hex[:8]}"
    response = staff["catalog"].post(
        "/api/v1/catalog/products/",
        json={"sku": sku, "name": "Bad", "price": "1.00", "tax_rate": "0.21", "stock": 1} | fields,
    )
    assert next(iter(fields)) in assert_problem(response, 400, "invalid")["errors"]
    assert shop.query("ecommerce", "SELECT COUNT(*) FROM catalog_product WHERE sku = %s", sku) == [
        (0,)
    ]


def test_catalog_duplicate_sku_customer_and_anonymous_writes(gateway, staff, shop):
    product = create_product(staff["catalog"], stock=2)
    duplicate = staff["catalog"].post(
        "/api/v1/catalog/products/",
        json={"sku": product["sku"], "name": "Again", "price": "1.00", "tax_rate": "0.21"},
    )
    assert "sku" in assert_problem(duplicate, 400, "invalid")["errors"]

    path = f"/api/v1/catalog/products/{product['id']}/"
    assert_problem(token_buyer(gateway.url).patch(path, json={"price": "0.01"}), 403)
    assert_problem(ShopUser(gateway.url).patch(path, json={"price": "0.01"}), 401)
    assert shop.query(
        "ecommerce", "SELECT price FROM catalog_product WHERE id = %s", product["id"]
    ) == [(Decimal("19.99"),)]


# --- cart ----------------------------------------------------------------------------------


def cart_lines(shop, user_id: int) -> list[tuple[int, int]]:
    return shop.query(
        "ecommerce",
        "SELECT line.product_id, line.quantity FROM carts_cartline line"
        " JOIN carts_cart cart ON cart.id = line.cart_id WHERE cart.user_id = %s"
        " ORDER BY line.product_id",
        user_id,
    )


def test_cart_merges_lines_caps_at_stock_and_prices_exactly(gateway, staff, shop):
    lamp = create_product(staff["catalog"], stock=3, price="19.99")
    bulb = create_product(staff["catalog"], stock=9, price="0.05")
    buyer = token_buyer(gateway.url)

    buyer.add_to_cart(lamp["id"], 2)
    cart = buyer.add_to_cart(lamp["id"], 1).json()
    assert [(i["product_id"], i["quantity"]) for i in cart["items"]] == [(lamp["id"], 3)]
    assert_problem(buyer.add_to_cart(lamp["id"], 1, expect=None), 409)
    assert cart_lines(shop, buyer.user_id) == [(lamp["id"], 3)]

    cart = buyer.add_to_cart(bulb["id"], 3).json()
    # 3 × 19.99 = 59.97, tax 12.5937 → 12.59; 3 × 0.05 = 0.15, tax 0.0315 → 0.03.
    assert (cart["subtotal"], cart["tax"], cart["total"]) == ("60.12", "12.62", "72.74")
    assert cart["item_count"] == 6


@pytest.mark.parametrize("quantity", [0, -1, "abc", 10**9])
def test_cart_refuses_bad_quantities_and_unknown_products(gateway, staff, shop, quantity):
    product = create_product(staff["catalog"], stock=5)
    buyer = token_buyer(gateway.url)
    assert_problem(buyer.add_to_cart(product["id"], quantity, expect=None), 400)
    assert_problem(buyer.add_to_cart(2**40, 1, expect=None), 400)
    assert cart_lines(shop, buyer.user_id) == []


def test_another_customers_cart_line_is_a_404_and_stays(gateway, staff, shop):
    product = create_product(staff["catalog"], stock=5)
    owner, intruder = token_buyer(gateway.url), token_buyer(gateway.url)
    line_id = owner.add_to_cart(product["id"], 2).json()["items"][0]["id"]

    assert_problem(intruder.patch(f"/api/v1/cart/items/{line_id}/", json={"quantity": 5}), 404)
    assert_problem(intruder.delete(f"/api/v1/cart/items/{line_id}/"), 404)
    assert cart_lines(shop, owner.user_id) == [(product["id"], 2)]


@pytest.fixture
def catalog_stopped(shop):
    shop.services["catalog"].stop()
    yield
    shop.services["catalog"].start()


def test_cart_writes_are_503_and_change_nothing_while_the_catalog_is_down(
    gateway, staff, shop, request
):
    product = create_product(staff["catalog"], stock=5)
    buyer = token_buyer(gateway.url)
    line_id = buyer.add_to_cart(product["id"], 1).json()["items"][0]["id"]

    request.getfixturevalue("catalog_stopped")
    assert_problem(buyer.add_to_cart(product["id"], 1, expect=None), 503, "service_unavailable")
    assert_problem(buyer.patch(f"/api/v1/cart/items/{line_id}/", json={"quantity": 3}), 503)
    assert cart_lines(shop, buyer.user_id) == [(product["id"], 1)]


# --- orders --------------------------------------------------------------------------------


def test_checkout_rules_from_outside(gateway, staff, shop):
    product = create_product(staff["catalog"], stock=4, price="10.00")
    buyer = token_buyer(gateway.url)
    buyer.add_to_cart(product["id"], 2)
    cart = buyer.get("/api/v1/cart/", expect=200).json()

    no_key = buyer.post("/api/v1/orders/", json={"shipping_address": {}}, headers={})
    assert_problem(no_key, 400, "idempotency_key_required")

    key = uuid.uuid4().hex
    order = buyer.checkout(key, expect=201).json()
    assert (order["subtotal"], order["tax"], order["total"]) == (
        cart["subtotal"],
        cart["tax"],
        cart["total"],
    )
    assert buyer.cart_quantities() == {}
    assert product_stock(gateway.url, product["id"]) == 2
    assert buyer.checkout(key, expect=201).json()["id"] == order["id"]
    other_body = buyer.checkout(key, body={"notes": "a different request"})
    assert_problem(other_body, 422, "idempotency_key_reused")
    assert shop.query(
        "ecommerce", "SELECT COUNT(*) FROM orders_order WHERE user_id = %s", buyer.user_id
    ) == [(1,)]

    # Nobody else sees it; the customer cannot move it; staff may only make allowed moves.
    assert_problem(token_buyer(gateway.url).get(f"/api/v1/orders/{order['id']}/"), 404)
    status_path = f"/api/v1/orders/{order['id']}/status/"
    assert_problem(buyer.post(status_path, json={"status": "confirmed"}), 403)
    staff["orders"].post(status_path, json={"status": "confirmed", "note": ""}, expect=200)
    assert_problem(staff["orders"].post(status_path, json={"status": "delivered"}), 409)
    assert shop.query(
        "ecommerce", "SELECT status FROM orders_order WHERE id = %s", order["id"]
    ) == [("confirmed",)]

    # Cancelled by its owner while confirmed: the stock is back exactly.
    buyer.post(f"/api/v1/orders/{order['id']}/cancel/", json={}, expect=200)
    assert product_stock(gateway.url, product["id"]) == 4
    assert_problem(buyer.post(f"/api/v1/orders/{order['id']}/cancel/", json={}), 409)
    assert product_stock(gateway.url, product["id"]) == 4
