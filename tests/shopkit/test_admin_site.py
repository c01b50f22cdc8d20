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
