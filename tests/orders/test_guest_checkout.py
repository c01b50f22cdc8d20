"""Guest checkout: no token, the guest cart's X-Cart-Token and an email; the order's access
token (hashed in the database) reads, pays and cancels it; the guest cart is cleared; the
key is scoped to the guest cart; a customer who verifies the email gets the orders.

Real MariaDB; catalog and cart are the fake neighbours (tests/orders/fakes.py).
"""

import hashlib
import uuid

import pytest
from rest_framework.test import APIClient

from orders.models import IdempotencyKey, Order, OrderStatus
from shopkit.outbox.models import OutboxMessage
from tests.orders.api import ADDRESS
from tests.orders.fakes import FakeCart
from tests.orders.payments import received
from tests.orders.test_admin import CHANGELIST
from tests.support.databases import BOTH_DATABASES

pytestmark = pytest.mark.django_db(databases=BOTH_DATABASES)

CART_TOKEN = "guest-cart-token-1"
GUEST = "/api/v1/orders/guest"


def guest_checkout(client, *, token=CART_TOKEN, key=None, body=None):
    headers = {"HTTP_IDEMPOTENCY_KEY": key or str(uuid.uuid4())}
    if token is not None:
        headers["HTTP_X_CART_TOKEN"] = token
    body = body if body is not None else {"shipping_address": ADDRESS, "email": "Eva@Example.com"}
    return client.post("/api/v1/orders/", body, format="json", **headers)


@pytest.fixture
def guest_cart(neighbours):
    neighbours.add_product(1, price="10.00", stock=5)
    cart = FakeCart(version=2, lines={1: 2}, created={1: 1})
    neighbours.guest_carts[CART_TOKEN] = cart
    return cart


def test_a_guest_checks_out_with_an_email_and_gets_an_access_token(neighbours, guest_cart):
    guest = APIClient()
    response = guest_checkout(guest)
    assert response.status_code == 201, response.json()
    body = response.json()
    token = body["access_token"]
    assert len(token) >= 40
    order = Order.objects.get(number=body["number"])
    assert order.user_id is None and body["user_id"] is None
    assert order.email == "eva@example.com"
    assert order.access_token_hash == hashlib.sha256(token.encode()).hexdigest()
    assert token not in str(IdempotencyKey.objects.get().response_body)  # stored hashed only
    assert body["total"] == str(order.total) == "24.20"
    assert neighbours.products[1].stock == 3 and guest_cart.lines == {}  # sold, cleared
    assert order.cart_cleared_at is not None
    [placed] = OutboxMessage.objects.filter(kind="orders.placed")
    assert placed.recipients == ["eva@example.com"] and placed.language == "es"
    assert token in placed.body_text and f"/orders/guest/{order.number}" in placed.body_text

    # The token shows the order; nothing else does.
    shown = guest.get(f"{GUEST}/{order.number}/", HTTP_X_ORDER_TOKEN=token)
    assert shown.status_code == 200 and shown.json()["number"] == order.number
    assert "access_token" not in shown.json()
    for wrong in ("x" * 43, token[:-1] + ("A" if token[-1] != "A" else "B")):
        assert guest.get(f"{GUEST}/{order.number}/", HTTP_X_ORDER_TOKEN=wrong).status_code == 404
    missing = guest.get(f"{GUEST}/{order.number}/")
    assert (missing.status_code, missing.json()["code"]) == (400, "order_token_required")
    assert guest.get(f"/api/v1/orders/{order.pk}/").status_code == 401  # not an owner's API


def test_the_key_is_scoped_to_the_guest_cart_and_replays_without_the_token(neighbours, guest_cart):
    guest = APIClient()
    first = guest_checkout(guest, key="same")
    again = guest_checkout(guest, key="same")
    assert first.status_code == again.status_code == 201
    assert again["Idempotent-Replayed"] == "true"
    assert again.json()["number"] == first.json()["number"]
    assert "access_token" not in again.json()
    other_body = guest_checkout(
        guest, key="same", body={"shipping_address": ADDRESS, "email": "other@example.com"}
    )
    assert other_body.status_code == 422
    # Another guest cart may use the same key: its own order.
    neighbours.guest_carts["guest-cart-token-2"] = FakeCart(version=1, lines={1: 1})
    other = guest_checkout(guest, token="guest-cart-token-2", key="same")
    assert other.status_code == 201 and other.json()["number"] != first.json()["number"]
    assert Order.objects.count() == 2
    assert set(IdempotencyKey.objects.values_list("user_id", flat=True)) == {0}


@pytest.mark.parametrize(
    "token, body, status",
    [
        (None, {"shipping_address": ADDRESS, "email": "eva@example.com"}, 401),
        (CART_TOKEN, {"shipping_address": ADDRESS}, 400),
        (CART_TOKEN, {"shipping_address": ADDRESS, "email": "not-an-email"}, 400),
        (CART_TOKEN, {"address_id": 1, "email": "eva@example.com"}, 400),
        (CART_TOKEN, {"shipping_address": ADDRESS, "email": "e@x.es", "language": "fr"}, 400),
        ("t" * 129, {"shipping_address": ADDRESS, "email": "eva@example.com"}, 400),
    ],
)
def test_bad_guest_checkouts_are_refused_and_change_nothing(
    neighbours, guest_cart, token, body, status
):
    response = guest_checkout(APIClient(), token=token, body=body)
    assert response.status_code == status, response.json()
    assert not Order.objects.exists() and not IdempotencyKey.objects.exists()
    assert neighbours.products[1].stock == 5 and guest_cart.lines == {1: 2}


def test_an_unknown_or_empty_guest_cart_is_an_empty_cart(neighbours, guest_cart):
    response = guest_checkout(APIClient(), token="no-such-cart")
    assert (response.status_code, response.json()["code"]) == (400, "empty_cart")
    assert not Order.objects.exists()


def test_the_guest_pays_and_cancels_with_the_token(neighbours, guest_cart, staff):
    guest = APIClient()
    body = guest_checkout(guest).json()
    token, number = body["access_token"], body["number"]
    order = Order.objects.get(number=number)
    payments = f"{GUEST}/{number}/payments/"
    no_key = guest.post(payments, {"provider": "manual"}, format="json", HTTP_X_ORDER_TOKEN=token)
    assert no_key.status_code == 400
    wrong = guest.post(
        payments,
        {"provider": "manual"},
        format="json",
        HTTP_X_ORDER_TOKEN="nope",
        HTTP_IDEMPOTENCY_KEY="p1",
    )
    assert wrong.status_code == 404
    paid = guest.post(
        payments,
        {"provider": "manual"},
        format="json",
        HTTP_X_ORDER_TOKEN=token,
        HTTP_IDEMPOTENCY_KEY="p1",
    )
    assert paid.status_code == 201, paid.json()
    assert paid.json()["amount"] == "24.20"
    assert received(staff, order, paid.json()["id"]).status_code == 200
    listed = guest.get(payments, HTTP_X_ORDER_TOKEN=token).json()
    assert [p["status"] for p in listed] == ["succeeded"]

    assert guest.post(f"{GUEST}/{number}/cancel/", {}, format="json").status_code == 400
    cancelled = guest.post(f"{GUEST}/{number}/cancel/", {}, format="json", HTTP_X_ORDER_TOKEN=token)
    assert cancelled.status_code == 200, cancelled.json()
    order.refresh_from_db()
    assert (order.status, order.payment_status) == (OrderStatus.CANCELLED, "refunded")
    assert neighbours.products[1].stock == 5
    kinds = list(OutboxMessage.objects.order_by("id").values_list("kind", flat=True))
    assert kinds == ["orders.placed", "orders.paid", "orders.cancelled", "orders.refunded"]


def test_a_verified_customer_of_that_email_gets_the_guest_orders(
    neighbours, guest_cart, client_for
):
    number = guest_checkout(APIClient()).json()["number"]
    unverified = client_for(42, email="eva@example.com", email_verified=False)
    assert unverified.get("/api/v1/orders/").json()["results"] == []
    assert Order.objects.get(number=number).user_id is None
    someone_else = client_for(43, email="other@example.com", email_verified=True)
    assert someone_else.get("/api/v1/orders/").json()["results"] == []

    verified = client_for(42, email="eva@example.com", email_verified=True)
    listed = verified.get("/api/v1/orders/").json()["results"]
    assert [order["number"] for order in listed] == [number]
    assert Order.objects.get(number=number).user_id == 42
    # Claimed once: another verified account of the same email (impossible in auth,
    # emails are unique) could not take it over.
    other = client_for(44, email="eva@example.com", email_verified=True)
    assert other.get("/api/v1/orders/").json()["results"] == []
    assert Order.objects.get(number=number).user_id == 42


def test_a_verified_customer_opening_the_guest_order_first_gets_it(
    neighbours, guest_cart, client_for
):
    number = guest_checkout(APIClient()).json()["number"]
    order = Order.objects.get(number=number)
    unverified = client_for(42, email="eva@example.com", email_verified=False)
    assert unverified.get(f"/api/v1/orders/{order.pk}/").status_code == 404
    assert unverified.get("/api/v1/orders/stats/").json()["count"] == 0

    verified = client_for(42, email="eva@example.com", email_verified=True)
    detail = verified.get(f"/api/v1/orders/{order.pk}/")
    assert detail.status_code == 200 and detail.json()["number"] == number
    assert Order.objects.get(number=number).user_id == 42
    assert verified.get("/api/v1/orders/stats/").json()["count"] == 1


def test_staff_see_a_guest_order_in_the_admin(neighbours, guest_cart, client):
    from django.contrib.auth.models import User

    client.force_login(User.objects.create_superuser("boss", "boss@example.com", "pw-not-used"))
    number = guest_checkout(APIClient()).json()["number"]
    order = Order.objects.get(number=number)
    page = client.get(f"{CHANGELIST}{order.pk}/change/")
    assert page.status_code == 200
    text = page.content.decode()
    assert "eva@example.com (guest)" in text and order.access_token_hash not in text
