"""Issue 11.3: no input makes a 500 at any cart endpoint (enumerated from the URLconf)."""

import pytest

from tests.support import hostile

pytestmark = pytest.mark.django_db(databases=["default", "ecommerce"], transaction=False)


def test_deep_json_is_a_400_invalid_json_everywhere(api_client, settings):
    token = hostile.signed_token(user_id=1)
    parsed = hostile.check_deep_json(api_client, token=token, service_token=settings.SERVICE_TOKEN)
    assert parsed >= 2  # bodies were read, not refused for another reason first


def test_oversized_body_is_a_413_everywhere(api_client, settings):
    token = hostile.signed_token(user_id=1)
    refused = hostile.check_oversized_body(
        api_client, settings, token=token, service_token=settings.SERVICE_TOKEN
    )
    assert refused >= 1


def test_odd_token_claims_are_a_401_everywhere(api_client, settings):
    refused = hostile.check_odd_tokens(api_client, service_token=settings.SERVICE_TOKEN)
    assert refused >= len(hostile.ODD_CLAIMS)
