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
