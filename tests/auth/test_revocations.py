"""Issue 11.2, auth's side: deactivation, deletion and a new password record an access
revocation, published to the other services on /internal/auth/revocations/."""

import time
from datetime import timedelta

import pytest
from django.utils import timezone

from accounts.models import AccessRevocation
from accounts.tokens import AccessToken
from tests.auth.factories import PASSWORD, UserFactory
from tests.support.databases import BOTH_DATABASES
from tests.support.tokens import mint_access_token

pytestmark = pytest.mark.django_db(databases=BOTH_DATABASES)

REVOCATIONS = "/internal/auth/revocations/"


def published(service_api_client) -> dict[int, int]:
    response = service_api_client.get(REVOCATIONS)
    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store"
    return {entry["user_id"]: entry["not_before"] for entry in response.json()["revocations"]}


def test_deactivation_refuses_even_tokens_of_its_own_second(service_api_client):
    """Regression: a token signed in the same second as the deactivation stayed valid."""
    user = UserFactory()
    assert published(service_api_client) == {}
    issued_at = int(time.time())  # a token signed just now
    user.is_active = False
    user.save()
    not_before = published(service_api_client)[user.pk]
    assert issued_at < not_before <= int(time.time()) + 1


def test_a_password_change_kills_even_a_token_of_its_own_second(service_api_client):
    """Regression: with `not_before` = the change's own second, a token signed a moment
    before the change (same second) survived it."""
    user = UserFactory()
    before = int(time.time())
    user.set_password("Compass-Meadow-55")
    user.save()
    assert before + 1 <= published(service_api_client)[user.pk] <= int(time.time()) + 1


def test_a_sign_in_right_after_a_password_change_gets_a_token_that_counts(api_client):
    user = UserFactory()
    user.set_password("Compass-Meadow-55")
    user.save()
    response = api_client.post(
        "/api/v1/auth/token/",
        {"email": user.email, "password": "Compass-Meadow-55"},
        format="json",
    )
    assert response.status_code == 200, response.content
    not_before = AccessRevocation.objects.get(user_id=user.pk).not_before.timestamp()
    assert AccessToken(response.json()["access"])["iat"] >= not_before
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {response.json()['access']}")
    assert api_client.get("/api/v1/auth/me/").status_code == 200


def test_deletion_is_published_and_outlives_the_user(service_api_client):
    user = UserFactory()
    user_id = user.pk
    user.delete()
    assert user_id in published(service_api_client)
    assert AccessRevocation.objects.filter(user_id=user_id).exists()


def test_password_change_through_the_api_is_published(signed_in, service_api_client):
    user = UserFactory()
    response = signed_in(user).post(
        "/api/v1/auth/password/change/",
        {"old_password": PASSWORD, "new_password": "Compass-Meadow-55"},
    )
    assert response.status_code == 204
    assert user.pk in published(service_api_client)


def test_profile_edits_revoke_nothing(service_api_client):
    user = UserFactory()
    user.first_name = "Eva"
    user.save()
    assert published(service_api_client) == {}
    assert not AccessRevocation.objects.exists()


def test_a_second_revocation_moves_the_same_row_forward():
    user = UserFactory()
    user.is_active = False
    user.save()
    AccessRevocation.objects.filter(user_id=user.pk).update(
        not_before=timezone.now() - timedelta(minutes=5)
    )
    user.is_active = True
    user.save()
    user.set_password("Compass-Meadow-55")
    user.save()
    revocation = AccessRevocation.objects.get(user_id=user.pk)
    assert revocation.not_before > timezone.now() - timedelta(seconds=5)


def test_revocations_older_than_a_token_lifetime_are_left_out(service_api_client):
    AccessRevocation.objects.create(user_id=41, not_before=timezone.now() - timedelta(hours=1))
    AccessRevocation.objects.create(user_id=42, not_before=timezone.now() - timedelta(minutes=1))
    assert set(published(service_api_client)) == {42}


def test_the_list_is_for_services_only(api_client, signed_in):
    assert api_client.get(REVOCATIONS).status_code == 403
    staff = UserFactory(is_staff=True, is_superuser=True)
    assert signed_in(staff).get(REVOCATIONS).status_code == 403


def test_auth_itself_refuses_a_token_older_than_the_password_change(
    api_client, django_assert_max_num_queries
):
    user = UserFactory()
    old = mint_access_token(user_id=user.pk, iat=int(time.time()) - 60)
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {old}")
    with django_assert_max_num_queries(1):  # user and revocation: one query
        assert api_client.get("/api/v1/auth/me/").status_code == 200
    user.set_password("Compass-Meadow-55")
    user.save()
    for path in ("/api/v1/auth/me/", "/api/v1/auth/addresses/"):
        response = api_client.get(path)
        assert response.status_code == 401
        assert response.json()["code"] == "token_revoked"
    fresh = mint_access_token(user_id=user.pk, iat=int(time.time()) + 1)  # the next second
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {fresh}")
    assert api_client.get("/api/v1/auth/me/").status_code == 200
