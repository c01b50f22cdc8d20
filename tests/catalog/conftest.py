"""Fixtures of the catalog's tests (shared ones are in tests/conftest.py)."""

import pytest

from tests.support.revocations import revocations  # noqa: F401  (autouse)

CATALOG_MANAGER_PERMS = [
    f"catalog.{action}_{model}"
    for model in ("category", "product", "reservation", "reservationline")
    for action in ("add", "change", "delete", "view")
]


@pytest.fixture
def staff_client(client_for):
    """A "Catalog managers" member (every catalog permission in the token)."""
    return client_for(900, is_staff=True, perms=CATALOG_MANAGER_PERMS)


@pytest.fixture
def customer_client(client_for):
    return client_for(42)


@pytest.fixture(autouse=True)
def no_kept_counts_or_pages():
    """Counts and search ids kept by one test's requests are not another test's."""
    from shopkit import pagination

    pagination.forget_cached_counts()
    yield
    pagination.forget_cached_counts()
