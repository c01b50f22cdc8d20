"""Cross-origin storefronts: allowed only from the configured origins, API paths only."""

import pytest

STOREFRONT = "https://shop.example.com"


@pytest.fixture
def storefront_allowed(settings):
    settings.CORS_ALLOWED_ORIGINS = [STOREFRONT]


def preflight(client, path, origin):
    return client.options(
        path,
        HTTP_ORIGIN=origin,
        HTTP_ACCESS_CONTROL_REQUEST_METHOD="POST",
        HTTP_ACCESS_CONTROL_REQUEST_HEADERS="authorization, content-type, idempotency-key",
    )


def test_no_origin_is_allowed_by_default(client):
    response = preflight(client, "/api/v1/catalog/schema/", STOREFRONT)
    assert "access-control-allow-origin" not in response.headers


def test_a_configured_storefront_may_call_the_api(client, storefront_allowed):
    response = preflight(client, "/api/v1/catalog/schema/", STOREFRONT)
    assert response.status_code == 200
    assert response.headers["access-control-allow-origin"] == STOREFRONT
    allowed = response.headers["access-control-allow-headers"]
    assert "idempotency-key" in allowed and "x-cart-token" in allowed
    assert "access-control-allow-credentials" not in response.headers  # bearer tokens only

    answer = client.get("/probe/fail/none/", HTTP_ORIGIN=STOREFRONT)
    assert "access-control-allow-origin" not in answer.headers  # not an /api/ path
    answer = client.get("/api/v1/catalog/schema/", HTTP_ORIGIN=STOREFRONT)
    assert answer.headers["access-control-allow-origin"] == STOREFRONT
    exposed = answer.headers["access-control-expose-headers"]
    assert "X-Cart-Token" in exposed and "X-Request-ID" in exposed


def test_other_origins_and_the_admin_get_no_cors_headers(client, storefront_allowed):
    assert (
        "access-control-allow-origin"
        not in preflight(client, "/api/v1/catalog/schema/", "https://evil.example").headers
    )
    assert (
        "access-control-allow-origin"
        not in preflight(client, "/catalog/admin/login/", STOREFRONT).headers
    )
