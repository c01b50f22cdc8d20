"""/internal/cart/: the checkout reads a customer's cart and clears it afterwards."""

import pytest

from carts.models import AppliedClear, Cart
from tests.cart.api import CART, add, item_url
from tests.cart.factories import CartFactory, CartLineFactory, GuestCartFactory
from tests.cart.state import carts_snapshot, quantities, user_quantities
from tests.support.databases import BOTH_DATABASES

pytestmark = pytest.mark.django_db(databases=BOTH_DATABASES)


def read_url(user_id):
    return f"/internal/cart/users/{user_id}/"


def clear_url(user_id):
    return f"/internal/cart/users/{user_id}/clear/"


def test_only_services_may_call_it(api_client, customer, catalog):
    staff = customer  # any JWT, customer or staff, is refused
    for client in (api_client, staff):
        assert client.get(read_url(1)).status_code == 403
        assert client.post(clear_url(1), {}, format="json").status_code == 403
    api_client.credentials(HTTP_X_SERVICE_TOKEN="wrong")
    assert api_client.get(read_url(1)).status_code == 403


def test_read_returns_lines_and_version_without_asking_the_catalog(
    service_api_client, catalog, django_assert_max_num_queries
):
    cart = CartFactory(user_id=5, version=7)
    CartLineFactory(cart=cart, product_id=3, quantity=2)
    CartLineFactory(cart=cart, product_id=1, quantity=4)
    with django_assert_max_num_queries(1, using="ecommerce"):  # the cart joined to its lines
        response = service_api_client.get(read_url(5))
    assert response.status_code == 200
    assert response.json() == {
        "user_id": 5,
        "version": 7,
        "lines": [{"product_id": 3, "quantity": 2}, {"product_id": 1, "quantity": 4}],
    }
    assert catalog.product_requests == 0


def test_read_of_a_cart_without_lines_keeps_its_version(
    service_api_client, django_assert_max_num_queries
):
    CartFactory(user_id=6, version=4)
    with django_assert_max_num_queries(1, using="ecommerce"):
        response = service_api_client.get(read_url(6))
    assert response.json() == {"user_id": 6, "version": 4, "lines": []}


def test_read_without_a_cart_is_version_0_and_no_lines(service_api_client):
    GuestCartFactory()
    assert service_api_client.get(read_url(9)).json() == {"user_id": 9, "version": 0, "lines": []}


def test_clear_with_the_version_read_empties_the_cart(service_api_client):
    cart = CartFactory(user_id=5, version=3)
    CartLineFactory(cart=cart, product_id=1, quantity=2)
    CartLineFactory(cart=cart, product_id=2, quantity=1)
    response = service_api_client.post(
        clear_url(5),
        {
            "reference": "T-0000000001",
            "version": 3,
            "lines": [{"product_id": 1, "quantity": 2}, {"product_id": 2, "quantity": 1}],
        },
        format="json",
    )
    assert response.status_code == 200
    assert response.json() == {"cleared": True, "version": 4}
    assert quantities(cart) == {}
    assert AppliedClear.objects.filter(cart=cart, reference="T-0000000001").exists()


def test_a_checkouts_clear_is_a_fixed_number_of_statements(
    service_api_client, django_assert_max_num_queries
):
    cart = CartFactory(user_id=5, version=3)
    for product_id in range(1, 11):
        CartLineFactory(cart=cart, product_id=product_id, quantity=1)
    ordered = [{"product_id": product_id, "quantity": 1} for product_id in range(1, 11)]
    # lock the cart, the reference not applied yet, delete the lines, record the
    # reference, bump the version (+ savepoint)
    with django_assert_max_num_queries(7, using="ecommerce"):
        response = service_api_client.post(
            clear_url(5), {"reference": "T-1", "version": 3, "lines": ordered}, format="json"
        )
    assert response.json() == {"cleared": True, "version": 4}
    assert quantities(cart) == {}


def test_clear_after_the_cart_moved_takes_out_only_what_was_ordered(service_api_client):
    cart = CartFactory(user_id=5, version=3)
    CartLineFactory(cart=cart, product_id=1, quantity=2)
    CartLineFactory(cart=cart, product_id=2, quantity=5)  # was 1 at checkout, then +4
    CartLineFactory(cart=cart, product_id=3, quantity=1)  # added after the checkout read
    Cart.objects.filter(pk=cart.pk).update(version=6)
    response = service_api_client.post(
        clear_url(5),
        {
            "reference": "T-0000000002",
            "version": 3,
            "lines": [{"product_id": 1, "quantity": 2}, {"product_id": 2, "quantity": 1}],
        },
        format="json",
    )
    assert response.json() == {"cleared": False, "version": 7}
    assert quantities(cart) == {2: 4, 3: 1}


def checkout_read(service_api_client, user_id):
    """What the checkout reads: the version and lines to order, as the clear sends them back."""
    cart = service_api_client.get(read_url(user_id)).json()
    return cart["version"], cart["lines"]


def late_clear(service_api_client, user_id, reference, version, lines):
    body = {"reference": reference, "version": version, "lines": lines}
    response = service_api_client.post(clear_url(user_id), body, format="json")
    assert response.status_code == 200, response.content
    return response.json()


def test_a_late_clear_leaves_a_product_removed_and_added_again(
    service_api_client, customer, catalog
):
    """The order took 2 units; the customer removed the line and added 1 unit anew."""
    product = catalog.add_product(stock=50)["id"]
    add(customer, product, 2)
    version, lines = checkout_read(service_api_client, customer.user_id)
    assert lines == [{"product_id": product, "quantity": 2}]
    line_id = customer.get("/api/v1/cart/").json()["items"][0]["id"]
    assert customer.delete(item_url(line_id)).status_code == 200
    assert add(customer, product, 1).status_code == 201

    outcome = late_clear(service_api_client, customer.user_id, "T-LATE000001", version, lines)

    assert outcome["cleared"] is False
    assert user_quantities(customer.user_id) == {product: 1}
    clear = AppliedClear.objects.get(reference="T-LATE000001")
    assert (clear.read_version, clear.cleared_all) == (version, False)


def test_a_late_clear_takes_out_exactly_the_ordered_units(service_api_client, customer, catalog):
    """Units added on top of an ordered line, and new products, survive; the rest goes."""
    ordered, grown, added_later = (catalog.add_product(stock=50)["id"] for _ in range(3))
    add(customer, ordered, 3)
    add(customer, grown, 1)
    version, lines = checkout_read(service_api_client, customer.user_id)
    assert add(customer, grown, 4).status_code == 200  # merged into the line the order read
    assert add(customer, added_later, 2).status_code == 201

    late_clear(service_api_client, customer.user_id, "T-LATE000002", version, lines)

    assert user_quantities(customer.user_id) == {grown: 4, added_later: 2}
    assert customer.get(CART).json()["item_count"] == 6


def test_a_retried_clear_changes_nothing(service_api_client):
    cart = CartFactory(user_id=5, version=1)
    CartLineFactory(cart=cart, product_id=1, quantity=2)
    body = {"reference": "T-0000000003", "version": 1, "lines": [{"product_id": 1, "quantity": 2}]}
    first = service_api_client.post(clear_url(5), body, format="json")
    assert first.json() == {"cleared": True, "version": 2}
    # The customer shops again; the checkout's retry must not touch the new line.
    CartLineFactory(cart=cart, product_id=1, quantity=1)
    Cart.objects.filter(pk=cart.pk).update(version=3)
    before = carts_snapshot()
    retry = service_api_client.post(clear_url(5), body, format="json")
    assert retry.status_code == 200
    assert retry.json() == {"cleared": True, "version": 3}
    assert carts_snapshot() == before
    assert AppliedClear.objects.filter(cart=cart).count() == 1


def test_clearing_a_customer_without_a_cart_is_harmless(service_api_client):
    response = service_api_client.post(
        clear_url(9), {"reference": "T-1", "version": 0, "lines": []}, format="json"
    )
    assert response.json() == {"cleared": False, "version": 0}
    assert not Cart.objects.exists()


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"version": 1, "lines": []},
        {"reference": "", "version": 1, "lines": []},
        {"reference": "T" * 65, "version": 1, "lines": []},
        {"reference": "T-1", "version": "one", "lines": []},
        {"reference": "T-1", "version": -1, "lines": []},
        {"reference": "T-1", "version": 1, "lines": {}},
        {"reference": "T-1", "version": 1, "lines": [{"product_id": 1, "quantity": 0}]},
        {"reference": "T-1", "version": 1, "lines": [{"product_id": "x", "quantity": 1}]},
    ],
)
def test_bad_clear_requests_are_a_400_and_change_nothing(service_api_client, body):
    cart = CartFactory(user_id=5, version=1)
    CartLineFactory(cart=cart, product_id=1, quantity=2)
    before = carts_snapshot()
    response = service_api_client.post(clear_url(5), body, format="json")
    assert response.status_code == 400
    assert response.json()["code"] == "invalid"
    assert carts_snapshot() == before


def test_a_guest_cart_is_never_a_users_cart(service_api_client):
    CartLineFactory(cart=GuestCartFactory(), product_id=1)
    assert service_api_client.get(read_url(0)).json()["lines"] == []


def test_user_ids_beyond_any_cart_are_simply_without_a_cart(service_api_client):
    huge = 10**30
    assert service_api_client.get(read_url(huge)).json()["version"] == 0
    response = service_api_client.post(
        clear_url(huge), {"reference": "T-1", "version": 0, "lines": []}, format="json"
    )
    assert response.json() == {"cleared": False, "version": 0}


GUEST_LOOKUP = "/internal/cart/guests/lookup/"


def test_a_guests_cart_is_read_by_its_token_for_the_shipping_quote(service_api_client, api_client):
    cart = GuestCartFactory(token="guest-token-ship", version=4)
    CartLineFactory(cart=cart, product_id=5, quantity=2)
    CartLineFactory(cart=cart, product_id=3, quantity=1)
    CartLineFactory(cart=CartFactory(user_id=77), product_id=9, quantity=9)  # not a guest's

    response = service_api_client.post(
        GUEST_LOOKUP, {"cart_token": "guest-token-ship"}, format="json"
    )
    assert response.status_code == 200
    assert response.json() == {
        "user_id": None,
        "version": 4,
        "lines": [{"product_id": 5, "quantity": 2}, {"product_id": 3, "quantity": 1}],
    }
    unknown = service_api_client.post(GUEST_LOOKUP, {"cart_token": "nobody"}, format="json")
    assert (unknown.status_code, unknown.json()["code"]) == (404, "cart_not_found")
    assert service_api_client.post(GUEST_LOOKUP, {}, format="json").status_code == 400
    assert api_client.post(GUEST_LOOKUP, {"cart_token": "guest-token-ship"}).status_code == 403
    assert Cart.objects.count() == 2  # a read creates nothing


GUEST_CLEAR = "/internal/cart/guests/clear/"


def test_a_guest_order_clears_its_guest_cart_once_by_the_tokens_hash(
    service_api_client, api_client
):
    import hashlib

    cart = GuestCartFactory(token="guest-token-buy", version=3)
    CartLineFactory(cart=cart, product_id=5, quantity=2)
    CartLineFactory(cart=cart, product_id=3, quantity=1)
    customer_cart = CartFactory(user_id=78)
    CartLineFactory(cart=customer_cart, product_id=5, quantity=1)
    token_hash = hashlib.sha256(b"guest-token-buy").hexdigest()
    body = {
        "cart_token_hash": token_hash,
        "reference": "T-GUEST00001",
        "version": 3,
        "lines": [{"product_id": 5, "quantity": 2}, {"product_id": 3, "quantity": 1}],
    }
    assert api_client.post(GUEST_CLEAR, body, format="json").status_code == 403
    assert quantities(cart) == {5: 2, 3: 1}

    response = service_api_client.post(GUEST_CLEAR, body, format="json")
    assert response.status_code == 200, response.json()
    assert response.json()["cleared"] is True
    assert quantities(cart) == {}
    assert user_quantities(78) == {5: 1}  # nobody else's cart is touched
    assert AppliedClear.objects.filter(cart=cart, reference="T-GUEST00001").count() == 1
    again = service_api_client.post(GUEST_CLEAR, body, format="json")
    assert again.json()["cleared"] is True
    assert AppliedClear.objects.filter(cart=cart).count() == 1

    # The token itself, a bad hash, or an unknown one: never a customer's cart.
    for bad in ("guest-token-buy", "x" * 64, ""):
        answer = service_api_client.post(
            GUEST_CLEAR, {**body, "cart_token_hash": bad}, format="json"
        )
        assert answer.status_code == 400, bad
    unknown = service_api_client.post(
        GUEST_CLEAR, {**body, "cart_token_hash": "0" * 64}, format="json"
    )
    assert unknown.json() == {"cleared": False, "version": 0}
    assert user_quantities(78) == {5: 1}
