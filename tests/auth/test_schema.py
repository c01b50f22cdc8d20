"""The auth service's published OpenAPI contract: valid, exact, and kept by every answer.

schemathesis drives the WSGI app in-process (in the test's transaction) as an
anonymous caller, a customer and a staff user (tests/support/contract.py).
"""

import pytest
from django.core.cache import caches

from accounts.tokens import AccessToken
from auth_site.wsgi import application
from tests.auth.factories import AddressFactory, StaffFactory, UserFactory
from tests.support import contract
from tests.support.databases import BOTH_DATABASES
from tests.support.schema import defaults_breaking_their_schema

SCHEMA_URL = "/api/v1/auth/schema/?format=json"
# Sign-in, sign-up, refresh, logout and the public lists need no token: they ignore one.
TOKENLESS = {
    "/api/v1/auth/register/",
    "/api/v1/auth/token/",
    "/api/v1/auth/token/refresh/",
    "/api/v1/auth/logout/",
    "/api/v1/auth/.well-known/jwks.json",
    "/api/v1/auth/countries/",
    "/api/v1/auth/password/reset/",
    "/api/v1/auth/password/reset/confirm/",
    "/api/v1/auth/email/verify/",
}


@pytest.fixture(scope="module")
def document(tmp_path_factory):
    return contract.spectacular_document(tmp_path_factory.mktemp("auth"))


def test_every_default_fits_its_own_schema(document):
    assert document["components"]["schemas"]["Address"]["properties"]["phone"]["default"] == ""
    assert "/api/v1/auth/countries/" in document["paths"]
    assert defaults_breaking_their_schema(document) == []


def test_the_document_is_valid_openapi(document):
    contract.validate_document(document)
    assert "/api/v1/auth/token/refresh/" in document["paths"]
    assert not any("/internal/" in path for path in document["paths"])


def test_every_operation_documents_its_errors(document):
    contract.assert_every_operation_documents_its_errors(document)
    contract.assert_problem_schema_is_open(document)


def test_sign_in_and_sign_up_need_no_token_and_the_rest_a_token(document):
    for _method, path, operation in contract.operations(document):
        expected = [] if path in TOKENLESS else [{"jwtAuth": []}]
        assert contract.security_of(document, operation) == expected, path


def test_throttled_operations_declare_retry_after(document):
    for path in ("/api/v1/auth/token/", "/api/v1/auth/register/", "/api/v1/auth/password/reset/"):
        assert "Retry-After" in document["paths"][path]["post"]["responses"]["429"]["headers"]


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


def clear_caches():
    """Throttle counters live in a cache of their own (shopkit.throttling): clear them all."""
    for each in caches.all():
        each.clear()


@pytest.mark.django_db(databases=BOTH_DATABASES)
@pytest.mark.parametrize("role", contract.ROLES)
def test_every_answer_keeps_the_contract(role, generous_throttles, connection_kept_across_requests):
    """Whoever calls, whatever the input: no 5xx, and status, type and body as documented."""
    headers = {}
    if role != "anonymous":
        user = (StaffFactory if role == "staff" else UserFactory)()
        AddressFactory.create_batch(2, user=user)
        headers = {"Authorization": f"Bearer {AccessToken.for_user(user)}"}

    answered = contract.run_contract(
        contract.load_schema(application, SCHEMA_URL), headers=headers, before_each=clear_caches
    )

    assert 201 in answered["POST /api/v1/auth/register/"]
    if role == "anonymous":
        assert answered["GET /api/v1/auth/me/"] == {401}
    else:
        assert 200 in answered["GET /api/v1/auth/addresses/"]
