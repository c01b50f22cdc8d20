"""What the four admins share (shopkit.admin): email sign-in, HTML errors, users only in auth."""

import pytest
from django.contrib import admin
from django.contrib.auth.models import Group, User

from shopkit.admin import EmailAdminAuthenticationForm
from tests.support.databases import BOTH_DATABASES
from tests.support.problems import assert_problem


def test_users_and_groups_are_managed_in_auth_only():
    # These tests run inside catalog's project.
    assert not admin.site.is_registered(User)
    assert not admin.site.is_registered(Group)
    assert admin.site.login_form is EmailAdminAuthenticationForm


@pytest.mark.django_db(databases=BOTH_DATABASES)
def test_staff_sign_in_with_their_email_in_any_letter_case(client):
    User.objects.create_user(
        username="ana@example.com", email="Ana@example.com", password="pw-12345!", is_staff=True
    )
    response = client.post(
        "/catalog/admin/login/?next=/catalog/admin/",
        {"username": "ANA@Example.com", "password": "pw-12345!", "next": "/catalog/admin/"},
    )
    assert response.status_code == 302
    assert response["Location"] == "/catalog/admin/"
    assert client.session["_auth_user_id"] == str(User.objects.get().pk)


@pytest.mark.django_db(databases=BOTH_DATABASES)
def test_admin_errors_are_html_pages_but_api_errors_stay_json(client):
    admin_page = client.get("/catalog/admin/no-such-page/")
    assert admin_page.status_code in (302, 404)  # anonymous: sent to sign in
    unknown_api = client.get("/api/v1/catalog/no-such-thing/")
    assert_problem(unknown_api, 404)

    staff = User.objects.create_user(username="s@example.com", password="x", is_staff=True)
    client.force_login(staff)
    response = client.get("/catalog/admin/catalog/product/add/")
    assert response.status_code == 403
    assert response["Content-Type"].startswith("text/html")


@pytest.mark.django_db(databases=["default", "ecommerce"])
def test_every_admin_counts_failed_sign_ins_with_the_api_counters(client):
    """catalog's admin here; auth's API reads the same cache keys (one table in auth_db)."""
    from django.core.cache import cache

    from shopkit.throttling import SignInFailures

    cache.clear()
    User.objects.create_user(
        username="ana@example.com", email="ana@example.com", password="pw-12345!", is_staff=True
    )
    form = {"username": "ana@example.com", "password": "wrong", "next": "/catalog/admin/"}
    for _ in range(5):
        assert client.post("/catalog/admin/login/", form).status_code == 200
    # What auth's token endpoint checks: the email's counter is full.
    request = type("Request", (), {"META": {"REMOTE_ADDR": "192.0.2.50"}})()
    assert SignInFailures(request, email="ANA@example.com").wait() is not None
    response = client.post("/catalog/admin/login/", {**form, "password": "pw-12345!"})
    assert "Too many failed sign-ins" in response.content.decode()
    assert "_auth_user_id" not in client.session
    cache.clear()
