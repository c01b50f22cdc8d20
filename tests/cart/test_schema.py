"""The cart's published OpenAPI contract: valid, exact, and kept by every answer.

schemathesis drives the WSGI app in-process (same database transaction as the
test), with the fake catalog answering, as a guest, a customer and a staff user.
"""

import pytest
from schemathesis.checks import negative_data_rejection, response_headers_conformance

from tests.cart.factories import CartFactory, CartLineFactory
from tests.support import contract
from tests.support.databases import BOTH_DATABASES

pytestmark = pytest.mark.django_db(databases=BOTH_DATABASES)

SCHEMA_URL = "/api/v1/cart/schema/?format=json"
CALLERS = {
    "anonymous": None,
    "customer": {"user_id": 77},
    "staff": {"user_id": 900, "is_staff": True},
}


@pytest.fixture(scope="module")
def document(tmp_path_factory):
    return contract.spectacular_document(tmp_path_factory.mktemp("cart"))


def test_the_document_is_valid_openapi(document):
    contract.validate_document(document)
    assert set(document["paths"]) == {
        "/api/v1/cart/",
        "/api/v1/cart/items/",
        "/api/v1/cart/items/{line_id}/",
        "/api/v1/cart/merge/",
    }


def test_the_schema_is_served(api_client):
    response = api_client.get(SCHEMA_URL)
    assert response.status_code == 200
    assert "/api/v1/cart/merge/" in response.json()["paths"]


def test_every_operation_documents_its_errors(document):
    contract.assert_every_operation_documents_its_errors(document)
    contract.assert_problem_schema_is_open(document)


def test_guests_may_use_the_cart_and_only_merge_needs_a_token(document):
    for method, path, operation in contract.operations(document):
        expected = [{"jwtAuth": []}] if path.endswith("merge/") else [{}, {"jwtAuth": []}]
        assert contract.security_of(document, operation) == expected, (method, path)


def test_the_guest_token_header_is_declared(document):
    add = document["paths"]["/api/v1/cart/items/"]["post"]
    for status in ("200", "201"):
        assert "X-Cart-Token" in add["responses"][status]["headers"]
    assert any(p["name"] == "X-Cart-Token" and p["in"] == "header" for p in add["parameters"])


def test_problem_declares_the_carts_extra_members(document):
    members = document["components"]["schemas"]["Problem"]["properties"]
    for name in ("product_id", "requested", "available", "max_quantity", "max_lines"):
        assert members[name]["type"] == "integer"


@pytest.mark.parametrize("role", contract.ROLES)
def test_every_answer_keeps_the_contract(role, catalog, token_for, connection_kept_across_requests):
    """Whoever calls, whatever the input: no 5xx, and status, type, headers and body as documented."""
    from cart_site.wsgi import application

    for stock, active in ((50, True), (2, True), (10, False), (0, True)):
        catalog.add_product(stock=stock, is_active=active)
    caller = CALLERS[role]
    headers = {}
    if caller:
        CartLineFactory(cart=CartFactory(user_id=caller["user_id"]), product_id=1, quantity=1)
        headers = {"Authorization": f"Bearer {token_for(**caller)}"}

    answered = contract.run_contract(
        contract.load_schema(application, SCHEMA_URL),
        headers=headers,
        extra_checks=[response_headers_conformance, negative_data_rejection],
    )

    assert {200, 201} & answered["POST /api/v1/cart/items/"]
    if role == "anonymous":
        assert answered["POST /api/v1/cart/merge/"] == {401}
