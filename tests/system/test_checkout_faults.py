"""The checkout saga while the cart and the orders services are SIGKILLed (issue 11.6).

Buyers check out round after round through the gateway, each round with another
product than the round before, retrying a checkout with the same Idempotency-Key
until it is placed, for as long as the chaos lasts. Meanwhile the cart service, then
the orders service, then both are killed with requests in flight and started again.
Afterwards the jobs run, and the books must balance: every unit is in stock, held or
sold; every order has a committed reservation; no order repeats the lines of the one
before; and every interrupted checkout succeeded within 15 s of the restart that let
it through.
"""

import itertools
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import pytest
import requests

from tests.system.shopping import create_product, token_buyer, token_staff

BUYERS = 8
PRODUCTS = 10  # a buyer's rounds go round them: never the same product twice in a row
INITIAL_STOCK = 5000  # rounds go on while the chaos lasts
RETRY_BOUND_SECONDS = 15
TRANSIENT = {409, 502, 503, 504}


@dataclass
class PlacedCheckout:
    started: float
    placed: float
    attempts: int
    wanted: dict[int, int]
    order: dict
    statuses: list = field(default_factory=list)


@pytest.fixture
def catalog_manager(open_gateway):
    return token_staff(
        open_gateway.url, ["catalog.add_product", "catalog.change_product", "catalog.view_product"]
    )


@pytest.fixture
def restarts(shop):
    """Times at which a killed service answered again; the services are up afterwards."""
    ready_at: list[float] = []
    yield ready_at
    for name in ("cart", "orders"):
        if not shop.services[name].running():
            shop.services[name].start()


def kill_and_restart(shop, names, ready_at):
    for name in names:
        shop.services[name].kill()
    time.sleep(0.7)  # requests keep arriving at a dead service
    for name in names:
        shop.services[name].start()
    ready_at.append(time.monotonic())


def until_done(call, deadline):
    """Call until it gives an answer that is not transient; (response, statuses seen)."""
    statuses = []
    while time.monotonic() < deadline:
        try:
            response = call()
        except requests.RequestException as error:
            statuses.append(type(error).__name__)
        else:
            statuses.append(response.status_code)
            if response.status_code not in TRANSIENT:
                return response, statuses
            if response.status_code == 409:
                assert response.json()["code"] == "checkout_in_progress", response.text
                assert response.headers["Retry-After"] == "1"
        time.sleep(0.2)
    pytest.fail(f"no answer before the deadline: {statuses}")


def ensure_in_cart(buyer, product_id, quantity, deadline):
    """Add the round's product once, even when an add's answer is lost to a kill."""
    while time.monotonic() < deadline:
        try:
            response = buyer.get("/api/v1/cart/")
            if response.status_code == 200:
                items = {item["product_id"]: item["quantity"] for item in response.json()["items"]}
                if product_id in items:
                    assert items[product_id] == quantity, items
                    return
                added = buyer.add_to_cart(product_id, quantity, expect=None)
                assert added.status_code in (200, 201, *TRANSIENT), added.text
        except requests.RequestException:
            pass
        time.sleep(0.2)
    pytest.fail("the cart never took the product")


def test_cart_and_orders_killed_during_checkouts_leave_the_books_balanced(
    open_gateway, shop, catalog_manager, restarts
):
    products = [create_product(catalog_manager, stock=INITIAL_STOCK)["id"] for _ in range(PRODUCTS)]
    buyers = [token_buyer(open_gateway.url) for _ in range(BUYERS)]
    chaos_over = threading.Event()
    deadline = time.monotonic() + 150

    def shop_rounds(index):
        buyer, placed = buyers[index], []
        # Until the kills are over (a fixed number of rounds could all be done before
        # the first kill once checkouts are fast), and at least three rounds each.
        for round_number in itertools.count():
            if chaos_over.is_set() and round_number >= 3:
                break
            product_id = products[(index + round_number) % PRODUCTS]
            quantity = 1 + (index + round_number) % 3
            ensure_in_cart(buyer, product_id, quantity, deadline)
            key, started = uuid.uuid4().hex, time.monotonic()
            response, statuses = until_done(lambda key=key: buyer.checkout(key), deadline)
            assert response.status_code == 201, (statuses, response.text)
            placed.append(
                PlacedCheckout(
                    started=started,
                    placed=time.monotonic(),
                    attempts=len(statuses),
                    wanted={product_id: quantity},
                    order=response.json(),
                    statuses=statuses,
                )
            )
        return placed

    with ThreadPoolExecutor(max_workers=BUYERS) as pool:
        rounds = [pool.submit(shop_rounds, index) for index in range(BUYERS)]
        try:
            for names in (["cart"], ["orders"], ["cart", "orders"]):
                time.sleep(1.5)  # checkouts in flight
                kill_and_restart(shop, names, restarts)
        finally:
            chaos_over.set()
        placed = [future.result() for future in rounds]

    shop.manage("orders", "reconcile_checkouts")
    shop.manage("catalog", "release_expired_reservations")
    shop.manage("orders", "reconcile_checkouts")

    checkouts = [checkout for mine in placed for checkout in mine]
    interrupted = [checkout for checkout in checkouts if checkout.attempts > 1]
    assert interrupted, f"no checkout of {len(checkouts)} was caught by a kill"
    assert any(
        status in (502, 503, "ConnectionError") for c in interrupted for status in c.statuses
    )

    # Every order holds exactly what its round added: never the lines of an earlier one.
    for buyer, mine in zip(buyers, placed, strict=True):
        for checkout in mine:
            lines = {line["product_id"]: line["quantity"] for line in checkout.order["lines"]}
            assert lines == checkout.wanted, (buyer.user_id, [c.order["lines"] for c in mine])
        numbers = [checkout.order["number"] for checkout in mine]
        rows = shop.query(
            "ecommerce",
            "SELECT o.number, l.product_id, l.quantity FROM orders_order o"
            " JOIN orders_orderline l ON l.order_id = o.id WHERE o.user_id = %s",
            buyer.user_id,
        )
        assert sorted(number for number, _, _ in rows) == sorted(numbers)  # one line each
        assert buyer.cart_quantities() == {}

    # Retries got through within 15 s of the restart that let them.
    for checkout in interrupted:
        let_through = [ready for ready in restarts if checkout.started < ready < checkout.placed]
        if let_through:
            assert checkout.placed - max(let_through) <= RETRY_BOUND_SECONDS, checkout.statuses

    # No order without a committed reservation, nothing owed after the jobs.
    user_ids = [buyer.user_id for buyer in buyers]
    in_users = f"({', '.join(['%s'] * len(user_ids))})"
    assert (
        shop.query(
            "ecommerce",
            "SELECT o.number, o.status, r.state, o.reservation_committed_at IS NULL,"
            " o.cart_cleared_at IS NULL FROM orders_order o"
            " LEFT JOIN catalog_reservation r ON r.reference = o.number"
            f" WHERE o.user_id IN {in_users} AND (r.state IS NULL OR r.state <> 'committed'"
            " OR o.status = 'cancelled' OR o.reservation_committed_at IS NULL"
            " OR o.cart_cleared_at IS NULL)",
            *user_ids,
        )
        == []
    )
    assert shop.query(
        "ecommerce",
        "SELECT state, COUNT(*) FROM orders_idempotencykey"
        f" WHERE user_id IN {in_users} GROUP BY state",
        *user_ids,
    ) == [("completed", len(checkouts))]

    # Stock = in stock + held + sold, product by product; and sold = ordered.
    in_products = f"({', '.join(['%s'] * len(products))})"
    stock = dict(
        shop.query(
            "ecommerce",
            f"SELECT id, stock FROM catalog_product WHERE id IN {in_products}",
            *products,
        )
    )
    by_state = shop.query(
        "ecommerce",
        "SELECT line.product_id, r.state, SUM(line.quantity) FROM catalog_reservationline line"
        " JOIN catalog_reservation r ON r.id = line.reservation_id"
        f" WHERE line.product_id IN {in_products} GROUP BY line.product_id, r.state",
        *products,
    )
    held = {(product_id, state): int(units) for product_id, state, units in by_state}
    ordered = dict.fromkeys(products, 0)
    for checkout in checkouts:
        for product_id, quantity in checkout.wanted.items():
            ordered[product_id] += quantity
    for product_id in products:
        assert held.get((product_id, "reserved"), 0) == 0
        sold = held.get((product_id, "committed"), 0)
        assert sold == ordered[product_id]
        assert stock[product_id] + sold == INITIAL_STOCK
