"""The published OpenAPI document: warning-free, and the API keeps it under fuzzing."""

from collections import defaultdict

import pytest
import schemathesis
from django.core.management import call_command
from django.core.wsgi import get_wsgi_application
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.orders.api import CUSTOMER_ID, STAFF_ID, STAFF_PERMS
from tests.orders.factories import OrderFactory
from tests.support.databases import BOTH_DATABASES
from tests.support.schema import defaults_breaking_their_schema
from tests.support.tokens import mint_access_token

pytestmark = pytest.mark.django_db(databases=BOTH_DATABASES)

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]
EXAMPLES_PER_OPERATION_AND_MODE = 25


def test_the_schema_generates_without_warnings(tmp_path):
    call_command(
        "spectacular", fail_on_warn=True, validate=True, file=str(tmp_path / "orders.yaml")
    )
    document = (tmp_path / "orders.yaml").read_text()
    assert "/api/v1/orders/{id}/status/:" in document
    assert "/internal/" not in document
    assert "Idempotency-Key" in document


def test_every_default_fits_its_own_schema(client):
    """The shipping address's phone defaults to "": no pattern of its may refuse that."""
    document = client.get("/api/v1/orders/schema/?format=json").json()
    assert document["components"]["schemas"]["ShippingAddress"]["properties"]["phone"]
    assert defaults_breaking_their_schema(document) == []


@pytest.fixture
def wsgi_app(connection_kept_across_requests):
    return get_wsgi_application()


@pytest.fixture
def stocked(neighbours):
    for product_id in (1, 2, 3):
        neighbours.add_product(product_id, stock=10_000)
    return neighbours


@pytest.mark.parametrize(
    "caller",
    [
        {"user_id": CUSTOMER_ID},
        {"user_id": STAFF_ID, "is_staff": True, "perms": STAFF_PERMS},
    ],
    ids=["customer", "staff"],
)
def test_fuzzing_the_api_finds_no_server_errors(wsgi_app, stocked, caller):
    """Generated requests (valid and invalid) against every operation, in process."""
    for _ in range(3):
        OrderFactory(user_id=CUSTOMER_ID)
    authorization = {"Authorization": f"Bearer {mint_access_token(**caller)}"}
    schema = schemathesis.openapi.from_wsgi("/api/v1/orders/schema/?format=json", wsgi_app)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) == 6
    answered = defaultdict(set)

    for operation in operations:
        for mode in (schemathesis.GenerationMode.POSITIVE, schemathesis.GenerationMode.NEGATIVE):

            @given(case=operation.as_strategy(generation_mode=mode))
            @settings(
                max_examples=EXAMPLES_PER_OPERATION_AND_MODE,
                deadline=None,
                database=None,
                derandomize=True,
                phases=[Phase.explicit, Phase.generate],
                suppress_health_check=list(HealthCheck),
            )
            def call(case):
                stocked.fill_cart(caller["user_id"], {1: 1, 2: 2})  # checkouts have something
                response = case.call(headers=authorization)
                answered[case.operation.label].add(response.status_code)
                case.validate_response(response, checks=CHECKS, headers=authorization)

            call()

    # The generated checkouts got through the whole saga, not only through validation.
    assert 201 in answered["POST /api/v1/orders/"]
