"""The orders service's published OpenAPI contract: valid, exact, and kept by every answer.

schemathesis drives the WSGI app in-process (in the test's transaction), with the
fake neighbours answering, as an anonymous caller, a customer and order staff.
"""

import pytest
from django.core.wsgi import get_wsgi_application

from tests.orders.api import CUSTOMER_ID, STAFF_ID, STAFF_PERMS
from tests.orders.factories import OrderFactory
from tests.support import contract
from tests.support.databases import BOTH_DATABASES
from tests.support.schema import defaults_breaking_their_schema
from tests.support.tokens import mint_access_token

pytestmark = pytest.mark.django_db(databases=BOTH_DATABASES)

SCHEMA_URL = "/api/v1/orders/schema/?format=json"
CALLERS = {
    "anonymous": None,
    "customer": {"user_id": CUSTOMER_ID},
    "staff": {"user_id": STAFF_ID, "is_staff": True, "perms": STAFF_PERMS},
}


@pytest.fixture(scope="module")
def document(tmp_path_factory):
    return contract.spectacular_document(tmp_path_factory.mktemp("orders"))


def test_the_document_is_valid_openapi(document):
    contract.validate_document(document)


def test_every_default_fits_its_own_schema(document):
    """The shipping address's phone defaults to "": no pattern of its may refuse that."""
    assert document["components"]["schemas"]["ShippingAddress"]["properties"]["phone"]
    assert defaults_breaking_their_schema(document) == []


def test_the_document_lists_the_public_operations_only(document):
    assert "/api/v1/orders/{id}/status/" in document["paths"]
    assert not any("/internal/" in path for path in document["paths"])


def test_every_operation_documents_its_errors(document):
    contract.assert_every_operation_documents_its_errors(document)
    contract.assert_problem_schema_is_open(document)


SHIPPING_QUOTE = "/api/v1/orders/shipping-methods/"
WEBHOOK = "/api/v1/orders/payments/webhooks/stripe/"


GUEST = "/api/v1/orders/guest/"


def test_every_operation_needs_a_token_but_the_quote_the_webhook_and_the_guests(document):
    for method, path, operation in contract.operations(document):
        if path == SHIPPING_QUOTE or (method, path) == (
            "post",
            "/api/v1/orders/",
        ):  # anyone; a token (or a guest's X-Cart-Token) prices it
            assert contract.security_of(document, operation) == [{}, {"jwtAuth": []}]
        elif path.startswith(GUEST):  # the order's access token (X-Order-Token) only
            assert contract.security_of(document, operation) == []
            token = next(p for p in operation["parameters"] if p["name"] == "X-Order-Token")
            assert token["required"] is True and token["in"] == "header"
        elif path == WEBHOOK:  # called by Stripe, trusted by its signature only
            assert contract.security_of(document, operation) == []
        else:
            assert contract.security_of(document, operation) == [{"jwtAuth": []}]


def test_the_shipping_quote_documents_its_answer(document):
    quote = document["paths"][SHIPPING_QUOTE]["get"]
    country = next(p for p in quote["parameters"] if p["name"] == "country")
    assert country["required"] is True and country["in"] == "query"
    assert any(p["name"] == "X-Cart-Token" for p in quote["parameters"])
    option = document["components"]["schemas"]["ShippingOption"]["properties"]
    assert {
        "code",
        "name",
        "carrier",
        "price",
        "tax",
        "total",
        "estimated_days_min",
        "estimated_days_max",
    } <= set(option)
    checkout = document["components"]["schemas"]["CheckoutInlineAddressRequest"]["properties"]
    assert "shipping_method" in checkout
    order = document["components"]["schemas"]["OrderDetail"]["properties"]
    assert {"shipping_method", "shipping_total", "shipping_tax", "tracking_number"} <= set(order)


def test_payment_creation_declares_its_idempotency_key(document):
    create = document["paths"]["/api/v1/orders/{order_id}/payments/"]["post"]
    assert any(p["name"] == "Idempotency-Key" and p["required"] for p in create["parameters"])
    assert {"201", "400", "401", "403", "404", "409", "422", "503"} <= set(create["responses"])
    assert "Idempotent-Replayed" in create["responses"]["201"]["headers"]


def test_the_guest_checkout_is_documented(document):
    checkout = document["paths"]["/api/v1/orders/"]["post"]
    cart_token = next(p for p in checkout["parameters"] if p["name"] == "X-Cart-Token")
    assert cart_token["in"] == "header" and not cart_token.get("required", False)
    guest = document["components"]["schemas"]["GuestCheckoutRequest"]
    assert {"email", "shipping_address"} <= set(guest["required"])
    created = checkout["responses"]["201"]["content"]["application/json"]["schema"]["$ref"]
    result = document["components"]["schemas"][created.rsplit("/", 1)[1]]
    assert "access_token" in result["properties"]
    assert "access_token" not in result.get("required", [])
    paths = {path for path in document["paths"] if path.startswith(GUEST)}
    assert paths == {
        "/api/v1/orders/guest/{number}/",
        "/api/v1/orders/guest/{number}/cancel/",
        "/api/v1/orders/guest/{number}/payments/",
    }


def test_the_checkout_needs_a_body_and_declares_its_headers(document):
    checkout = document["paths"]["/api/v1/orders/"]["post"]
    assert checkout["requestBody"]["required"] is True
    assert any(p["name"] == "Idempotency-Key" and p["required"] for p in checkout["parameters"])
    responses = checkout["responses"]
    for status in ("201", "400", "409"):
        assert "Idempotent-Replayed" in responses[status]["headers"]
    assert "Retry-After" in responses["409"]["headers"]
    assert {"401", "409", "413", "422", "429", "503", "default"} <= set(responses)


def test_problem_declares_the_orders_extra_members(document):
    members = document["components"]["schemas"]["Problem"]["properties"]
    assert members["short_lines"]["items"]["required"] == ["product_id", "requested", "available"]
    assert {"from_status", "to_status", "product_ids", "retry_after"} <= set(members)


def test_status_values_have_names(document):
    status = document["components"]["schemas"]["OrderStatusEnum"]
    assert status["x-enum-varnames"] == [value.upper() for value in status["enum"]]


@pytest.fixture
def stocked(neighbours):
    for product_id in (1, 2, 3):
        neighbours.add_product(product_id, stock=10_000)
    return neighbours


@pytest.mark.parametrize("role", contract.ROLES)
def test_every_answer_keeps_the_contract(role, stocked, connection_kept_across_requests):
    """Whoever calls, whatever the input: no 5xx, and status, type and body as documented."""
    for _ in range(3):
        OrderFactory(user_id=CUSTOMER_ID)
    caller = CALLERS[role]
    headers = {"Authorization": f"Bearer {mint_access_token(**caller)}"} if caller else {}

    def cart_with_something():  # so that generated checkouts can get through the saga
        if caller:
            stocked.fill_cart(caller["user_id"], {1: 1, 2: 2})

    answered = contract.run_contract(
        contract.load_schema(get_wsgi_application(), SCHEMA_URL),
        headers=headers,
        before_each=cart_with_something,
    )

    # orders, the shipping quote, staff's zones and methods, payments (4), the webhook
    # and a guest's order (read, cancel, list and create payments)
    assert len(answered) == 6 + 1 + 12 + 5 + 4
    quote = answered.pop("GET /api/v1/orders/shipping-methods/")
    assert quote <= {200, 400}  # anyone may ask; a bad country is refused
    # Whoever calls, a webhook without Stripe's signature is refused.
    assert answered.pop(f"POST {WEBHOOK}") == {400}
    # Whoever calls, no generated order token opens a guest's order.
    for operation in [name for name in answered if GUEST in name]:
        assert answered.pop(operation) <= {400, 404}, operation
    if caller:
        # The generated checkouts got through the whole saga, not only through validation.
        assert 201 in answered["POST /api/v1/orders/"]
    else:
        # A checkout without a token is a guest's: no X-Cart-Token 401, a generated one
        # names no cart (400 empty_cart) or the body is not a guest's (400).
        assert answered.pop("POST /api/v1/orders/") <= {400, 401}
        assert set().union(*answered.values()) <= {401, 404}
