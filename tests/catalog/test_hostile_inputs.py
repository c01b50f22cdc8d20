"""Issue 11.3: no input makes a 500 at any catalog endpoint (enumerated from the URLconf)."""

import pytest

from tests.support.hostile import (  # noqa: F401  (collected here, with this service's settings)
    test_deep_json_is_a_400_invalid_json_everywhere,
    test_odd_token_claims_are_a_401_everywhere,
    test_oversized_body_is_a_413_everywhere,
)

pytestmark = pytest.mark.django_db(databases=["default", "ecommerce"])
