"""A new password or a deactivation ends the user's sessions, whichever way it is made.

Each path is driven as staff or the API use it; a session is a refresh token, and
"ended" means the refresh endpoint refuses it and its row is in the blacklist.
"""

import getpass
from io import StringIO

import pytest
from django.contrib.auth.models import User
from django.core.management import call_command
from django.db import transaction
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken

from accounts import signals
from accounts.services import token_pair_obtain
from tests.auth.factories import PASSWORD, UserFactory
from tests.support.databases import BOTH_DATABASES

pytestmark = pytest.mark.django_db(databases=BOTH_DATABASES)

ADMIN = "/auth/admin/auth/user"
API = "/api/v1/auth"
NEW_PASSWORD = "Compass-Meadow-55"


@pytest.fixture
def admin_client(client):
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    return client


def refresh_tokens(user, count=2) -> list[str]:
    return [token_pair_obtain(email=user.email, password=PASSWORD)["refresh"] for _ in range(count)]


def refresh(api_client, token):
    return api_client.post(f"{API}/token/refresh/", {"refresh": token})


def assert_signed_out(api_client, user, tokens):
    blacklisted = BlacklistedToken.objects.filter(token__user=user)
    assert blacklisted.count() == len(tokens) == OutstandingToken.objects.filter(user=user).count()
    for token in tokens:
        assert refresh(api_client, token).status_code == 401


def assert_still_signed_in(api_client, user, tokens):
    assert not BlacklistedToken.objects.filter(token__user=user).exists()
    assert refresh(api_client, tokens[0]).status_code == 200


def change_form(user, **changes):
    """What the admin's user change page posts when nothing is touched, plus the changes."""
    data = {
        "email": user.email,
        "first_name": user.first_name,
        "last_name": user.last_name,
        "is_active": "on",
        "date_joined_0": "2026-01-01",
        "date_joined_1": "10:00:00",
        "addresses-TOTAL_FORMS": "0",
        "addresses-INITIAL_FORMS": "0",
    }
    data.update(changes)
    return {name: value for name, value in data.items() if value is not None}


# --- the paths that end sessions ---------------------------------------------------------


def test_a_password_set_in_the_admin_ends_every_session(admin_client, api_client, user):
    tokens = refresh_tokens(user)
    response = admin_client.post(
        f"{ADMIN}/{user.pk}/password/",
        {"usable_password": "true", "password1": NEW_PASSWORD, "password2": NEW_PASSWORD},
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    assert response.url == f"{ADMIN}/{user.pk}/change/"  # accepted, not sent back to the form
    user.refresh_from_db()
    assert user.check_password(NEW_PASSWORD)
    assert_signed_out(api_client, user, tokens)


def test_password_sign_in_disabled_in_the_admin_ends_every_session(admin_client, api_client, user):
    tokens = refresh_tokens(user)
    response = admin_client.post(
        f"{ADMIN}/{user.pk}/password/",
        {"usable_password": "false", "unset-password": "Disable password-based authentication"},
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    assert response.url == f"{ADMIN}/{user.pk}/change/"  # accepted, not sent back to the form
    user.refresh_from_db()
    assert not user.has_usable_password()
    assert_signed_out(api_client, user, tokens)


def test_deactivating_in_the_admin_ends_every_session_for_good(admin_client, api_client, user):
    tokens = refresh_tokens(user)
    response = admin_client.post(f"{ADMIN}/{user.pk}/change/", change_form(user, is_active=None))
    assert response.status_code == 302, response.content.decode()[:3000]
    user.refresh_from_db()
    assert user.is_active is False
    assert_signed_out(api_client, user, tokens)

    admin_client.post(f"{ADMIN}/{user.pk}/change/", change_form(user))
    user.refresh_from_db()
    assert user.is_active is True
    assert refresh(api_client, tokens[0]).status_code == 401  # reactivation revives nothing


def test_manage_py_changepassword_ends_every_session(monkeypatch, api_client, user):
    tokens = refresh_tokens(user)
    monkeypatch.setattr(getpass, "getpass", lambda prompt="": NEW_PASSWORD)
    call_command("changepassword", user.username, stdout=StringIO())
    user.refresh_from_db()
    assert user.check_password(NEW_PASSWORD)
    assert_signed_out(api_client, user, tokens)


def test_the_api_password_change_revokes_once(signed_in, api_client, user, monkeypatch):
    tokens = refresh_tokens(user)
    calls = []
    revoke = signals.refresh_tokens_revoke
    monkeypatch.setattr(
        signals, "refresh_tokens_revoke", lambda **kw: calls.append(kw) or revoke(**kw)
    )
    response = signed_in(user).post(
        f"{API}/password/change/", {"old_password": PASSWORD, "new_password": NEW_PASSWORD}
    )
    assert response.status_code == 204, response.content
    assert calls == [{"user": user}]
    assert_signed_out(api_client, user, tokens)


def test_a_password_change_rolled_back_revokes_nothing(api_client, user):
    tokens = refresh_tokens(user)
    with pytest.raises(RuntimeError), transaction.atomic():
        user.set_password(NEW_PASSWORD)
        user.save()
        raise RuntimeError("the rest of the change failed")
    assert_still_signed_in(api_client, user, tokens)


# --- the saves that must not ---------------------------------------------------------------


def test_editing_a_name_in_the_admin_revokes_nothing(admin_client, api_client, user):
    tokens = refresh_tokens(user)
    response = admin_client.post(f"{ADMIN}/{user.pk}/change/", change_form(user, first_name="Inés"))
    assert response.status_code == 302, response.content.decode()[:3000]
    user.refresh_from_db()
    assert user.first_name == "Inés" and user.check_password(PASSWORD)
    assert_still_signed_in(api_client, user, tokens)


def test_a_hash_upgrade_at_sign_in_revokes_nothing(settings, api_client, user):
    tokens = refresh_tokens(user)
    # A newer preferred hasher: Django re-hashes the (same) password at the next sign-in.
    settings.PASSWORD_HASHERS = [
        "django.contrib.auth.hashers.PBKDF2PasswordHasher",
        "django.contrib.auth.hashers.MD5PasswordHasher",
    ]
    response = api_client.post(f"{API}/token/", {"email": user.email, "password": PASSWORD})
    assert response.status_code == 200, response.content
    user.refresh_from_db()
    assert user.password.startswith("pbkdf2_sha256$")
    assert_still_signed_in(api_client, user, tokens)


def test_a_new_user_costs_only_its_insert(django_assert_num_queries):
    with django_assert_num_queries(1):
        User(username="new@example.com", email="new@example.com").save()


def test_saving_other_fields_costs_no_extra_query(user, django_assert_num_queries):
    user.first_name = "Inés"
    with django_assert_num_queries(1):  # sign-in's last_login and profile edits save like this
        user.save(update_fields=["first_name"])


def test_a_full_save_that_changes_nothing_reads_the_row_once_and_revokes_nothing(
    api_client, user, django_assert_num_queries
):
    tokens = refresh_tokens(user)
    unchanged = User.objects.get(pk=user.pk)
    with django_assert_num_queries(2):  # the stored password and is_active, then the UPDATE
        unchanged.save()
    assert_still_signed_in(api_client, user, tokens)
