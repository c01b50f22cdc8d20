"""Fixtures every service's tests share.

DRF is imported inside the fixtures: the system tests run without Django settings.
"""

import pytest

from tests.support.tokens import mint_access_token


@pytest.fixture
def api_client():
    from rest_framework.test import APIClient

    return APIClient()


@pytest.fixture
def token_for():
    """token_for(user_id, is_staff=False, perms=(...)) -> a valid access token."""

    def make(user_id=1, **claims):
        return mint_access_token(user_id=user_id, **claims)

    return make


@pytest.fixture
def client_for(token_for):
    """client_for(user_id, **claims) -> an APIClient authenticated as that user."""

    def make(user_id=1, **claims):
        from rest_framework.test import APIClient

        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {token_for(user_id, **claims)}")
        return client

    return make


@pytest.fixture
def service_api_client(settings):
    """An APIClient carrying the service credential of /internal/ calls."""
    from rest_framework.test import APIClient

    client = APIClient()
    client.credentials(HTTP_X_SERVICE_TOKEN=settings.SERVICE_TOKEN)
    return client


@pytest.fixture
def connection_kept_across_requests():
    """For schemathesis driving a service's WSGI app in-process.

    Django closes old connections when a request starts and finishes; inside a
    test's transaction that would close the test's connection. Django's own test
    client suspends that signal the same way.
    """
    from django.core.signals import request_finished, request_started
    from django.db import close_old_connections

    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)
