"""Issue 11.2: an access token issued before its user's revocation gets nowhere in the cart.

auth's list is played by the `revocations` fixture (tests/support/revocations.py).
"""

import time

import pytest

from carts.models import Cart, CartLine
from tests.cart.api import CART, add
from tests.support.problems import assert_problem
from tests.support.tokens import mint_access_token

pytestmark = pytest.mark.django_db(databases=["default", "ecommerce"])


def client_with(api_client, token):
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    return api_client


@pytest.fixture
def product(catalog):
    return catalog.add_product(stock=10)


@pytest.fixture
def revoked_client(api_client, revocations):
    """Customer 1 with a token signed a minute before their password changed."""
    token = mint_access_token(user_id=1, iat=int(time.time()) - 60)
    revocations.entries[1] = int(time.time()) - 10
    return client_with(api_client, token)


def test_a_revoked_token_cannot_add_to_the_cart_and_nothing_is_written(revoked_client, product):
    assert_problem(add(revoked_client, product["id"], 1), 401, "token_revoked")
    assert not Cart.objects.filter(user_id=1).exists()
    assert not CartLine.objects.exists()


def test_a_revoked_token_cannot_read_change_clear_or_merge(revoked_client, product):
    for method, path in [
        ("get", CART),
        ("delete", CART),
        ("patch", "/api/v1/cart/items/1/"),
        ("delete", "/api/v1/cart/items/1/"),
        ("post", "/api/v1/cart/merge/"),
    ]:
        response = getattr(revoked_client, method)(path, {"quantity": 2}, HTTP_X_CART_TOKEN="x")
        assert_problem(response, 401, "token_revoked")


def test_a_token_issued_after_the_revocation_works(api_client, revocations, product):
    revocations.entries[1] = int(time.time()) - 10
    client = client_with(api_client, mint_access_token(user_id=1))
    assert add(client, product["id"], 2).status_code == 201
    assert CartLine.objects.get(cart__user_id=1).quantity == 2


def test_other_users_are_not_affected(api_client, revocations, product):
    revocations.entries[2] = int(time.time()) + 60
    client = client_with(api_client, mint_access_token(user_id=1))
    assert add(client, product["id"], 1).status_code == 201


def test_the_list_is_fetched_once_per_interval_not_per_request(api_client, revocations, product):
    client = client_with(api_client, mint_access_token(user_id=1))
    for _ in range(5):
        assert client.get(CART).status_code == 200
    assert revocations.calls == 1


def test_a_revocation_bites_once_the_interval_has_passed(
    api_client, revocations, product, settings
):
    settings.TOKEN_REVOCATION_REFRESH_SECONDS = 0.2
    client = client_with(api_client, mint_access_token(user_id=1, iat=int(time.time()) - 5))
    assert client.get(CART).status_code == 200
    revocations.entries[1] = int(time.time())  # deactivated in auth just now
    time.sleep(0.3)
    assert_problem(client.get(CART), 401, "token_revoked")


def test_auth_unreachable_refuses_writes_but_not_reads(api_client, revocations, product):
    revocations.reachable = False
    client = client_with(api_client, mint_access_token(user_id=1))
    assert_problem(add(client, product["id"], 1), 503, "revocations_unavailable")
    assert not CartLine.objects.exists()
    assert client.get(CART).status_code == 200


def test_guests_do_not_depend_on_auth(api_client, revocations, product):
    revocations.reachable = False
    assert add(api_client, product["id"], 1).status_code == 201
    assert revocations.calls == 0
