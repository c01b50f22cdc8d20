"""The catalog's published OpenAPI contract: valid, exact, and kept by every answer.

schemathesis drives the WSGI app in-process as an anonymous caller, a customer and
catalog staff (tests/support/contract.py has the checks).
"""

import pytest

from tests.catalog.conftest import CATALOG_MANAGER_PERMS
from tests.catalog.factories import CategoryFactory, ProductFactory
from tests.support import contract
from tests.support.databases import BOTH_DATABASES
from tests.support.tokens import mint_access_token

SCHEMA_URL = "/api/v1/catalog/schema/"


@pytest.fixture(scope="module")
def document(tmp_path_factory):
    return contract.spectacular_document(tmp_path_factory.mktemp("catalog"))


def test_the_document_is_valid_openapi(document):
    contract.validate_document(document)
    assert "/api/v1/catalog/products/{id}/" in document["paths"]
    assert not any("/internal/" in path for path in document["paths"])


def test_every_operation_documents_its_errors(document):
    contract.assert_every_operation_documents_its_errors(document)
    contract.assert_problem_schema_is_open(document)


def test_reads_are_open_to_anonymous_callers_and_writes_are_not(document):
    assert document["security"] == [{}, {"jwtAuth": []}]
    for method, _path, operation in contract.operations(document):
        security = contract.security_of(document, operation)
        if method == "get":
            assert security == [{}, {"jwtAuth": []}]
        else:
            assert security == [{"jwtAuth": []}]
            assert {"401", "403"} <= set(operation["responses"])


def test_product_reads_declare_their_statuses_and_etag(document):
    for path in ("/api/v1/catalog/products/", "/api/v1/catalog/products/{id}/"):
        read = document["paths"][path]["get"]
        assert {"200", "304", "401", "404", "default"} <= set(read["responses"])
        assert "ETag" in read["responses"]["200"]["headers"]
        assert "content" not in read["responses"]["304"]
        assert any(p["name"] == "If-None-Match" for p in read["parameters"])


def test_category_errors_are_documented(document):
    categories = document["paths"]["/api/v1/catalog/categories/{id}/"]
    assert {"401", "403", "404", "409"} <= set(categories["delete"]["responses"])
    assert "404" in document["paths"]["/api/v1/catalog/categories/"]["get"]["responses"]


def test_price_filters_are_decimal_strings_and_orderings_have_names(document):
    parameters = {
        p["name"]: p["schema"]
        for p in document["paths"]["/api/v1/catalog/products/"]["get"]["parameters"]
    }
    for bound in ("min_price", "max_price"):
        assert parameters[bound]["type"] == "string"
        assert parameters[bound]["format"] == "decimal"
    ordering = dict(
        zip(parameters["ordering"]["enum"], parameters["ordering"]["x-enum-varnames"], strict=True)
    )
    assert ordering["-price"] == "PRICE_DESC"
    assert ordering["price"] == "PRICE"
    assert ordering["-created_at"] == "CREATED_AT_DESC"


def test_problem_declares_the_catalogs_extra_members(document):
    assert (
        document["components"]["schemas"]["Problem"]["properties"]["available"]["type"] == "integer"
    )


TOKENS = {
    "anonymous": None,
    "customer": mint_access_token(user_id=42),
    "staff": mint_access_token(user_id=900, is_staff=True, perms=CATALOG_MANAGER_PERMS),
}


@pytest.mark.django_db(transaction=True, databases=BOTH_DATABASES)
@pytest.mark.parametrize("role", contract.ROLES)
def test_every_answer_keeps_the_contract(role):
    """Whoever calls, whatever the input: no 5xx, and status, type and body as documented."""
    from catalog_site.wsgi import application

    top = CategoryFactory(slug="top")
    CategoryFactory(slug="leaf", parent=top)
    ProductFactory.create_batch(5, category=top)
    token = TOKENS[role]
    headers = {"Authorization": f"Bearer {token}"} if token else {}

    answered = contract.run_contract(contract.load_schema(application, SCHEMA_URL), headers=headers)

    assert 200 in answered["GET /api/v1/catalog/products/"]
    if role == "staff":
        assert 201 in answered["POST /api/v1/catalog/products/"]
    else:
        assert answered["POST /api/v1/catalog/products/"] <= {400, 401, 403}
