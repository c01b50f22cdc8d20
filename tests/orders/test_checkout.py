"""Checkout through the API, against fake neighbours that keep the contract."""

import re
from decimal import Decimal

import pytest
from django.db import OperationalError

from orders.models import IdempotencyKey, IdempotencyKeyState, Order, OrderStatus
from orders.services import checkout as saga
from orders.services import idempotency
from shopkit import money
from shopkit.address import COUNTRY_MESSAGE, PHONE_MESSAGE
from tests.orders.api import ADDRESS, CUSTOMER_EMAIL, CUSTOMER_ID, checkout
from tests.support.databases import BOTH_DATABASES
from tests.support.problems import assert_problem

pytestmark = pytest.mark.django_db(databases=BOTH_DATABASES)


def cart_totals(neighbours, lines):
    """What the cart shows for these lines (shopkit.money, catalog prices)."""
    return money.totals(
        [
            money.line_amounts(
                neighbours.products[pid].price, qty, neighbours.products[pid].tax_rate
            )
            for pid, qty in lines.items()
        ]
    )


@pytest.fixture
def shop(neighbours):
    neighbours.add_product(1, price="19.99", tax_rate="0.21", stock=10)
    neighbours.add_product(2, price="3.33", tax_rate="0.10", stock=5)
    neighbours.fill_cart(CUSTOMER_ID, {1: 2, 2: 3})
    return neighbours


def test_checkout_needs_an_idempotency_key(customer, shop):
    response = checkout(customer, key="")
    assert_problem(response, 400, "idempotency_key_required")
    assert not Order.objects.exists()
    assert not IdempotencyKey.objects.exists()
    assert shop.calls == []


@pytest.mark.parametrize("key", ["x" * 256, " leading-space", "tab\tinside"])
def test_checkout_refuses_a_malformed_idempotency_key(customer, shop, key):
    response = checkout(customer, key=key)
    assert response.status_code == 400
    assert response.json()["code"] == "idempotency_key_invalid"
    assert not IdempotencyKey.objects.exists()


@pytest.mark.parametrize(
    "body, field",
    [
        ({}, "shipping_address"),
        ({"shipping_address": ADDRESS, "address_id": 3}, "shipping_address"),
        ({"shipping_address": {**ADDRESS, "country": "XX"}}, "shipping_address"),
        ({"shipping_address": {**ADDRESS, "city": ""}}, "shipping_address"),
        ({"address_id": 0}, "address_id"),
        ({"shipping_address": ADDRESS, "notes": "n" * 1001}, "notes"),
    ],
)
def test_bad_input_is_refused_before_the_key_is_used(customer, shop, body, field):
    response = checkout(customer, key="k-1", body=body)
    assert response.status_code == 400
    assert field in response.json()["errors"]
    # Nothing claimed: the same key works with a corrected body.
    assert not IdempotencyKey.objects.exists()
    assert shop.calls == []
    assert checkout(customer, key="k-1").status_code == 201


def test_checkout_turns_the_cart_into_an_order(customer, shop):
    expected = cart_totals(shop, {1: 2, 2: 3})

    response = checkout(customer, body={"shipping_address": ADDRESS, "notes": "Ring twice"})

    assert response.status_code == 201, response.json()
    body = response.json()
    assert re.fullmatch(r"T-[0-9A-HJKMNP-TV-Z]{10}", body["number"])
    assert body["status"] == "pending"
    assert body["email"] == CUSTOMER_EMAIL
    assert body["user_id"] == CUSTOMER_ID
    # The phone comes back (and is kept) in E.164.
    assert body["shipping_address"] == {**ADDRESS, "phone": "+34600000000"}
    assert body["notes"] == "Ring twice"
    assert (body["subtotal"], body["tax"], body["total"]) == (
        str(expected.subtotal),
        str(expected.tax),
        str(expected.total),
    )
    assert body["currency"] == "EUR"
    assert [
        (line["product_id"], line["quantity"], line["unit_price"]) for line in body["lines"]
    ] == [
        (1, 2, "19.99"),
        (2, 3, "3.33"),
    ]
    assert body["history"] == [
        {
            "from_status": None,
            "to_status": "pending",
            "by": CUSTOMER_ID,
            "at": body["history"][0]["at"],
            "note": "Order placed.",
        }
    ]
    # The database, the catalog and the cart afterwards.
    order = Order.objects.get()
    assert order.number == body["number"]
    assert order.total == expected.total
    assert order.reservation_committed_at is not None
    assert order.cart_cleared_at is not None
    assert order.lines.count() == 2
    assert shop.stock(1) == 8 and shop.stock(2) == 2
    assert shop.held() == {order.number: "committed"}
    assert shop.cart_lines(CUSTOMER_ID) == {}
    key = IdempotencyKey.objects.get()
    assert (key.state, key.response_status, key.order_number) == (
        IdempotencyKeyState.COMPLETED,
        201,
        order.number,
    )


def test_prices_come_from_the_catalog_never_from_the_request(customer, shop):
    body = {
        "shipping_address": ADDRESS,
        "total": "0.01",
        "lines": [{"product_id": 1, "unit_price": "0.01"}],
    }
    response = checkout(customer, body=body)
    assert response.status_code == 201
    assert Decimal(response.json()["total"]) == cart_totals(shop, {1: 2, 2: 3}).total


def test_a_replay_returns_the_same_order_once(customer, shop):
    first = checkout(customer, key="order-once")
    again = checkout(customer, key="order-once")

    assert again.status_code == 201
    assert again.json() == first.json()
    assert again["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first
    assert Order.objects.count() == 1
    assert shop.count("catalog", "reserve") == 1
    assert shop.stock(1) == 8


def test_the_same_key_with_another_body_is_422(customer, shop):
    checkout(customer, key="k")
    response = checkout(
        customer, key="k", body={"shipping_address": {**ADDRESS, "city": "Sevilla"}}
    )
    assert response.status_code == 422
    assert response.json()["code"] == "idempotency_key_reused"
    assert Order.objects.count() == 1


def test_keys_belong_to_one_user(customer, other_customer, shop):
    shop.fill_cart(8, {1: 1})
    assert checkout(customer, key="shared").status_code == 201
    response = checkout(other_customer, key="shared")
    assert response.status_code == 201
    assert Order.objects.filter(user_id=8).count() == 1


def test_an_empty_cart_is_400_and_nothing_is_held(customer, neighbours):
    neighbours.add_product(1, stock=3)
    response = checkout(customer, key="empty")
    assert response.status_code == 400
    assert response.json()["code"] == "empty_cart"
    assert not Order.objects.exists()
    assert neighbours.count("catalog") == 0
    # A decision about this request: stored and replayed for the same key and body.
    again = checkout(customer, key="empty")
    assert (again.status_code, again.json()) == (400, response.json())
    assert again["Idempotent-Replayed"] == "true"


def test_out_of_stock_is_409_naming_the_lines_and_nothing_is_held(customer, shop):
    shop.fill_cart(CUSTOMER_ID, {2: 6})
    response = checkout(customer)
    assert response.status_code == 409
    assert response.json()["code"] == "out_of_stock"
    assert response.json()["short_lines"] == [{"product_id": 2, "requested": 6, "available": 5}]
    assert not Order.objects.exists()
    assert shop.held() == {}
    assert (shop.stock(1), shop.stock(2)) == (10, 5)
    assert shop.cart_lines(CUSTOMER_ID) == {1: 2, 2: 6}


def test_products_no_longer_sold_are_named(customer, shop):
    shop.products[2].is_active = False
    response = checkout(customer)
    assert response.status_code == 409
    assert response.json()["code"] == "products_unavailable"
    assert response.json()["product_ids"] == [2]
    assert not Order.objects.exists()


def test_catalog_down_is_503_with_nothing_held_and_the_key_reusable(customer, shop):
    shop.down.add("catalog")
    response = checkout(customer, key="retry-me")
    assert response.status_code == 503
    assert response.json()["code"] == "service_unavailable"
    assert not Order.objects.exists()
    assert IdempotencyKey.objects.get().state == IdempotencyKeyState.FAILED
    assert (shop.stock(1), shop.stock(2)) == (10, 5)
    assert shop.cart_lines(CUSTOMER_ID) == {1: 2, 2: 3}

    shop.down.clear()
    retry = checkout(customer, key="retry-me")
    assert retry.status_code == 201
    assert Order.objects.count() == 1
    assert (shop.stock(1), shop.stock(2)) == (8, 2)


def test_a_lost_reserve_answer_is_released(customer, shop):
    """The catalog reserved, then the answer never came: the reference is released."""
    original = shop.reserve

    def reserve_then_fail(body, **kwargs):
        original(body, **kwargs)
        return 503, {"code": "service_unavailable"}

    shop.reserve = reserve_then_fail
    response = checkout(customer)
    assert response.status_code == 503
    assert shop.held() == {}
    assert (shop.stock(1), shop.stock(2)) == (10, 5)


def test_cart_down_is_503_and_nothing_changes(customer, shop):
    shop.down.add("cart")
    response = checkout(customer)
    assert response.status_code == 503
    assert not Order.objects.exists()
    assert shop.count("catalog") == 0


def test_a_failed_order_write_releases_the_reservation(customer, shop, monkeypatch):
    def broken_write(**kwargs):
        raise OperationalError("the database went away")

    monkeypatch.setattr(saga, "_order_write", broken_write)
    response = checkout(customer, key="write-fails")
    assert response.status_code == 503
    assert response.json()["code"] == "database_unavailable"
    assert not Order.objects.exists()
    assert shop.count("catalog", "reserve") == 1
    assert shop.held() == {}
    assert (shop.stock(1), shop.stock(2)) == (10, 5)
    assert IdempotencyKey.objects.get().state == IdempotencyKeyState.FAILED


def test_a_claim_chosen_as_a_deadlock_victim_claims_again(customer, shop, monkeypatch):
    """Parallel claims of one key can deadlock on its unique indexes (InnoDB rolls one
    back): that claim tries again instead of answering 503."""
    real_save = idempotency._INSERT_KEY.save  # the claim's INSERT
    deadlocks = []

    def save_deadlocking_once(claim):
        if not deadlocks:
            deadlocks.append(claim.order_number)
            raise OperationalError(1213, "Deadlock found when trying to get lock")
        return real_save(claim)

    monkeypatch.setattr(idempotency._INSERT_KEY, "save", save_deadlocking_once)
    response = checkout(customer, key="deadlocked-once")
    assert response.status_code == 201
    assert len(deadlocks) == 1
    key = IdempotencyKey.objects.get()
    assert key.state == IdempotencyKeyState.COMPLETED
    assert Order.objects.get().number == key.order_number != deadlocks[0]


def test_other_database_errors_of_a_claim_are_a_503(customer, shop, monkeypatch):
    def save_failing(claim):
        raise OperationalError(2006, "MySQL server has gone away")

    monkeypatch.setattr(idempotency._INSERT_KEY, "save", save_failing)  # the claim's INSERT
    response = checkout(customer, key="database-away")
    assert response.status_code == 503
    assert response.json()["code"] == "database_unavailable"
    assert shop.count("catalog") == 0


def test_a_saved_address_is_copied_into_the_order(customer, shop):
    shop.addresses[(CUSTOMER_ID, 5)] = {**ADDRESS, "city": "Bilbao"}
    response = checkout(customer, body={"address_id": 5})
    assert response.status_code == 201
    assert response.json()["shipping_address"]["city"] == "Bilbao"
    assert Order.objects.get().city == "Bilbao"


def test_an_inline_phone_is_read_in_the_address_country_and_kept_in_e164(customer, shop):
    address = {**ADDRESS, "country": "gb", "phone": "(020) 7946 0018"}
    response = checkout(customer, body={"shipping_address": address})
    assert response.status_code == 201, response.json()
    shown = response.json()["shipping_address"]
    assert (shown["country"], shown["phone"]) == ("GB", "+442079460018")
    order = Order.objects.get()
    assert (str(order.country), order.phone) == ("GB", "+442079460018")


@pytest.mark.parametrize(
    "change, field",
    [
        ({"phone": "call me"}, "phone"),
        ({"phone": "+34 600 000 000 ext. 4"}, "phone"),
        ({"country": "ESP"}, "country"),
    ],
)
def test_an_inline_address_is_checked_like_a_saved_one(customer, shop, change, field):
    """The same rules and messages as auth's saved addresses (shopkit.address)."""
    response = checkout(customer, key="k-2", body={"shipping_address": {**ADDRESS, **change}})
    assert response.status_code == 400
    message = {"phone": PHONE_MESSAGE, "country": COUNTRY_MESSAGE}[field]
    assert response.json()["errors"] == {"shipping_address": {field: [message]}}
    assert not IdempotencyKey.objects.exists()
    assert not Order.objects.exists()
    assert shop.calls == []


def test_a_saved_address_that_breaks_the_rules_is_400_and_nothing_is_held(customer, shop):
    shop.addresses[(CUSTOMER_ID, 5)] = {**ADDRESS, "phone": "12"}
    response = checkout(customer, body={"address_id": 5})
    assert response.status_code == 400
    assert response.json()["code"] == "address_invalid"
    assert response.json()["errors"] == {"address_id": [f"phone: {PHONE_MESSAGE}"]}
    assert shop.count("catalog") == 0
    assert not Order.objects.exists()


def test_an_unknown_saved_address_is_400(customer, shop):
    response = checkout(customer, body={"address_id": 99})
    assert response.status_code == 400
    assert response.json()["code"] == "address_not_found"
    assert "address_id" in response.json()["errors"]
    assert shop.count("catalog") == 0
    assert not Order.objects.exists()


def test_a_cart_clear_failure_does_not_fail_the_checkout(customer, shop):
    shop.failures[("cart", "clear")] = 1
    response = checkout(customer, key="clear-fails")
    assert response.status_code == 201
    order = Order.objects.get()
    assert order.cart_cleared_at is None
    assert shop.cart_lines(CUSTOMER_ID) == {1: 2, 2: 3}
    # The replay of the same request clears it.
    assert checkout(customer, key="clear-fails").json()["id"] == order.id
    assert shop.cart_lines(CUSTOMER_ID) == {}
    order.refresh_from_db()
    assert order.cart_cleared_at is not None


def test_lines_added_to_the_cart_meanwhile_survive_the_clear(customer, shop):
    shop.failures[("cart", "clear")] = 1
    checkout(customer, key="k")
    shop.fill_cart(CUSTOMER_ID, {3: 1})  # the customer kept shopping: the version moved
    checkout(customer, key="k")
    assert shop.cart_lines(CUSTOMER_ID) == {3: 1}


def test_unauthenticated_checkout_is_401(api_client, shop):
    response = checkout(api_client)
    assert response.status_code == 401
    assert not IdempotencyKey.objects.exists()


def test_order_status_history_names_the_customer(customer, shop):
    order_id = checkout(customer).json()["id"]
    assert Order.objects.get(pk=order_id).history.get().by_user_id == CUSTOMER_ID
    assert Order.objects.get(pk=order_id).status == OrderStatus.PENDING


def test_an_incomplete_saved_address_is_400_and_nothing_is_held(customer, shop):
    shop.addresses[(CUSTOMER_ID, 6)] = {**ADDRESS, "country": ""}
    response = checkout(customer, body={"address_id": 6})
    assert response.status_code == 400
    assert response.json()["code"] == "address_invalid"
    assert response.json()["errors"]["address_id"] == ["country: This field may not be blank."]
    assert shop.count("catalog") == 0


def test_a_taken_order_number_is_drawn_again(customer, shop, monkeypatch):
    checkout(customer)
    taken = Order.objects.get().number
    numbers = iter([taken, "T-0000000001"])
    monkeypatch.setattr(idempotency, "order_number_generate", lambda: next(numbers))
    shop.fill_cart(CUSTOMER_ID, {1: 1})
    response = checkout(customer)
    assert response.status_code == 201
    assert response.json()["number"] == "T-0000000001"
