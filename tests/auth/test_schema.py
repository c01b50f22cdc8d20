"""The published OpenAPI schema: clean to generate, and no input it allows (or not) makes a 500."""

from io import StringIO

import pytest
import schemathesis
from django.core.cache import caches
from django.core.management import call_command
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error

from accounts.tokens import AccessToken
from auth_site.wsgi import application
from tests.auth.factories import AddressFactory, UserFactory
from tests.support.databases import BOTH_DATABASES
from tests.support.schema import defaults_breaking_their_schema

SCHEMA_URL = "/api/v1/auth/schema/?format=json"
# Enough generated cases per operation (positive and negative) to find crashes, and
# a whole run in well under two minutes.
EXAMPLES_PER_OPERATION = 40


def test_every_default_fits_its_own_schema(client):
    document = client.get(SCHEMA_URL).json()
    assert document["components"]["schemas"]["Address"]["properties"]["phone"]["default"] == ""
    assert "/api/v1/auth/countries/" in document["paths"]
    assert defaults_breaking_their_schema(document) == []


def test_spectacular_generates_the_schema_without_warnings(tmp_path):
    out, err = StringIO(), StringIO()
    call_command(
        "spectacular",
        "--fail-on-warn",
        "--validate",
        "--file",
        str(tmp_path / "schema.yml"),
        stdout=out,
        stderr=err,
    )
    assert "Warning" not in err.getvalue() and "Error" not in err.getvalue(), err.getvalue()
    text = (tmp_path / "schema.yml").read_text()
    assert "/api/v1/auth/token/refresh/" in text
    assert "application/problem+json" in text  # the error responses are documented
    assert "/internal/" not in text


@pytest.fixture
def auth_schema(connection_kept_across_requests):
    config = schemathesis.Config.from_dict({"generation": {"mode": "all", "database": "none"}})
    return schemathesis.openapi.from_wsgi(SCHEMA_URL, application, config=config)


@pytest.fixture
def generous_throttles(settings):
    """Room for the fuzzer to reach validation; throttling has its own tests."""
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {
            **settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"],
            "login_email": "10000/min",
            "login_ip": "10000/min",
            "register": "10000/min",
        },
    }


@pytest.fixture
def bearer(generous_throttles):
    user = UserFactory()
    AddressFactory.create_batch(2, user=user)
    return {"Authorization": f"Bearer {AccessToken.for_user(user)}"}


schema = schemathesis.pytest.from_fixture("auth_schema")


@schema.parametrize()
@settings(
    max_examples=EXAMPLES_PER_OPERATION,
    deadline=None,
    database=None,
    suppress_health_check=list(HealthCheck),
)
@pytest.mark.django_db(databases=BOTH_DATABASES)
def test_no_generated_request_makes_a_server_error(case, bearer):
    for cache in caches.all():
        cache.clear()
    case.call_and_validate(headers=bearer, checks=[not_a_server_error])
