"""Issue 11.3 across real processes: deep JSON, oversized bodies and oddly typed but
signed tokens, sent to every operation of the four services' OpenAPI schemas, directly
on each service's port and through the gateway: always a 4xx problem, never a 5xx."""

import json
import re
import uuid

import pytest
import requests

from tests.support.hostile import DEEP_JSON, DEEP_OBJECT_JSON, ODD_CLAIMS, signed_token
from tests.support.processes import SERVICES

BODY_METHODS = ("post", "put", "patch")
PROBLEM = "application/problem+json"
# Sent from an address of their own: the sign-up and sign-in attempts here count
# under 127.0.0.2 at auth (and at the gateway), not under the address other tests use.
SOURCE_ADDRESS = ("127.0.0.2", 0)


class FromOwnAddress(requests.adapters.HTTPAdapter):
    def init_poolmanager(self, *args, **kwargs):
        kwargs["source_address"] = SOURCE_ADDRESS
        super().init_poolmanager(*args, **kwargs)


def session() -> requests.Session:
    opened = requests.Session()
    opened.mount("http://", FromOwnAddress())
    return opened


def operations(base_url: str, service: str) -> list[tuple[str, str]]:
    """(METHOD, concrete path) of every operation the service documents."""
    schema = (
        session()
        .get(
            f"{base_url}/api/v1/{service}/schema/",
            headers={"Accept": "application/json"},
            timeout=30,
        )
        .json()
    )
    found = []
    for path, item in schema["paths"].items():
        concrete = re.sub(r"\{[^}]+\}", "1", path)
        for method in item:
            if method in ("get", "post", "put", "patch", "delete"):
                found.append((method.upper(), concrete))
    assert found
    return found


def assert_problem(response, allowed: set[int], what: str):
    assert response.status_code < 500, f"{what}: {response.status_code} {response.text[:300]}"
    assert response.status_code in allowed, f"{what}: {response.status_code} {response.text[:300]}"
    assert response.headers["Content-Type"].startswith(PROBLEM), f"{what}: {response.headers}"
    body = response.json()
    assert body["status"] == response.status_code and body["code"], what
    return body


@pytest.fixture(scope="module")
def targets(shop, open_gateway):
    """(label, base URL, service) for each service: its own port, and the gateway."""
    found = []
    for service in SERVICES:
        found.append((f"{service} port", shop.url(service), service))
        found.append((f"{service} via gateway", open_gateway.url, service))
    return found


def headers(token: str | None = None) -> dict:
    sent = {"Content-Type": "application/json", "Idempotency-Key": uuid.uuid4().hex}
    if token:
        sent["Authorization"] = f"Bearer {token}"
    return sent


def test_deep_json_is_a_400_invalid_json_everywhere(targets):
    token = signed_token(user_id=900_001)
    parsed = 0
    for label, base, service in targets:
        with session() as client:
            for method, path in operations(base, service):
                if method.lower() not in BODY_METHODS:
                    continue
                for body in (DEEP_JSON, DEEP_OBJECT_JSON):
                    response = client.request(
                        method, base + path, data=body, headers=headers(token), timeout=30
                    )
                    problem = assert_problem(
                        response, set(range(400, 500)), f"{label} {method} {path}"
                    )
                    parsed += problem["code"] == "invalid_json"
    assert parsed >= 20


def test_oversized_bodies_are_a_413_problem(targets):
    # 3 MiB: over the gateway's 1 MiB and over Django's 2.5 MiB on a service port.
    body = json.dumps({"padding": "x" * (3 * 1024 * 1024)})
    token = signed_token(user_id=900_002)
    refused = 0
    for label, base, service in targets:
        for method, path in operations(base, service):
            if method.lower() not in BODY_METHODS:
                continue
            # A new connection each time: a server that answers before reading such a
            # body closes the connection afterwards, as HTTP allows.
            with session() as client:
                response = client.request(
                    method, base + path, data=body, headers=headers(token), timeout=60
                )
            problem = assert_problem(response, set(range(400, 500)), f"{label} {method} {path}")
            refused += problem["code"] == "request_too_large"
    assert refused >= 10


@pytest.mark.parametrize("name", list(ODD_CLAIMS))
def test_odd_signed_tokens_are_a_401_everywhere(targets, name):
    token = signed_token(**ODD_CLAIMS[name])
    for label, base, service in targets:
        with session() as client:
            for method, path in operations(base, service):
                body = "{}" if method.lower() in BODY_METHODS else None
                response = client.request(
                    method, base + path, data=body, headers=headers(token), timeout=30
                )
                what = f"{label} {method} {path} {name}"
                assert response.status_code < 500, f"{what}: {response.text[:300]}"
                if response.status_code == 401:
                    assert response.json()["code"] == "token_not_valid", what
