"""Issue 11.2: an access token issued before its user's revocation cannot check out,
cancel or read orders (auth's list is played by the `revocations` fixture)."""

import time

import pytest

from orders.models import IdempotencyKey, Order, OrderStatus
from tests.orders.api import CUSTOMER_ID, checkout
from tests.orders.factories import OrderFactory
from tests.support.tokens import mint_access_token

pytestmark = pytest.mark.django_db(databases=["default", "ecommerce"])


@pytest.fixture
def revoked_customer(api_client, revocations):
    """The customer with a token signed before their account was deactivated."""
    token = mint_access_token(user_id=CUSTOMER_ID, iat=int(time.time()) - 60)
    revocations.entries[CUSTOMER_ID] = int(time.time()) - 10
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    return api_client


@pytest.fixture
def shop(neighbours):
    neighbours.add_product(1, price="19.99", tax_rate="0.21", stock=10)
    neighbours.fill_cart(CUSTOMER_ID, {1: 2})
    return neighbours


def assert_revoked(response):
    assert response.status_code == 401, response.content
    assert response.json()["code"] == "token_revoked"


def test_a_revoked_token_cannot_check_out_and_nothing_is_held(revoked_customer, shop):
    assert_revoked(checkout(revoked_customer))
    assert not Order.objects.exists()
    assert not IdempotencyKey.objects.exists()
    assert shop.calls == []  # no reservation, no cart read


def test_a_revoked_token_cannot_cancel(revoked_customer, shop):
    order = OrderFactory(user_id=CUSTOMER_ID, status=OrderStatus.PENDING)
    assert_revoked(revoked_customer.post(f"/api/v1/orders/{order.pk}/cancel/"))
    order.refresh_from_db()
    assert order.status == OrderStatus.PENDING


def test_a_revoked_token_cannot_read_orders(revoked_customer):
    order = OrderFactory(user_id=CUSTOMER_ID)
    assert_revoked(revoked_customer.get("/api/v1/orders/"))
    assert_revoked(revoked_customer.get(f"/api/v1/orders/{order.pk}/"))


def test_a_fresh_token_of_the_same_user_checks_out(api_client, revocations, shop):
    revocations.entries[CUSTOMER_ID] = int(time.time()) - 10
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {mint_access_token(user_id=CUSTOMER_ID)}")
    assert checkout(api_client).status_code == 201
    assert Order.objects.filter(user_id=CUSTOMER_ID).count() == 1


def test_auth_unreachable_refuses_checkout_with_503_and_nothing_held(api_client, revocations, shop):
    revocations.reachable = False
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {mint_access_token(user_id=CUSTOMER_ID)}")
    response = checkout(api_client)
    assert response.status_code == 503
    assert response.json()["code"] == "revocations_unavailable"
    assert not Order.objects.exists()
    assert shop.calls == []
    assert api_client.get("/api/v1/orders/").status_code == 200  # reads go on
