"""Every error leaves a service as one RFC 9457 problem document."""

import pytest

from tests.support.problems import assert_problem


def test_validation_errors_list_fields(api_client):
    body = assert_problem(
        api_client.post("/probe/fail/validation/", {"quantity": 0}), 400, "invalid"
    )
    assert "quantity" in body["errors"]


def test_malformed_json_is_a_400(api_client):
    response = api_client.post(
        "/probe/fail/validation/", "{not json", content_type="application/json"
    )
    assert_problem(response, 400, "parse_error")


def test_application_error_keeps_its_code_and_extension_members(api_client):
    body = assert_problem(api_client.post("/probe/fail/application/"), 409, "out_of_stock")
    assert body["short_lines"] == [1]
    assert body["detail"] == "Only 2 left."


def test_django_validation_error_becomes_a_400(api_client):
    body = assert_problem(api_client.post("/probe/fail/django-validation/"), 400, "invalid")
    assert body["errors"] == {"price": ["Must be positive."]}


def test_unexpected_exception_is_a_problem_not_a_traceback(api_client):
    body = assert_problem(api_client.post("/probe/fail/crash/"), 500, "internal_error")
    assert "boom" not in str(body)


def test_unknown_url_is_a_json_404(client):
    response = client.get("/api/v1/catalog/no-such-thing/")
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


def test_missing_token_is_a_401_with_challenge(api_client):
    response = api_client.get("/probe/whoami/")
    body = assert_problem(response, 401, "not_authenticated")
    assert response["WWW-Authenticate"].startswith("Bearer")
    assert body["detail"]


@pytest.mark.parametrize("method", ["get"])
def test_request_id_is_echoed_or_made_up(api_client, method):
    response = getattr(api_client, method)("/catalog/health/", HTTP_X_REQUEST_ID="abc-123")
    assert response["X-Request-ID"] == "abc-123"
    response = api_client.get("/catalog/health/", HTTP_X_REQUEST_ID="bad id with spaces")
    assert response["X-Request-ID"] != "bad id with spaces"
    assert len(response["X-Request-ID"]) == 32
