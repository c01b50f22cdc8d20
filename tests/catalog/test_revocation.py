"""A deactivated staff member's old access token stops writing the catalogue.

auth's list is played by the `revocations` fixture (tests/support/revocations.py).
"""

import time

import pytest

from catalog.models import Product
from tests.catalog.conftest import CATALOG_MANAGER_PERMS
from tests.catalog.factories import ProductFactory
from tests.support.databases import BOTH_DATABASES
from tests.support.problems import assert_problem
from tests.support.tokens import mint_access_token

pytestmark = pytest.mark.django_db(databases=BOTH_DATABASES)

STAFF_ID = 900


@pytest.fixture
def revoked_staff(api_client, revocations):
    """A catalog manager whose token was signed a minute before the account was deactivated."""
    token = mint_access_token(
        user_id=STAFF_ID, is_staff=True, perms=CATALOG_MANAGER_PERMS, iat=int(time.time()) - 60
    )
    revocations.entries[STAFF_ID] = int(time.time()) - 10
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    return api_client


def test_a_revoked_staff_token_changes_no_product(revoked_staff):
    product = ProductFactory(price="10.00")
    response = revoked_staff.patch(
        f"/api/v1/catalog/products/{product.pk}/", {"price": "1.00"}, format="json"
    )
    assert_problem(response, 401, "token_revoked")
    product.refresh_from_db()
    assert str(product.price) == "10.00"


def test_a_revoked_staff_token_creates_no_product(revoked_staff):
    response = revoked_staff.post(
        "/api/v1/catalog/products/",
        {"sku": "NEW-1", "name": "New", "price": "1.00", "tax_rate": "0.21"},
        format="json",
    )
    assert_problem(response, 401, "token_revoked")
    assert not Product.objects.filter(sku="NEW-1").exists()


def test_a_token_signed_after_the_revocation_still_works(api_client, revocations):
    revocations.entries[STAFF_ID] = int(time.time()) - 60
    token = mint_access_token(user_id=STAFF_ID, is_staff=True, perms=CATALOG_MANAGER_PERMS)
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    product = ProductFactory(price="10.00")
    response = api_client.patch(
        f"/api/v1/catalog/products/{product.pk}/", {"price": "12.00"}, format="json"
    )
    assert response.status_code == 200, response.content
    product.refresh_from_db()
    assert str(product.price) == "12.00"


def test_a_token_kept_as_verified_is_still_refused_once_revoked(api_client, revocations):
    """The process keeps verified tokens (shopkit.jwt); revocation is checked every time."""
    from shopkit.revocation import revocation_list

    token = mint_access_token(
        user_id=STAFF_ID, is_staff=True, perms=CATALOG_MANAGER_PERMS, iat=int(time.time()) - 60
    )
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    product = ProductFactory(price="10.00", is_active=False)
    assert api_client.get(f"/api/v1/catalog/products/{product.pk}/").status_code == 200
    revocations.entries[STAFF_ID] = int(time.time()) - 10
    revocation_list.reset()  # the next request fetches the list again
    assert_problem(api_client.get(f"/api/v1/catalog/products/{product.pk}/"), 401, "token_revoked")
    response = api_client.patch(
        f"/api/v1/catalog/products/{product.pk}/", {"price": "1.00"}, format="json"
    )
    assert_problem(response, 401, "token_revoked")
    product.refresh_from_db()
    assert str(product.price) == "10.00"
