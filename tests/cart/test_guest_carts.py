"""Guest carts: created by a first write without a token, used with X-Cart-Token."""

import hashlib

import pytest

from carts.models import Cart, CartLine
from tests.cart.api import CART, ITEMS, add, item_url
from tests.cart.factories import CartFactory, CartLineFactory, GuestCartFactory
from tests.cart.state import carts_snapshot, quantities
from tests.support.databases import BOTH_DATABASES
from tests.support.problems import assert_problem

pytestmark = pytest.mark.django_db(databases=BOTH_DATABASES)


def test_a_first_add_without_a_token_creates_a_guest_cart_and_returns_its_token(
    api_client, catalog
):
    product = catalog.add_product()
    response = add(api_client, product["id"], 2)
    assert response.status_code == 201
    token = response.json()["cart_token"]
    assert len(token) >= 43  # secrets.token_urlsafe(32)
    assert response["X-Cart-Token"] == token
    cart = Cart.objects.get()
    assert cart.user_id is None
    # Only the token's SHA-256 is stored.
    assert cart.guest_token_hash == hashlib.sha256(token.encode()).hexdigest()
    assert token not in str(carts_snapshot())
    assert quantities(cart) == {product["id"]: 2}


def test_the_guest_uses_the_token_for_every_operation(api_client, catalog):
    first, second = catalog.add_product(), catalog.add_product()
    token = add(api_client, first["id"], 1).json()["cart_token"]
    api_client.credentials(HTTP_X_CART_TOKEN=token)

    assert add(api_client, first["id"], 2).status_code == 200
    assert add(api_client, second["id"], 1).status_code == 201
    body = api_client.get(CART).json()
    assert body["cart_token"] == token
    assert [(item["product_id"], item["quantity"]) for item in body["items"]] == [
        (first["id"], 3),
        (second["id"], 1),
    ]
    line_id = body["items"][0]["id"]
    assert api_client.patch(item_url(line_id), {"quantity": 1}).status_code == 200
    assert api_client.delete(item_url(body["items"][1]["id"])).status_code == 200
    response = api_client.get(CART)
    assert response["X-Cart-Token"] == token
    assert [(item["product_id"], item["quantity"]) for item in response.json()["items"]] == [
        (first["id"], 1)
    ]
    assert Cart.objects.count() == 1

    cleared = api_client.delete(CART)
    assert cleared.status_code == 200
    assert cleared.json()["cart_token"] == token  # the cart stays, empty
    assert not CartLine.objects.exists()
    emptied = api_client.get(CART)  # an empty cart still has its token
    assert emptied.json()["items"] == [] and emptied.json()["cart_token"] == token
    assert emptied["X-Cart-Token"] == token


def test_a_guest_without_a_token_reads_an_empty_cart(api_client, catalog):
    response = api_client.get(CART)
    assert response.status_code == 200
    assert response.json()["items"] == [] and response.json()["cart_token"] is None
    assert "X-Cart-Token" not in response
    assert not Cart.objects.exists()


def test_an_unknown_token_reads_as_an_empty_cart(api_client, catalog):
    api_client.credentials(HTTP_X_CART_TOKEN="no-such-token")
    body = api_client.get(CART).json()
    assert body["items"] == [] and body["cart_token"] is None


def test_an_unknown_token_on_add_starts_a_new_guest_cart(api_client, catalog):
    GuestCartFactory(token="someone-else")
    api_client.credentials(HTTP_X_CART_TOKEN="expired-or-made-up")
    response = add(api_client, catalog.add_product()["id"], 1)
    assert response.status_code == 201
    assert response.json()["cart_token"] not in {"expired-or-made-up", "someone-else"}
    assert Cart.objects.count() == 2


def test_an_unknown_token_cannot_change_lines(api_client, catalog):
    line = CartLineFactory(
        cart=GuestCartFactory(token="theirs"), product_id=catalog.add_product()["id"]
    )
    before = carts_snapshot()
    api_client.credentials(HTTP_X_CART_TOKEN="mine")
    assert_problem(api_client.patch(item_url(line.id), {"quantity": 2}), 404, "line_not_found")
    assert_problem(api_client.delete(item_url(line.id)), 404, "line_not_found")
    assert api_client.delete(CART).status_code == 200
    assert carts_snapshot() == before


def test_a_guest_token_never_reaches_a_customers_cart(api_client, customer, catalog):
    product = catalog.add_product()
    customer_line = CartLineFactory(
        cart=CartFactory(user_id=customer.user_id), product_id=product["id"], quantity=3
    )
    guest_cart = GuestCartFactory(token="guest-token")
    before = carts_snapshot()
    api_client.credentials(HTTP_X_CART_TOKEN="guest-token")
    assert_problem(
        api_client.patch(item_url(customer_line.id), {"quantity": 1}), 404, "line_not_found"
    )
    assert_problem(api_client.delete(item_url(customer_line.id)), 404, "line_not_found")
    assert api_client.get(CART).json()["items"] == []
    assert carts_snapshot() == before
    # And a customer sending a guest token still works on their own cart only.
    customer.credentials(
        HTTP_AUTHORIZATION=customer._credentials["HTTP_AUTHORIZATION"],
        HTTP_X_CART_TOKEN="guest-token",
    )
    assert add(customer, product["id"], 1).status_code == 200
    assert quantities(guest_cart) == {}
    body = customer.get(CART).json()
    assert body["cart_token"] is None and body["items"][0]["quantity"] == 4


def test_guest_writes_with_the_catalog_down_create_nothing(api_client, catalog):
    product = catalog.add_product()
    catalog.stop()
    response = add(api_client, product["id"], 1)
    assert_problem(response, 503, "service_unavailable")
    assert "X-Cart-Token" not in response
    assert not Cart.objects.exists()


def test_guest_items_endpoint_rejects_bad_input_without_creating_a_cart(api_client, catalog):
    for quantity in (0, -1, "abc", 10**9):
        assert_problem(add(api_client, 1, quantity), 400, "invalid")
    assert_problem(add(api_client, 31337, 1), 400, "unknown_product")
    assert not Cart.objects.exists()
    assert api_client.post(ITEMS, {}, format="json").status_code == 400
