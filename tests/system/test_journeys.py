"""Whole journeys through the gateway, on the real processes and MariaDB.

A customer from sign-up to a cancelled order, staff running the shop over the
API, and the faults the shop must survive
(catalog killed during checkouts, orders restarted) with its books balanced:
every unit of stock that left the shelf is in an order, and every order holds
its stock. Buyers that only need to check out carry access tokens minted with
the key the services trust (tests/support/tokens.py), which keeps the number
of sign-ups under auth's own per-address throttle. (Many buyers racing for
little stock: tests/system/test_checkout_saga.py.)
"""

import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal

import pytest
import requests

from tests.support.polling import wait_until
from tests.support.problems import assert_problem
from tests.system.logs import wait_for_log_line
from tests.system.shopping import (
    ADDRESS,
    CUSTOMER_PASSWORD,
    ShopUser,
    create_product,
    product_stock,
    sign_in,
    token_buyer,
)


def units_ordered(order_manager: ShopUser, product_id: int) -> int:
    """Units of a product in every order that still holds its stock (not cancelled)."""
    units, page = 0, "/api/v1/orders/?page_size=100"
    while page:
        body = order_manager.get(page, expect=200).json()
        for order in body["results"]:
            if order["status"] != "cancelled":
                units += sum(
                    line["quantity"] for line in order["lines"] if line["product_id"] == product_id
                )
        page = body["next"] and body["next"].replace(order_manager.base_url, "")
    return units


def unexpired_reservations(shop, product_id: int) -> int:
    """Reservations of a product still `reserved` and not yet past their expiry."""
    rows = shop.query(
        "ecommerce",
        "SELECT COUNT(*) FROM catalog_reservationline line"
        " JOIN catalog_reservation r ON r.id = line.reservation_id"
        " WHERE line.product_id = %s AND r.state = 'reserved'"
        " AND r.expires_at > UTC_TIMESTAMP(6)",
        product_id,
    )
    return rows[0][0]


def held_reservations(shop, product_id: int) -> int:
    """Reservations of a product still holding stock without being committed to an order."""
    rows = shop.query(
        "ecommerce",
        "SELECT COUNT(*) FROM catalog_reservationline line"
        " JOIN catalog_reservation r ON r.id = line.reservation_id"
        " WHERE line.product_id = %s AND r.state = 'reserved'",
        product_id,
    )
    return rows[0][0]


def test_customer_journey(gateway, staff):
    category = (
        staff["catalog"]
        .post(
            "/api/v1/catalog/categories/",
            json={"name": "Journey lamps", "slug": f"journey-lamps-{uuid.uuid4().hex[:6]}"},
            expect=201,
        )
        .json()
    )
    word = f"lumen{uuid.uuid4().hex[:6]}"
    lamp = create_product(
        staff["catalog"], stock=10, price="40.00", category=category["id"], name=f"{word} lamp"
    )
    create_product(
        staff["catalog"], stock=10, price="5.00", category=category["id"], name=f"{word} bulb"
    )
    create_product(staff["catalog"], stock=0, price="45.00", category=category["id"], name=word)

    # Sign up and sign in.
    email = f"journey-{uuid.uuid4().hex[:8]}@example.com"
    registered = requests.post(
        f"{gateway.url}/api/v1/auth/register/",
        json={
            "email": email,
            "password": "a-Long-unusual-passphrase-42",
            "first_name": "Ana",
            "last_name": "García",
        },
        timeout=30,
    )
    assert registered.status_code == 201, registered.text
    assert registered.json()["email"] == email
    assert not {"password", "password_hash"} & set(registered.json())
    customer = sign_in(gateway.url, email, "a-Long-unusual-passphrase-42")

    # Browse with filters: the category, a price range, in stock, a search word.
    found = requests.get(
        f"{gateway.url}/api/v1/catalog/products/",
        params={
            "category": category["slug"],
            "min_price": "10",
            "max_price": "50",
            "in_stock": "true",
            "search": word,
            "ordering": "-price",
        },
        timeout=10,
    ).json()
    assert [p["id"] for p in found["results"]] == [lamp["id"]]

    # A guest cart, merged into the customer's at sign-in.
    guest = ShopUser(gateway.url)
    added = guest.post(
        "/api/v1/cart/items/", json={"product_id": lamp["id"], "quantity": 2}, expect=201
    )
    cart_token = added.headers["X-Cart-Token"]
    assert added.json()["cart_token"] == cart_token
    guest_cart = guest.get("/api/v1/cart/", headers={"X-Cart-Token": cart_token}, expect=200)
    assert [(i["product_id"], i["quantity"]) for i in guest_cart.json()["items"]] == [
        (lamp["id"], 2)
    ]
    customer.post("/api/v1/cart/merge/", headers={"X-Cart-Token": cart_token}, expect=200)
    cart = customer.get("/api/v1/cart/", expect=200).json()
    assert [(i["product_id"], i["quantity"]) for i in cart["items"]] == [(lamp["id"], 2)]
    assert Decimal(cart["subtotal"]) == Decimal("80.00")
    assert Decimal(cart["total"]) == Decimal("96.80")  # IVA 21 %

    # Checkout with an Idempotency-Key; the same request again is the same order.
    key = uuid.uuid4().hex
    order = customer.checkout(key, expect=201).json()
    assert order["status"] == "pending"
    assert [(line["product_id"], line["quantity"]) for line in order["lines"]] == [(lamp["id"], 2)]
    assert Decimal(order["total"]) == Decimal(cart["total"])
    replay = customer.checkout(key)
    assert replay.json()["id"] == order["id"]
    assert replay.headers.get("Idempotent-Replayed") == "true"
    assert customer.get("/api/v1/cart/", expect=200).json()["items"] == []
    assert product_stock(gateway.url, lamp["id"]) == 8

    listed = customer.get("/api/v1/orders/", expect=200).json()
    assert [o["number"] for o in listed["results"]] == [order["number"]]

    # Cancel: the stock comes back and the history says who did what.
    cancelled = customer.post(
        f"/api/v1/orders/{order['id']}/cancel/", json={"note": "changed my mind"}, expect=200
    ).json()
    assert cancelled["status"] == "cancelled"
    assert [(h["from_status"], h["to_status"]) for h in cancelled["history"]][-1] == (
        "pending",
        "cancelled",
    )
    assert product_stock(gateway.url, lamp["id"]) == 10


def test_staff_journey(gateway, staff):
    catalog_manager, order_manager = staff["catalog"], staff["orders"]
    product = create_product(catalog_manager, stock=0, price="12.50")
    assert product["in_stock"] is False
    restocked = catalog_manager.patch(
        f"/api/v1/catalog/products/{product['id']}/", json={"stock": 7}, expect=200
    ).json()
    assert restocked["stock"] == 7
    assert restocked["in_stock"] is True
    adjusted = catalog_manager.post(
        f"/api/v1/catalog/products/{product['id']}/stock-adjustment/",
        json={"delta": 3},
        expect=200,
    ).json()
    assert adjusted["stock"] == 10

    # A customer (not staff) can neither write the catalog nor move an order.
    buyer = token_buyer(gateway.url)
    assert buyer.patch(
        f"/api/v1/catalog/products/{product['id']}/", json={"stock": 999}
    ).status_code in (403, 404)
    buyer.post("/api/v1/cart/items/", json={"product_id": product["id"], "quantity": 1}, expect=201)
    order = buyer.checkout(expect=201).json()
    assert (
        buyer.post(
            f"/api/v1/orders/{order['id']}/status/", json={"status": "shipped", "note": ""}
        ).status_code
        == 403
    )

    tracking = {"carrier": "Correos", "tracking_number": "PK0701234567"}
    for status in ("confirmed", "processing", "shipped", "delivered"):
        moved = order_manager.post(
            f"/api/v1/orders/{order['id']}/status/",
            json={"status": status, "note": f"to {status}"}
            | (tracking if status == "shipped" else {}),
            expect=200,
        ).json()
        assert moved["status"] == status
    # Delivered is final.
    assert (
        order_manager.post(
            f"/api/v1/orders/{order['id']}/status/", json={"status": "cancelled", "note": ""}
        ).status_code
        == 409
    )
    detail = buyer.get(f"/api/v1/orders/{order['id']}/", expect=200).json()
    assert [(h["from_status"], h["to_status"]) for h in detail["history"]] == [
        (None, "pending"),
        ("pending", "confirmed"),
        ("confirmed", "processing"),
        ("processing", "shipped"),
        ("shipped", "delivered"),
    ]
    assert detail["history"][-1]["note"] == "to delivered"
    assert product_stock(gateway.url, product["id"]) == 9


@pytest.fixture
def catalog_with_short_reservations(shop):
    """The catalog restarted with 3-second reservations (so the expiry job can act now)."""
    catalog = shop.services["catalog"]
    catalog.stop()
    catalog.env["RESERVATION_TTL_SECONDS"] = "3"
    catalog.start()
    yield catalog
    catalog.stop()
    catalog.env.pop("RESERVATION_TTL_SECONDS")
    catalog.start()


def test_catalog_killed_during_checkouts_leaves_the_books_balanced(
    open_gateway, shop, staff, catalog_with_short_reservations
):
    catalog = catalog_with_short_reservations
    initial_stock = 40
    product = create_product(staff["catalog"], stock=initial_stock)
    buyers = [(token_buyer(open_gateway.url), uuid.uuid4().hex) for _ in range(16)]
    for buyer, _ in buyers:
        buyer.post(
            "/api/v1/cart/items/", json={"product_id": product["id"], "quantity": 2}, expect=201
        )

    done = []
    killed = threading.Event()

    def check_out(buyer_and_key):
        buyer, key = buyer_and_key
        response = buyer.checkout(key)
        done.append(response.status_code)
        if len(done) >= 4 and not killed.is_set():
            killed.set()
            catalog.kill()  # the catalog dies with requests in flight
        return response

    with ThreadPoolExecutor(max_workers=4) as pool:
        first_round = list(pool.map(check_out, buyers))
    statuses = [r.status_code for r in first_round]
    assert 201 in statuses
    assert 503 in statuses, statuses
    # Never a 500 or a gateway error.
    assert set(statuses) <= {201, 503}, [(r.status_code, r.text) for r in first_round]
    for response in first_round:
        if response.status_code == 503:
            assert_problem(response, 503)

    # The catalog comes back; what checkouts left owed is settled by the jobs.
    catalog.start()
    # The expiry job releases only what is past its expiry: wait until that is all of them.
    wait_until(
        lambda: unexpired_reservations(shop, product["id"]) == 0,
        timeout=30,
        what="the reservations made before the kill to expire",
    )
    shop.manage("orders", "reconcile_checkouts")
    shop.manage("catalog", "release_expired_reservations")
    shop.manage("orders", "reconcile_checkouts")
    ordered = units_ordered(staff["orders"], product["id"])
    assert product_stock(open_gateway.url, product["id"]) == initial_stock - ordered
    assert held_reservations(shop, product["id"]) == 0

    # Nothing was lost: the buyers turned away retry with the same key and succeed.
    for (buyer, key), response in zip(buyers, first_round, strict=True):
        if response.status_code == 503:
            assert buyer.checkout(key).status_code == 201
    # One order each, never two: standing, or cancelled by the reconciliation when
    # the catalog died after the order was written and its reservation expired.
    standing = 0
    for buyer, _ in buyers:
        mine = buyer.get("/api/v1/orders/", expect=200).json()["results"]
        assert len(mine) == 1
        standing += mine[0]["status"] != "cancelled"
    ordered = units_ordered(staff["orders"], product["id"])
    assert ordered == 2 * standing
    assert product_stock(open_gateway.url, product["id"]) == initial_stock - ordered
    # Every reservation of the product ended committed (an order) or released.
    assert held_reservations(shop, product["id"]) == 0
    committed = shop.query(
        "ecommerce",
        "SELECT COALESCE(SUM(line.quantity), 0) FROM catalog_reservationline line"
        " JOIN catalog_reservation r ON r.id = line.reservation_id"
        " WHERE line.product_id = %s AND r.state = 'committed'",
        product["id"],
    )
    assert int(committed[0][0]) == ordered


def test_orders_restarted_during_checkouts_loses_nothing(open_gateway, shop, staff):
    product = create_product(staff["catalog"], stock=30)
    buyers = [(token_buyer(open_gateway.url), uuid.uuid4().hex) for _ in range(10)]
    for buyer, _ in buyers:
        buyer.post(
            "/api/v1/cart/items/", json={"product_id": product["id"], "quantity": 1}, expect=201
        )

    def check_out_until_done(buyer_and_key):
        buyer, key = buyer_and_key
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            response = buyer.checkout(key)
            if response.status_code == 201:
                return response.json()
            # Orders is down (gateway 502) or restarting: the same key, again.
            assert response.status_code in (409, 502, 503), response.text
            time.sleep(0.3)
        pytest.fail("a checkout never succeeded after the restart")

    orders = shop.services["orders"]
    with ThreadPoolExecutor(max_workers=3) as pool:
        results = pool.map(check_out_until_done, buyers)
        time.sleep(0.5)
        orders.stop()  # graceful: requests in flight finish
        down = requests.get(f"{open_gateway.url}/api/v1/orders/", timeout=10)
        assert down.status_code == 502
        assert down.json()["code"] == "bad_gateway"
        orders.start()
        placed = list(results)

    assert len({order["number"] for order in placed}) == len(buyers)
    for (buyer, _), order in zip(buyers, placed, strict=True):
        mine = buyer.get("/api/v1/orders/", expect=200).json()["results"]
        assert [o["number"] for o in mine] == [order["number"]]
        assert buyer.get("/api/v1/cart/", expect=200).json()["items"] == []
    assert product_stock(open_gateway.url, product["id"]) == 30 - len(buyers)
    assert units_ordered(staff["orders"], product["id"]) == len(buyers)


def test_a_checkout_carries_one_request_id_through_every_service(gateway, shop, staff):
    customer = sign_in(gateway.url, "customer1@example.com", CUSTOMER_PASSWORD)
    address = customer.post(
        "/api/v1/auth/addresses/", json={**ADDRESS, "full_name": "Traced Buyer"}, expect=201
    ).json()
    product = create_product(staff["catalog"], stock=3)
    customer.post(
        "/api/v1/cart/items/", json={"product_id": product["id"], "quantity": 1}, expect=201
    )
    request_id = f"trace-{uuid.uuid4().hex}"
    response = customer.post(
        "/api/v1/orders/",
        json={"address_id": address["id"]},
        headers={"Idempotency-Key": uuid.uuid4().hex, "X-Request-ID": request_id},
    )
    assert response.status_code == 201, response.text
    assert response.headers["X-Request-ID"] == request_id

    def logged(read_log, path_prefix):
        """An access line of that log with this request id, for a path under the prefix."""
        return wait_for_log_line(
            read_log,
            lambda line: (
                line.get("request_id") == request_id
                and str(line.get("path", "")).startswith(path_prefix)
            ),
        )

    assert logged(gateway.log_text, "/api/v1/orders/")["status"] == 201
    assert logged(shop.services["orders"].log_text, "/api/v1/orders/")["status"] == 201
    # The neighbours orders called, with the id it forwarded:
    assert logged(shop.services["auth"].log_text, "/internal/auth/users/")
    assert logged(shop.services["cart"].log_text, "/internal/cart/users/")
    assert logged(shop.services["catalog"].log_text, "/internal/catalog/reservations/")
