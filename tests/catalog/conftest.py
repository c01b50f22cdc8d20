"""Fixtures of the catalog's tests (shared ones are in tests/conftest.py)."""

import pytest

CATALOG_MANAGER_PERMS = [
    f"catalog.{action}_{model}"
    for model in ("category", "product", "reservation", "reservationline")
    for action in ("add", "change", "delete", "view")
]
PROBLEM = "application/problem+json"


def assert_problem(response, status: int, code: str | None = None) -> dict:
    """The response is a problem document with this status (and code)."""
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith(PROBLEM)
    body = response.json()
    assert body["status"] == status
    if code is not None:
        assert body["code"] == code, body
    assert body["title"] and body["detail"]
    return body


@pytest.fixture
def staff_client(client_for):
    """A "Catalog managers" member (every catalog permission in the token)."""
    return client_for(900, is_staff=True, perms=CATALOG_MANAGER_PERMS)


@pytest.fixture
def customer_client(client_for):
    return client_for(42)
