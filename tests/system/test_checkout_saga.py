"""Checkout on the real processes and MariaDB, through the gateway: exactly once, never oversold.

Buyers carry access tokens minted with the key the services trust; products are
made through the catalog's staff API; carts are filled through the cart API. What
the orders service stored is read back from its tables (orders_order,
orders_idempotencykey) in the system database.
"""

import re
import uuid

import pytest

from tests.support.databases import Database
from tests.support.problems import assert_problem
from tests.system.shopping import (
    create_product,
    in_parallel,
    product_stock,
    token_buyer,
    token_staff,
)


@pytest.fixture(scope="module")
def catalog_manager(open_gateway):
    return token_staff(
        open_gateway.url,
        ["catalog.add_product", "catalog.change_product", "catalog.view_product"],
    )


def test_fifty_customers_for_five_units(shop, open_gateway, catalog_manager):
    base = open_gateway.url
    product_id = create_product(catalog_manager, stock=5)["id"]
    buyers = [token_buyer(base) for _ in range(50)]
    for buyer in buyers:
        buyer.add_to_cart(product_id, 1)

    responses = in_parallel([buyer.checkout for buyer in buyers])

    statuses = [response.status_code for response in responses]
    assert all(status < 500 for status in statuses), statuses
    assert statuses.count(201) == 5, statuses
    assert statuses.count(409) == 45, statuses
    assert {r.json()["code"] for r in responses if r.status_code == 409} == {"out_of_stock"}
    assert product_stock(base, product_id) == 0
    # The orders service's own books: five orders of one unit, every key settled.
    assert shop.query(
        "ecommerce",
        "SELECT COUNT(*), SUM(quantity) FROM orders_orderline WHERE product_id = %s",
        product_id,
    ) == [(5, 5)]
    user_ids = [buyer.user_id for buyer in buyers]
    keys = shop.query(
        "ecommerce",
        "SELECT state, response_status, COUNT(*) FROM orders_idempotencykey "
        f"WHERE user_id IN ({', '.join(['%s'] * len(user_ids))}) "
        "GROUP BY state, response_status ORDER BY response_status",
        *user_ids,
    )
    assert keys == [("completed", 201, 5), ("completed", 409, 45)]
    # The five winners' carts are empty, the losers' untouched.
    winners = {
        buyer.user_id for buyer, r in zip(buyers, responses, strict=True) if r.status_code == 201
    }
    for buyer in buyers:
        assert buyer.cart_quantities() == ({} if buyer.user_id in winners else {product_id: 1})


def test_the_same_key_ten_times_in_parallel_is_one_order(shop, open_gateway, catalog_manager):
    base = open_gateway.url
    product_id = create_product(catalog_manager, stock=10)["id"]
    buyer = token_buyer(base)
    buyer.add_to_cart(product_id, 2)
    key = uuid.uuid4().hex

    responses = in_parallel([lambda: buyer.checkout(key)] * 10)

    statuses = [response.status_code for response in responses]
    assert set(statuses) <= {201, 409}, statuses
    assert 201 in statuses
    for response in responses:
        if response.status_code == 409:
            assert response.json()["code"] == "checkout_in_progress"
            assert response.headers["Retry-After"] == "1"
    order_ids = {r.json()["id"] for r in responses if r.status_code == 201}
    assert len(order_ids) == 1
    # Whoever was told "in progress" gets the same order on retry.
    retry = buyer.checkout(key)
    assert (retry.status_code, retry.json()["id"]) == (201, order_ids.pop())
    assert retry.headers["Idempotent-Replayed"] == "true"
    assert product_stock(base, product_id) == 8
    assert shop.query(
        "ecommerce", "SELECT COUNT(*) FROM orders_order WHERE user_id = %s", buyer.user_id
    ) == [(1,)]
    assert shop.query(
        "ecommerce", "SELECT COUNT(*) FROM orders_idempotencykey WHERE user_id = %s", buyer.user_id
    ) == [(1,)]


@pytest.fixture
def catalog_stopped(shop):
    catalog = shop.services["catalog"]
    catalog.stop()
    try:
        yield
    finally:
        if not catalog.running():
            catalog.start()


def test_catalog_down_before_the_reserve_is_503_and_nothing_is_lost(
    open_gateway, shop, catalog_manager, request
):
    base = open_gateway.url
    product_id = create_product(catalog_manager, stock=4)["id"]
    buyer = token_buyer(base)
    buyer.add_to_cart(product_id, 3)
    key = uuid.uuid4().hex

    request.getfixturevalue("catalog_stopped")
    response = buyer.checkout(key)
    assert_problem(response, 503, "service_unavailable")
    assert shop.query(
        "ecommerce", "SELECT COUNT(*) FROM orders_order WHERE user_id = %s", buyer.user_id
    ) == [(0,)]
    assert shop.query(
        "ecommerce",
        "SELECT state, response_status FROM orders_idempotencykey WHERE user_id = %s",
        buyer.user_id,
    ) == [("failed", None)]

    shop.services["catalog"].start()
    assert product_stock(base, product_id) == 4
    assert buyer.cart_quantities() == {product_id: 3}
    # The same key, once the catalog is back: the order, exactly once.
    retry = buyer.checkout(key)
    assert retry.status_code == 201, retry.text
    assert re.fullmatch(r"T-[0-9A-HJKMNP-TV-Z]{10}", retry.json()["number"])
    assert product_stock(base, product_id) == 1
    assert buyer.cart_quantities() == {}


@pytest.fixture
def demo_shipping_removed_after(shop):
    """seed_orders makes the demo shipping zones and methods; once they exist every
    checkout to Spain must name a method, so they leave with this test."""
    yield
    database = Database(shop.databases["ecommerce"])
    for table in (
        "orders_shippingweighttier",
        "orders_shippingmethod_zones",
        "orders_shippingmethod",
        "orders_shippingzone",
    ):
        database.execute(f"DELETE FROM {table}")


def test_seed_orders_checks_out_through_the_gateway_and_replays_on_a_rerun(
    open_gateway, shop, demo_shipping_removed_after
):
    shop.manage("auth", "seed_users", "--dev", "--customers", "3")
    shop.manage("catalog", "seed_catalog", "--products", "30", "--seed", "5")
    before = shop.query("ecommerce", "SELECT COUNT(*) FROM orders_order")[0][0]
    command = ["seed_orders", "--orders", "6", "--customers", "3", "--seed", "11"]

    first = shop.manage("orders", *command, "--base-url", open_gateway.url)

    created = int(re.search(r"(\d+) created", first.stdout.splitlines()[-1]).group(1))
    assert created >= 1, first.stdout + first.stderr
    assert shop.query("ecommerce", "SELECT COUNT(*) FROM orders_order")[0][0] == before + created
    emails = {row[0] for row in shop.query("ecommerce", "SELECT DISTINCT email FROM orders_order")}
    assert emails & {f"customer{n}@example.com" for n in (1, 2, 3)}
    # The demo shop ships: two zones, three methods, and the demo orders use them.
    assert "Shipping: 2 zones and 3 methods created." in first.stdout
    assert sorted(
        row[0] for row in shop.query("ecommerce", "SELECT name FROM orders_shippingzone")
    ) == [
        "Rest of the EU",
        "Spain",
    ]
    seeded = shop.query(
        "ecommerce",
        "SELECT shipping_method_code, subtotal + tax + shipping_total + shipping_tax - total"
        " FROM orders_order WHERE notes = 'Demo order (seed_orders).' ORDER BY id DESC LIMIT %s",
        created,
    )
    assert {code for code, _ in seeded} <= {"standard", "express", "free-over-50"}
    assert all(code for code, _ in seeded) and {difference for _, difference in seeded} == {0}

    again = shop.manage("orders", *command, "--base-url", open_gateway.url)
    summary = again.stdout.splitlines()[-1]
    assert re.search(r"0 created", summary), again.stdout
    assert shop.query("ecommerce", "SELECT COUNT(*) FROM orders_order")[0][0] == before + created
