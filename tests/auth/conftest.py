"""Fixtures of the auth service's tests."""

import pytest
from django.core.cache import caches

from accounts.tokens import AccessToken
from tests.auth.factories import UserFactory


@pytest.fixture(autouse=True)
def empty_cache():
    """Throttle counters live in a cache: every test starts with none."""
    for cache in caches.all():
        cache.clear()
    yield
    for cache in caches.all():
        cache.clear()


@pytest.fixture
def user(db):
    return UserFactory()


@pytest.fixture
def signed_in():
    """signed_in(user) -> an APIClient carrying an access token auth issued for the user."""

    def make(user):
        from rest_framework.test import APIClient

        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {AccessToken.for_user(user)}")
        return client

    return make
