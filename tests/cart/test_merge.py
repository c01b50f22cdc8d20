"""POST /api/v1/cart/merge/: a guest cart folded into the signed-in customer's cart."""

import pytest

from carts.models import Cart, CartLine
from tests.cart.api import add
from tests.cart.factories import CartFactory, CartLineFactory, GuestCartFactory
from tests.cart.state import carts_snapshot, user_quantities
from tests.support.databases import BOTH_DATABASES
from tests.support.problems import assert_problem

pytestmark = pytest.mark.django_db(databases=BOTH_DATABASES)

MERGE = "/api/v1/cart/merge/"


def merge(client, token):
    return client.post(MERGE, HTTP_X_CART_TOKEN=token)


def test_a_guest_cart_merged_after_login_shows_the_summed_quantities(api_client, customer, catalog):
    shirt, socks, hat = (catalog.add_product(stock=20) for _ in range(3))
    # Shopping as a guest...
    token = add(api_client, shirt["id"], 2).json()["cart_token"]
    api_client.credentials(HTTP_X_CART_TOKEN=token)
    add(api_client, socks["id"], 1)
    # ...while the account already had a shirt and a hat.
    add(customer, shirt["id"], 1)
    add(customer, hat["id"], 4)
    guest_cart = Cart.objects.get(user_id__isnull=True)

    response = merge(customer, token)

    assert response.status_code == 200
    body = response.json()
    assert body["merged"] is True and body["adjustments"] == []
    assert {item["product_id"]: item["quantity"] for item in body["items"]} == {
        shirt["id"]: 3,
        socks["id"]: 1,
        hat["id"]: 4,
    }
    assert body["item_count"] == 8 and body["cart_token"] is None
    assert user_quantities(customer.user_id) == {shirt["id"]: 3, socks["id"]: 1, hat["id"]: 4}
    # The guest cart and its lines are gone; reading with its token is an empty cart.
    assert not Cart.objects.filter(pk=guest_cart.pk).exists()
    assert not CartLine.objects.filter(cart_id=guest_cart.pk).exists()
    assert api_client.get("/api/v1/cart/").json()["items"] == []
    assert customer.get("/api/v1/cart/").json()["items"] == body["items"]


def test_merging_twice_is_harmless(api_client, customer, catalog):
    product = catalog.add_product()
    token = add(api_client, product["id"], 2).json()["cart_token"]
    assert merge(customer, token).json()["merged"] is True
    before = carts_snapshot()
    again = merge(customer, token)
    assert again.status_code == 200
    assert again.json()["merged"] is False
    assert [item["quantity"] for item in again.json()["items"]] == [2]
    assert carts_snapshot() == before


def test_a_customer_without_a_cart_gets_the_guest_lines(api_client, customer, catalog):
    product = catalog.add_product()
    token = add(api_client, product["id"], 2).json()["cart_token"]
    assert merge(customer, token).status_code == 200
    cart = Cart.objects.get()
    assert cart.user_id == customer.user_id and cart.guest_token_hash is None
    assert user_quantities(customer.user_id) == {product["id"]: 2}


def test_merged_quantities_are_capped_at_stock_and_the_line_maximum(customer, catalog, settings):
    settings.CART_MAX_LINE_QUANTITY = 10
    scarce = catalog.add_product(stock=4)
    plenty = catalog.add_product(stock=500)
    withdrawn = catalog.add_product(is_active=False)
    user_cart = CartFactory(user_id=customer.user_id)
    CartLineFactory(cart=user_cart, product_id=scarce["id"], quantity=3)
    CartLineFactory(cart=user_cart, product_id=plenty["id"], quantity=8)
    guest_cart = GuestCartFactory(token="guest")
    for product, quantity in ((scarce, 2), (plenty, 5), (withdrawn, 1), ({"id": 777}, 1)):
        CartLineFactory(cart=guest_cart, product_id=product["id"], quantity=quantity)

    body = merge(customer, "guest").json()

    assert user_quantities(customer.user_id) == {scarce["id"]: 4, plenty["id"]: 10}
    assert body["adjustments"] == [
        {"product_id": scarce["id"], "requested": 5, "quantity": 4, "reason": "insufficient_stock"},
        {
            "product_id": plenty["id"],
            "requested": 13,
            "quantity": 10,
            "reason": "quantity_too_large",
        },
        {
            "product_id": withdrawn["id"],
            "requested": 1,
            "quantity": 0,
            "reason": "inactive_product",
        },
        {"product_id": 777, "requested": 1, "quantity": 0, "reason": "unknown_product"},
    ]
    assert not Cart.objects.filter(pk=guest_cart.pk).exists()


def test_a_merge_never_lowers_the_customers_own_line(customer, catalog):
    product = catalog.add_product(stock=5)
    CartLineFactory(
        cart=CartFactory(user_id=customer.user_id), product_id=product["id"], quantity=7
    )
    CartLineFactory(cart=GuestCartFactory(token="guest"), product_id=product["id"], quantity=1)
    body = merge(customer, "guest").json()
    assert user_quantities(customer.user_id) == {product["id"]: 7}
    assert body["adjustments"][0]["quantity"] == 7


def test_lines_beyond_the_line_limit_are_left_out(customer, catalog, settings):
    settings.CART_MAX_LINES = 2
    mine, first, second = (catalog.add_product() for _ in range(3))
    CartLineFactory(cart=CartFactory(user_id=customer.user_id), product_id=mine["id"])
    guest_cart = GuestCartFactory(token="guest")
    CartLineFactory(cart=guest_cart, product_id=first["id"], quantity=2)
    CartLineFactory(cart=guest_cart, product_id=second["id"], quantity=3)
    body = merge(customer, "guest").json()
    assert user_quantities(customer.user_id) == {mine["id"]: 1, first["id"]: 2}
    assert body["adjustments"] == [
        {"product_id": second["id"], "requested": 3, "quantity": 0, "reason": "too_many_lines"}
    ]


def test_merge_asks_the_catalog_once(customer, catalog, django_assert_max_num_queries):
    user_cart = CartFactory(user_id=customer.user_id)
    guest_cart = GuestCartFactory(token="guest")
    for _ in range(20):
        product = catalog.add_product()
        CartLineFactory(cart=user_cart, product_id=product["id"])
        CartLineFactory(cart=guest_cart, product_id=product["id"])
        CartLineFactory(cart=guest_cart, product_id=catalog.add_product()["id"])
    catalog.forget_requests()
    with django_assert_max_num_queries(14):
        assert merge(customer, "guest").status_code == 200
    assert catalog.product_requests == 1
    assert len(user_quantities(customer.user_id)) == 40


def test_merge_needs_a_signed_in_customer_and_a_token(api_client, customer, catalog):
    assert_problem(merge(api_client, "guest"), 401, "not_authenticated")
    assert_problem(customer.post(MERGE), 400, "cart_token_required")


def test_merge_with_the_catalog_down_is_503_and_changes_nothing(customer, catalog):
    CartLineFactory(cart=GuestCartFactory(token="guest"), product_id=catalog.add_product()["id"])
    CartLineFactory(
        cart=CartFactory(user_id=customer.user_id), product_id=catalog.add_product()["id"]
    )
    catalog.stop()
    before = carts_snapshot()
    assert_problem(merge(customer, "guest"), 503, "service_unavailable")
    assert carts_snapshot() == before
