"""The published OpenAPI schema: clean to generate, and fuzzed by schemathesis in-process."""

import io

import pytest
import schemathesis
from django.core.management import call_command
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance

from tests.catalog.conftest import CATALOG_MANAGER_PERMS
from tests.catalog.factories import CategoryFactory, ProductFactory
from tests.support.databases import BOTH_DATABASES
from tests.support.tokens import mint_access_token

SCHEMA_URL = "/api/v1/catalog/schema/"


def test_spectacular_generates_the_schema_without_warnings(tmp_path):
    target = tmp_path / "schema.yaml"
    call_command(
        "spectacular", "--fail-on-warn", "--validate", "--file", str(target), stdout=io.StringIO()
    )
    text = target.read_text()
    assert "/api/v1/catalog/products/{id}/" in text
    assert "/internal/" not in text


@pytest.fixture(scope="module")
def catalog_schema():
    from catalog_site.wsgi import application

    schema = schemathesis.openapi.from_wsgi(SCHEMA_URL, application)
    # Tokens are sent by the tests themselves, not fuzzed.
    schema.config.generation.update(
        modes=["positive", "negative"], max_examples=30, with_security_parameters=False
    )
    return schema


schema = schemathesis.pytest.from_fixture("catalog_schema")
STAFF_TOKEN = mint_access_token(user_id=900, is_staff=True, perms=CATALOG_MANAGER_PERMS)


@pytest.fixture
def shelf(transactional_db):
    top = CategoryFactory(slug="top")
    CategoryFactory(slug="leaf", parent=top)
    ProductFactory.create_batch(5, category=top)


@pytest.mark.django_db(transaction=True, databases=BOTH_DATABASES)
@schema.parametrize()
@settings(deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
def test_no_server_errors_for_staff(case, shelf):
    """Staff reach every write path; whatever the input, the answer is never a 5xx."""
    case.call_and_validate(
        headers={"Authorization": f"Bearer {STAFF_TOKEN}"},
        checks=[not_a_server_error, response_schema_conformance],
    )


@pytest.mark.django_db(transaction=True, databases=BOTH_DATABASES)
@schema.parametrize()
@settings(deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
def test_no_server_errors_for_anonymous_callers(case, shelf):
    case.call_and_validate(checks=[not_a_server_error, response_schema_conformance])
