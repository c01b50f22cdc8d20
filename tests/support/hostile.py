"""Hostile inputs, sent to every endpoint of a service (the in-process half of issue 11.3).

The endpoints come from the service's own URLconf (drf-spectacular's enumerator:
every DRF view, internal ones included), so a new endpoint is covered without
being listed. Path parameters are filled with 1. Each input must end as a 4xx
problem document, never a 5xx: deep JSON as 400 `invalid_json`, a body over
DATA_UPLOAD_MAX_MEMORY_SIZE as 413 `request_too_large`, a signed token with
oddly typed claims as 401 `token_not_valid` wherever a token is read.
"""

import json
import re
import time
import uuid

import jwt

from shopkit.keys import key_id, read_pem
from tests.support.keys import key_pair

PROBLEM = "application/problem+json"
BODY_METHODS = ("POST", "PUT", "PATCH")
DEEP_JSON = "[" * 1000 + "]" * 1000
DEEP_OBJECT_JSON = '{"a":' * 1000 + "1" + "}" * 1000

# Correctly signed tokens whose claims have the wrong type or an absurd value.
ODD_CLAIMS = {
    "user_id-abc": {"user_id": "abc"},
    "user_id-float": {"user_id": 1.5},
    "user_id-huge": {"user_id": 2**80},
    "exp-1e20": {"exp": 1e20},
    "exp-10**20": {"exp": 10**20},
    "is_staff-string": {"is_staff": "true"},
    "is_superuser-string": {"is_superuser": "false"},
    "perms-string": {"perms": "orders.change_order"},
    "perms-not-strings": {"perms": [1, None]},
    "email-object": {"email": {"a": 1}},
}


def signed_token(**overrides) -> str:
    """An access token signed with the key the services under test trust, claims as given."""
    private_path, public_path = key_pair("signing")
    now = int(time.time())
    claims = {
        "token_type": "access",
        "exp": now + 600,
        "iat": now,
        "jti": uuid.uuid4().hex,
        "iss": "tienda-auth",
        "user_id": 1,
        "email": "odd@example.com",
        "is_staff": True,
        "is_superuser": True,
        "perms": [],
        **overrides,
    }
    return jwt.encode(
        claims,
        read_pem(str(private_path)),
        algorithm="RS256",
        headers={"kid": key_id(read_pem(str(public_path)))},
    )


def api_endpoints() -> list[tuple[str, str, object]]:
    """(path, method, view instance) of every DRF endpoint of the current URLconf."""
    from drf_spectacular.generators import EndpointEnumerator

    endpoints = []
    for path, _regex, method, callback in EndpointEnumerator().get_api_endpoints():
        concrete = re.sub(r"\{[^}]+\}", "1", path)
        endpoints.append((concrete, method, callback.cls(**callback.initkwargs)))
    assert endpoints, "no endpoint found: the enumeration is broken"
    return endpoints


def reads_tokens(view) -> bool:
    return bool(view.get_authenticators())


def send(client, method: str, path: str, body: bytes | str | None = None, **headers):
    kwargs = {"content_type": "application/json"} if body is not None else {}
    return client.generic(method, path, body or b"", **kwargs, **headers)


def assert_problem(response, statuses, what: str):
    assert response.status_code < 500, f"{what}: {response.status_code} {response.content[:300]}"
    if response.status_code >= 400:
        assert response["Content-Type"].startswith(PROBLEM), (
            f"{what}: {response.status_code} {response['Content-Type']} {response.content[:200]}"
        )
        body = response.json()
        assert body["status"] == response.status_code and body["code"], what
    assert response.status_code in statuses, (
        f"{what}: {response.status_code} not in {statuses}: {response.content[:300]}"
    )


def headers_for(token: str | None, service_token: str) -> dict:
    headers = {
        "HTTP_X_SERVICE_TOKEN": service_token,
        "HTTP_IDEMPOTENCY_KEY": uuid.uuid4().hex,
    }
    if token:
        headers["HTTP_AUTHORIZATION"] = f"Bearer {token}"
    return headers


def check_deep_json(client, *, token: str, service_token: str) -> int:
    """Deep JSON to every endpoint that takes a body: 400 invalid_json (or an earlier 4xx).

    Returns how many endpoints answered invalid_json, for the caller to check
    that the body was really read (not refused for another reason first).
    """
    parsed = 0
    for path, method, _view in api_endpoints():
        if method not in BODY_METHODS:
            continue
        for body in (DEEP_JSON, DEEP_OBJECT_JSON):
            response = send(client, method, path, body, **headers_for(token, service_token))
            what = f"{method} {path} deep JSON"
            assert_problem(response, {400, 401, 403, 404, 405, 409, 429}, what)
            # A view that does not read the body may refuse something else first.
            parsed += response.status_code == 400 and response.json()["code"] == "invalid_json"
    return parsed


def check_oversized_body(client, settings, *, token: str, service_token: str) -> int:
    """A body over the limit to every endpoint that takes one: 413 (or an earlier 4xx)."""
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 2048
    body = json.dumps({"padding": "x" * 4096})
    refused = 0
    for path, method, _view in api_endpoints():
        if method not in BODY_METHODS:
            continue
        response = send(client, method, path, body, **headers_for(token, service_token))
        # A view that does not read the body may refuse something else first.
        assert_problem(response, set(range(400, 500)), f"{method} {path} 4 KiB")
        refused += response.status_code == 413
    return refused


def check_odd_tokens(client, *, service_token: str) -> int:
    """Every odd token to every endpoint: 401 wherever the view reads tokens, never a 5xx."""
    refused = 0
    for name, claims in ODD_CLAIMS.items():
        token = signed_token(**claims)
        for path, method, view in api_endpoints():
            body = "{}" if method in BODY_METHODS else None
            response = send(client, method, path, body, **headers_for(token, service_token))
            what = f"{method} {path} token {name}"
            if reads_tokens(view):
                assert_problem(response, {401}, what)
                assert response.json()["code"] == "token_not_valid", what
                refused += 1
            else:
                assert_problem(response, set(range(200, 500)), what)
    return refused


# The three checks as tests, for a service whose tokens are verified statelessly
# (catalog, cart, orders): its test module imports them and sets `pytestmark`.


def test_deep_json_is_a_400_invalid_json_everywhere(api_client, settings):
    token = signed_token(user_id=1)
    parsed = check_deep_json(api_client, token=token, service_token=settings.SERVICE_TOKEN)
    assert parsed >= 2  # bodies were read, not refused for another reason first


def test_oversized_body_is_a_413_everywhere(api_client, settings):
    token = signed_token(user_id=1)
    refused = check_oversized_body(
        api_client, settings, token=token, service_token=settings.SERVICE_TOKEN
    )
    assert refused >= 1


def test_odd_token_claims_are_a_401_everywhere(api_client, settings):
    refused = check_odd_tokens(api_client, service_token=settings.SERVICE_TOKEN)
    assert refused >= len(ODD_CLAIMS)
