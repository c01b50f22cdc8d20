"""The cart's OpenAPI schema: clean to generate, and the API holds up when fuzzed from it.

schemathesis drives the WSGI app in-process (same database transaction as the
test), with the fake catalog answering, as a signed-in customer and as a guest.
"""

import pytest
import schemathesis
from django.core.management import call_command
from hypothesis import HealthCheck, settings
from schemathesis.checks import (
    content_type_conformance,
    negative_data_rejection,
    not_a_server_error,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.cart.factories import CartFactory, CartLineFactory
from tests.support.databases import BOTH_DATABASES

pytestmark = pytest.mark.django_db(databases=BOTH_DATABASES)

CUSTOMER_ID = 77
FUZZ_SETTINGS = settings(
    max_examples=30,
    deadline=None,
    database=None,  # no .hypothesis/ directory in the checkout
    suppress_health_check=list(HealthCheck),
)


def test_spectacular_generates_the_schema_without_warnings(tmp_path):
    target = tmp_path / "cart.yaml"
    call_command("spectacular", "--fail-on-warn", "--validate", "--file", str(target))
    schema = target.read_text()
    for path in ("/api/v1/cart/", "/api/v1/cart/items/{line_id}/", "/api/v1/cart/merge/"):
        assert f"{path}:" in schema
    assert "/internal/" not in schema


def test_the_schema_is_served(api_client):
    response = api_client.get("/api/v1/cart/schema/?format=json")
    assert response.status_code == 200
    assert set(response.json()["paths"]) == {
        "/api/v1/cart/",
        "/api/v1/cart/items/",
        "/api/v1/cart/items/{line_id}/",
        "/api/v1/cart/merge/",
    }


@pytest.fixture
def cart_api_schema(catalog, connection_kept_across_requests):
    """The served schema, with a catalog and a customer cart worth poking at."""
    from cart_site.wsgi import application

    for stock, active in ((50, True), (2, True), (10, False), (0, True)):
        catalog.add_product(stock=stock, is_active=active)
    cart = CartFactory(user_id=CUSTOMER_ID)
    CartLineFactory(cart=cart, product_id=1, quantity=1)
    return schemathesis.openapi.from_wsgi("/api/v1/cart/schema/?format=json", application)


fuzzed = schemathesis.pytest.from_fixture("cart_api_schema")
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    response_headers_conformance,
    negative_data_rejection,
]


@fuzzed.parametrize()
@FUZZ_SETTINGS
def test_no_server_errors_for_a_signed_in_customer(case, token_for):
    case.call_and_validate(
        headers={"Authorization": f"Bearer {token_for(CUSTOMER_ID)}"}, checks=CHECKS
    )


@fuzzed.parametrize()
@FUZZ_SETTINGS
def test_no_server_errors_for_a_guest(case):
    case.call_and_validate(checks=CHECKS)
