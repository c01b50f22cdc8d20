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
    assert_problem(response, 400, "invalid_json")


@pytest.mark.parametrize(
    "body",
    [
        pytest.param("[" * 1000 + "]" * 1000, id="arrays-1000-deep"),
        pytest.param('{"a":' * 1000 + "1" + "}" * 1000, id="objects-1000-deep"),
        pytest.param('{"quantity": 1, "x": ' + "[" * 100_000, id="unclosed-100000-deep"),
        pytest.param('{"quantity": NaN}', id="nan"),
        pytest.param(b'{"quantity": "\xff"}'.decode("latin-1"), id="not-utf8"),
    ],
)
def test_deep_or_odd_json_is_a_400_invalid_json(api_client, body):
    response = api_client.post(
        "/probe/fail/validation/", body.encode("latin-1"), content_type="application/json"
    )
    assert_problem(response, 400, "invalid_json")


def test_brackets_inside_strings_do_not_count_as_nesting(api_client):
    body = '{"quantity": 0, "note": "' + "[{" * 500 + '\\"]"}'
    response = api_client.post("/probe/fail/validation/", body, content_type="application/json")
    assert_problem(response, 400, "invalid")  # parsed: the quantity is what is wrong


def test_body_over_the_limit_is_a_413_problem(api_client, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    body = '{"quantity": 1, "pad": "' + "x" * 2000 + '"}'
    response = api_client.post("/probe/fail/validation/", body, content_type="application/json")
    assert_problem(response, 413, "request_too_large")


def test_body_over_the_limit_outside_drf_is_a_413_problem(settings):
    from django.test import Client

    # The admin login reads request.POST in Django itself (handler400's path);
    # the test client would re-raise what Django turns into a response.
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    response = Client(raise_request_exception=False).post(
        "/catalog/admin/login/", "x=" + "y" * 2000, content_type="application/x-www-form-urlencoded"
    )
    assert_problem(response, 413, "request_too_large")


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
