"""Issue 11.3: no input makes a 500 at any auth endpoint (enumerated from the URLconf)."""

import pytest

from tests.auth.factories import UserFactory
from tests.support import hostile

pytestmark = pytest.mark.django_db(databases=["default", "ecommerce"])


@pytest.fixture
def token():
    user = UserFactory(is_staff=True, is_superuser=True)
    return hostile.signed_token(user_id=user.pk)


def test_deep_json_is_a_400_invalid_json_everywhere(api_client, settings, token):
    parsed = hostile.check_deep_json(api_client, token=token, service_token=settings.SERVICE_TOKEN)
    assert parsed >= 6  # bodies were read, not refused for another reason first


def test_oversized_body_is_a_413_everywhere(api_client, settings, token):
    refused = hostile.check_oversized_body(
        api_client, settings, token=token, service_token=settings.SERVICE_TOKEN
    )
    assert refused >= 6


def test_odd_token_claims_are_a_401_everywhere(api_client, settings):
    UserFactory(id=1)  # the id the odd tokens name where their user_id is valid
    refused = hostile.check_odd_tokens(api_client, service_token=settings.SERVICE_TOKEN)
    assert refused >= len(hostile.ODD_CLAIMS)
