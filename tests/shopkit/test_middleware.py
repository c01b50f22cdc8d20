"""shopkit.middleware: the browser middleware runs for the admins, not for the API."""

import pytest
from django.contrib.auth.models import User
from django.core.cache import caches
from django.test import Client

from shopkit.cache import THROTTLE_CACHE
from shopkit.middleware import is_api_path
from tests.support.tokens import mint_access_token


def test_api_and_internal_paths_are_the_lean_ones():
    assert is_api_path("/api/v1/catalog/products/")
    assert is_api_path("/internal/catalog/products/")
    assert not is_api_path("/catalog/admin/")
    assert not is_api_path("/catalog/health/")
    assert not is_api_path("/apis/")


@pytest.mark.django_db(databases=["default", "ecommerce"])
def test_the_admin_keeps_csrf_sessions_and_its_signed_in_user():
    caches[THROTTLE_CACHE].clear()  # other tests' failed sign-ins from this address
    User.objects.create_user(
        username="ana@example.com", email="ana@example.com", password="pw-12345!", is_staff=True
    )
    browser = Client(enforce_csrf_checks=True)
    login = browser.get("/catalog/admin/login/")
    assert login.status_code == 200
    csrf_cookie = login.cookies["tienda_csrftoken"].value
    assert login.headers["X-Frame-Options"] == "DENY"

    form = {"username": "ana@example.com", "password": "pw-12345!", "next": "/catalog/admin/"}
    refused = browser.post("/catalog/admin/login/", form)
    assert refused.status_code == 403  # no CSRF token: refused as before
    assert "tienda_session" not in browser.cookies

    signed_in = browser.post("/catalog/admin/login/", {**form, "csrfmiddlewaretoken": csrf_cookie})
    assert signed_in.status_code == 302
    assert browser.session["_auth_user_id"] == str(User.objects.get().pk)
    assert browser.get("/catalog/admin/").status_code == 200  # the session's user


@pytest.mark.django_db(databases=["default", "ecommerce"])
def test_an_api_request_gets_no_session_or_csrf_cookie_and_ignores_an_admin_session():
    User.objects.create_user(
        username="ana@example.com", email="ana@example.com", password="pw-12345!", is_staff=True
    )
    browser = Client()
    browser.login(username="ana@example.com", password="pw-12345!")
    assert "tienda_session" in browser.cookies

    # A signed-in admin's cookie is not a credential of the API: only a token is.
    anonymous = browser.get("/probe/whoami/")
    assert anonymous.status_code == 401
    answer = browser.get("/api/v1/catalog/schema/")
    assert answer.status_code == 200
    assert "Set-Cookie" not in answer.headers
    assert "Cookie" not in answer.headers.get("Vary", "")

    token = mint_access_token(user_id=5, email="bo@example.com")
    me = Client().get("/probe/whoami/", HTTP_AUTHORIZATION=f"Bearer {token}")
    assert me.status_code == 200 and me.json()["user_id"] == 5


@pytest.mark.django_db(databases=["default", "ecommerce"])
def test_an_api_post_is_not_subject_to_the_cookie_csrf_check():
    # DRF's views are CSRF-exempt (bearer tokens, no cookie credential): as before.
    answer = Client(enforce_csrf_checks=True).post(
        "/api/v1/catalog/schema/", {}, content_type="application/json"
    )
    assert answer.status_code == 405  # a CSRF refusal would be a 403
    assert answer["Content-Type"] == "application/problem+json"


# --- calls between services (/internal/): only what such a call needs ---------------------

BROWSER_HEADERS = (
    "Content-Security-Policy",
    "X-Frame-Options",
    "X-Content-Type-Options",
    "Referrer-Policy",
    "Cross-Origin-Opener-Policy",
)


def service_call(method="get", path="/internal/probe/", **extra):
    from django.conf import settings

    headers = {"HTTP_X_SERVICE_TOKEN": settings.SERVICE_TOKEN, **extra}
    return getattr(Client(), method)(path, **headers)


@pytest.mark.django_db(databases=["default", "ecommerce"])
def test_internal_answers_carry_no_browser_headers_but_keep_the_request_id():
    answer = service_call(HTTP_X_REQUEST_ID="hop-1")
    assert answer.status_code == 200 and answer.json() == {"ok": True}
    assert answer["X-Request-ID"] == "hop-1"
    assert answer["Content-Type"] == "application/json"
    assert answer["Content-Length"] == str(len(answer.content))
    assert not [name for name in BROWSER_HEADERS if name in answer]
    assert "Set-Cookie" not in answer.headers
    # Everything a browser can reach keeps them.
    for path in ("/catalog/health/", "/api/v1/catalog/schema/"):
        page = Client().get(path)
        assert all(name in page for name in BROWSER_HEADERS), (path, page.headers)


@pytest.mark.django_db(databases=["default", "ecommerce"])
def test_an_internal_call_without_the_service_credential_is_still_refused():
    refused = Client().get("/internal/probe/")
    assert refused.status_code == 403
    assert refused["Content-Type"] == "application/problem+json"
    assert refused.json()["code"] == "permission_denied"
    wrong = Client().get("/internal/probe/", HTTP_X_SERVICE_TOKEN="not-the-token")
    assert wrong.status_code == 403
    # A customer's or staff's token is not a service credential either.
    token = mint_access_token(user_id=5, email="bo@example.com", is_staff=True)
    assert Client().get("/internal/probe/", HTTP_AUTHORIZATION=f"Bearer {token}").status_code == 403


@pytest.mark.django_db(databases=["default", "ecommerce"])
def test_internal_errors_are_problems_as_before(settings):
    missing = service_call(path="/internal/nothing-here/")
    assert missing.status_code == 404
    assert missing["Content-Type"] == "application/problem+json"
    assert missing.json()["code"] == "not_found"
    # APPEND_SLASH's redirect, as on every path.
    redirect = service_call(path="/internal/probe")
    assert (redirect.status_code, redirect["Location"]) == (301, "/internal/probe/")
    # A view that crashes: a 500 problem, never Django's HTML page.
    crashed = Client(raise_request_exception=False).post(
        "/internal/probe/",
        {"crash": True},
        content_type="application/json",
        HTTP_X_SERVICE_TOKEN=settings.SERVICE_TOKEN,
    )
    assert crashed.status_code == 500
    assert crashed["Content-Type"] == "application/problem+json"
    # A host the service does not answer for: 400, as on every path.
    assert service_call(HTTP_HOST="evil.example").status_code == 400


@pytest.mark.django_db(databases=["default", "ecommerce"])
def test_an_internal_post_is_parsed_and_answered_without_the_csrf_cookie_check(settings):
    answer = Client(enforce_csrf_checks=True).post(
        "/internal/probe/",
        {"lines": [1, 2]},
        content_type="application/json",
        HTTP_X_SERVICE_TOKEN=settings.SERVICE_TOKEN,
    )
    assert answer.status_code == 201 and answer.json() == {"echo": {"lines": [1, 2]}}


@pytest.mark.django_db(databases=["default", "ecommerce"])
def test_internal_calls_are_logged_and_counted(caplog):
    from shopkit.metrics import HTTP_REQUESTS

    def served():
        return HTTP_REQUESTS.labels("catalog", "/internal/probe/", "GET", "200")._value.get()

    before = served()
    with caplog.at_level("INFO", logger="shopkit.access"):
        service_call(HTTP_X_REQUEST_ID="hop-2")
    assert served() == before + 1
    (line,) = [record for record in caplog.records if record.name == "shopkit.access"]
    assert (line.path, line.status, line.request_id) == ("/internal/probe/", 200, "hop-2")
