"""The auth API from outside, as a client uses it: response bodies and the database afterwards."""

import pytest
from django.contrib.auth.models import User
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken

from accounts.models import Address
from accounts.services import ADDRESS_LIMIT_PER_USER
from tests.auth.factories import PASSWORD, AddressFactory, UserFactory
from tests.support.addresses import ADDRESS
from tests.support.databases import BOTH_DATABASES
from tests.support.problems import assert_problem

pytestmark = pytest.mark.django_db(databases=BOTH_DATABASES)

API = "/api/v1/auth"
NEW_PASSWORD = "Orchard-Violin-77"


def sign_in(api_client, email, password=PASSWORD):
    return api_client.post(f"{API}/token/", {"email": email, "password": password})


# --- register --------------------------------------------------------------------------


def test_register_creates_a_customer_and_returns_no_secret(api_client):
    response = api_client.post(
        f"{API}/register/",
        {
            "email": "Marta.Ruiz@Example.com",
            "password": NEW_PASSWORD,
            "first_name": "Marta",
            "last_name": "Ruiz",
            "is_staff": True,
            "is_superuser": True,
        },
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert set(body) == {"id", "email", "first_name", "last_name", "date_joined"}
    assert body["email"] == "Marta.Ruiz@example.com"  # Django lower-cases the domain only
    text = response.content.decode()
    assert "password" not in text and NEW_PASSWORD not in text and "md5$" not in text

    user = User.objects.get(pk=body["id"])
    assert user.username == "marta.ruiz@example.com"
    assert user.check_password(NEW_PASSWORD)
    assert (user.is_staff, user.is_superuser, user.is_active) == (False, False, True)


def test_register_refuses_the_same_email_in_another_case(api_client, user):
    response = api_client.post(
        f"{API}/register/", {"email": user.email.upper(), "password": NEW_PASSWORD}
    )
    body = assert_problem(response, 400, "email_taken")
    assert "email" in body["errors"]
    assert User.objects.count() == 1


@pytest.mark.parametrize(
    "password",
    ["123", "password", "12345678901", "marta.ruiz@example.com"],
    ids=["short", "common", "numeric", "like-the-email"],
)
def test_register_refuses_weak_passwords(api_client, password):
    response = api_client.post(
        f"{API}/register/", {"email": "marta.ruiz@example.com", "password": password}
    )
    body = assert_problem(response, 400, "invalid")
    assert body["errors"]["password"]
    assert not User.objects.exists()


@pytest.mark.parametrize(
    "payload",
    [
        {},
        {"email": "not-an-email", "password": NEW_PASSWORD},
        {"email": "a@example.com"},
        {"email": "x" * 140 + "@example.com", "password": NEW_PASSWORD},
        ["a", "list"],
    ],
    ids=["empty", "bad-email", "no-password", "email-too-long", "not-an-object"],
)
def test_register_refuses_malformed_input(api_client, payload):
    assert_problem(api_client.post(f"{API}/register/", payload, format="json"), 400, "invalid")
    assert not User.objects.exists()


def test_register_is_throttled_per_ip(api_client, settings):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {
            **settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"],
            "register": "2/hour",
        },
    }
    for n in range(2):
        payload = {"email": f"new{n}@example.com", "password": NEW_PASSWORD}
        assert api_client.post(f"{API}/register/", payload).status_code == 201
    response = api_client.post(
        f"{API}/register/", {"email": "new2@example.com", "password": NEW_PASSWORD}
    )
    body = assert_problem(response, 429, "throttled")
    assert int(response["Retry-After"]) > 0
    assert body["retry_after"] > 0
    assert User.objects.count() == 2


# --- token, refresh, logout ------------------------------------------------------------


def test_sign_in_returns_a_pair_and_records_the_refresh_token(api_client, user):
    response = sign_in(api_client, user.email.upper())  # the email in any case
    assert response.status_code == 200, response.content
    assert set(response.json()) == {"access", "refresh"}
    assert OutstandingToken.objects.filter(user=user).count() == 1
    user.refresh_from_db()
    assert user.last_login is not None


def test_wrong_password_is_401_and_issues_nothing(api_client, user):
    body = assert_problem(sign_in(api_client, user.email, "wrong"), 401, "invalid_credentials")
    assert body["detail"]
    assert not OutstandingToken.objects.exists()


def test_unknown_email_looks_like_a_wrong_password(api_client):
    assert_problem(sign_in(api_client, "nobody@example.com"), 401, "invalid_credentials")


def test_inactive_user_cannot_sign_in(api_client):
    inactive = UserFactory(is_active=False)
    assert_problem(sign_in(api_client, inactive.email), 401, "invalid_credentials")
    assert not OutstandingToken.objects.exists()


def test_refresh_rotates_and_the_old_refresh_token_is_dead(api_client, user):
    first = sign_in(api_client, user.email).json()
    response = api_client.post(f"{API}/token/refresh/", {"refresh": first["refresh"]})
    assert response.status_code == 200, response.content
    second = response.json()
    assert set(second) == {"access", "refresh"}
    assert second["refresh"] != first["refresh"]
    assert BlacklistedToken.objects.filter(token__token=first["refresh"]).exists()

    reused = api_client.post(f"{API}/token/refresh/", {"refresh": first["refresh"]})
    assert_problem(reused, 401, "token_not_valid")
    assert reused["WWW-Authenticate"].startswith("Bearer")
    # The new one still works, once.
    assert (
        api_client.post(f"{API}/token/refresh/", {"refresh": second["refresh"]}).status_code == 200
    )


def test_an_access_token_is_not_a_refresh_token(api_client, user):
    pair = sign_in(api_client, user.email).json()
    response = api_client.post(f"{API}/token/refresh/", {"refresh": pair["access"]})
    assert_problem(response, 401, "token_not_valid")


def test_inactive_user_cannot_refresh(api_client, user):
    pair = sign_in(api_client, user.email).json()
    User.objects.filter(pk=user.pk).update(is_active=False)
    response = api_client.post(f"{API}/token/refresh/", {"refresh": pair["refresh"]})
    assert_problem(response, 401, "account_inactive")
    assert not BlacklistedToken.objects.exists()


def test_deleted_user_cannot_refresh(api_client, user):
    pair = sign_in(api_client, user.email).json()
    user.delete()
    response = api_client.post(f"{API}/token/refresh/", {"refresh": pair["refresh"]})
    assert_problem(response, 401, "account_inactive")


def test_logout_kills_the_refresh_token_even_with_an_expired_access_token(api_client, user):
    pair = sign_in(api_client, user.email).json()
    api_client.credentials(HTTP_AUTHORIZATION="Bearer expired.or.garbage")
    response = api_client.post(f"{API}/logout/", {"refresh": pair["refresh"]})
    assert response.status_code == 204, response.content
    assert BlacklistedToken.objects.filter(token__token=pair["refresh"]).exists()

    api_client.credentials()
    response = api_client.post(f"{API}/token/refresh/", {"refresh": pair["refresh"]})
    assert_problem(response, 401, "token_not_valid")


@pytest.mark.parametrize("refresh", ["garbage", "a.b.c", ""])
def test_logout_with_a_bad_token_is_refused(api_client, refresh):
    response = api_client.post(f"{API}/logout/", {"refresh": refresh})
    assert response.status_code in {400, 401}
    assert not BlacklistedToken.objects.exists()


# --- throttled sign-ins ----------------------------------------------------------------


def test_repeated_failures_for_one_email_are_throttled_even_with_the_right_password(
    api_client, user
):
    for _ in range(5):  # THROTTLE_LOGIN_EMAIL_RATE default: 5/min
        assert sign_in(api_client, user.email, "wrong").status_code == 401
    response = sign_in(api_client, user.email)
    body = assert_problem(response, 429, "throttled")
    assert 0 < int(response["Retry-After"]) <= 60
    assert body["retry_after"] == int(response["Retry-After"])
    assert not OutstandingToken.objects.exists()


def test_failures_per_email_do_not_block_another_email(api_client, user):
    other = UserFactory()
    for _ in range(5):
        sign_in(api_client, user.email.upper(), "wrong")  # counted case-insensitively
    assert sign_in(api_client, user.email).status_code == 429
    assert sign_in(api_client, other.email).status_code == 200


def test_failures_per_ip_are_throttled_across_emails(api_client, user):
    for n in range(20):  # THROTTLE_LOGIN_IP_RATE default: 20/min
        assert sign_in(api_client, f"guess{n}@example.com", "wrong").status_code == 401
    assert sign_in(api_client, user.email).status_code == 429
    # Another client address is not affected.
    response = api_client.post(
        f"{API}/token/",
        {"email": user.email, "password": PASSWORD},
        REMOTE_ADDR="10.1.2.3",
    )
    assert response.status_code == 200


def test_successful_sign_ins_are_never_counted(api_client, user):
    for _ in range(25):
        assert sign_in(api_client, user.email).status_code == 200


# --- me ---------------------------------------------------------------------------------


def test_me_shows_the_signed_in_user(signed_in, user, django_assert_max_num_queries):
    client = signed_in(user)
    with django_assert_max_num_queries(1):
        response = client.get(f"{API}/me/")
    assert response.status_code == 200
    assert response.json()["email"] == user.email
    assert response.json()["is_staff"] is False


def test_me_needs_a_token(api_client):
    response = api_client.get(f"{API}/me/")
    assert_problem(response, 401, "not_authenticated")
    assert response["WWW-Authenticate"].startswith("Bearer")


def test_patch_me_cannot_make_anyone_staff(signed_in, user):
    response = signed_in(user).patch(
        f"{API}/me/",
        {"is_staff": True, "is_superuser": True, "is_active": False, "username": "boss"},
    )
    assert response.status_code == 200
    assert response.json()["is_staff"] is False
    user.refresh_from_db()
    assert (user.is_staff, user.is_superuser, user.is_active) == (False, False, True)
    assert user.username == user.email.lower()


def test_patch_me_changes_names_and_email_which_becomes_the_login(signed_in, api_client, user):
    response = signed_in(user).patch(
        f"{API}/me/", {"first_name": "Lucía", "email": "Lucia.New@Example.com"}
    )
    assert response.status_code == 200, response.content
    user.refresh_from_db()
    assert (user.first_name, user.email, user.username) == (
        "Lucía",
        "Lucia.New@example.com",
        "lucia.new@example.com",
    )
    assert sign_in(api_client, "lucia.new@example.com").status_code == 200


def test_patch_me_refuses_an_email_taken_in_another_case(signed_in, user):
    other = UserFactory()
    response = signed_in(user).patch(f"{API}/me/", {"email": other.email.swapcase()})
    assert_problem(response, 400, "email_taken")
    user.refresh_from_db()
    assert user.username != other.username


def test_put_me_is_not_allowed(signed_in, user):
    assert signed_in(user).put(f"{API}/me/", {"first_name": "X"}).status_code == 405


# --- password change --------------------------------------------------------------------


def test_password_change_revokes_every_refresh_token(signed_in, api_client, user):
    pairs = [sign_in(api_client, user.email).json() for _ in range(2)]
    response = signed_in(user).post(
        f"{API}/password/change/", {"old_password": PASSWORD, "new_password": NEW_PASSWORD}
    )
    assert response.status_code == 204, response.content
    user.refresh_from_db()
    assert user.check_password(NEW_PASSWORD)
    assert BlacklistedToken.objects.filter(token__user=user).count() == 2
    for pair in pairs:
        refreshed = api_client.post(f"{API}/token/refresh/", {"refresh": pair["refresh"]})
        assert refreshed.status_code == 401
    assert sign_in(api_client, user.email, NEW_PASSWORD).status_code == 200


def test_password_change_needs_the_old_password(signed_in, user):
    response = signed_in(user).post(
        f"{API}/password/change/", {"old_password": "wrong", "new_password": NEW_PASSWORD}
    )
    body = assert_problem(response, 400, "wrong_password")
    assert "old_password" in body["errors"]
    user.refresh_from_db()
    assert user.check_password(PASSWORD)


def test_password_change_validates_the_new_password(signed_in, user):
    response = signed_in(user).post(
        f"{API}/password/change/", {"old_password": PASSWORD, "new_password": "123"}
    )
    body = assert_problem(response, 400, "invalid")
    assert "new_password" in body["errors"]
    user.refresh_from_db()
    assert user.check_password(PASSWORD)


def test_password_change_guesses_are_throttled_like_sign_ins(signed_in, user):
    client = signed_in(user)
    for _ in range(5):
        client.post(f"{API}/password/change/", {"old_password": "x", "new_password": NEW_PASSWORD})
    response = client.post(
        f"{API}/password/change/", {"old_password": PASSWORD, "new_password": NEW_PASSWORD}
    )
    assert_problem(response, 429, "throttled")
    user.refresh_from_db()
    assert user.check_password(PASSWORD)


# --- addresses --------------------------------------------------------------------------


def test_create_and_list_addresses(signed_in, user, django_assert_max_num_queries):
    client = signed_in(user)
    response = client.post(f"{API}/addresses/", ADDRESS)
    assert response.status_code == 201, response.content
    assert response.json()["country"] == "ES"
    AddressFactory.create_batch(3, user=user)
    AddressFactory()  # someone else's

    with django_assert_max_num_queries(3):  # user, count, page
        listing = client.get(f"{API}/addresses/?page_size=2")
    body = listing.json()
    assert body["count"] == 4
    assert len(body["results"]) == 2 and body["next"]
    stored = Address.objects.get(pk=response.json()["id"])
    assert (stored.user_id, stored.country, stored.line2) == (user.pk, "ES", "3º B")


@pytest.mark.parametrize(
    "change",
    [{"country": "XX"}, {"country": "ESP"}, {"postal_code": ""}, {"phone": "call me"}],
    ids=["unknown-country", "alpha3", "blank-postal-code", "bad-phone"],
)
def test_invalid_addresses_are_refused(signed_in, user, change):
    response = signed_in(user).post(f"{API}/addresses/", {**ADDRESS, **change})
    body = assert_problem(response, 400, "invalid")
    assert set(change) <= set(body["errors"])
    assert not Address.objects.exists()


def test_address_limit(signed_in, user):
    AddressFactory.create_batch(ADDRESS_LIMIT_PER_USER, user=user)
    response = signed_in(user).post(f"{API}/addresses/", ADDRESS)
    assert_problem(response, 400, "address_limit_reached")
    assert Address.objects.filter(user=user).count() == ADDRESS_LIMIT_PER_USER


def test_update_and_delete_own_address(signed_in, user):
    address = AddressFactory(user=user)
    client = signed_in(user)
    response = client.patch(f"{API}/addresses/{address.pk}/", {"city": "Toledo", "id": 999})
    assert response.status_code == 200, response.content
    address.refresh_from_db()
    assert (address.city, address.pk) == ("Toledo", response.json()["id"])
    assert client.delete(f"{API}/addresses/{address.pk}/").status_code == 204
    assert not Address.objects.filter(pk=address.pk).exists()


def test_another_users_address_is_404_and_unchanged(signed_in, user):
    theirs = AddressFactory(city="Sevilla")
    client = signed_in(user)
    url = f"{API}/addresses/{theirs.pk}/"
    assert_problem(client.get(url), 404, "address_not_found")
    assert_problem(client.patch(url, {"city": "Cádiz"}), 404, "address_not_found")
    assert_problem(client.delete(url), 404, "address_not_found")
    theirs.refresh_from_db()
    assert theirs.city == "Sevilla"
    assert client.get(f"{API}/addresses/").json()["count"] == 0


def test_addresses_need_a_token(api_client):
    assert_problem(api_client.get(f"{API}/addresses/"), 401, "not_authenticated")


# --- internal ---------------------------------------------------------------------------


def test_internal_address_needs_the_service_credential(
    api_client, service_api_client, signed_in, user
):
    address = AddressFactory(user=user)
    url = f"/internal/auth/users/{user.pk}/addresses/{address.pk}/"

    assert_problem(api_client.get(url), 403, "permission_denied")
    staff = UserFactory(is_staff=True, is_superuser=True)
    assert signed_in(staff).get(url).status_code == 403
    api_client.credentials(HTTP_X_SERVICE_TOKEN="wrong")
    assert api_client.get(url).status_code == 403

    response = service_api_client.get(url)
    assert response.status_code == 200
    assert response.json() == {
        "id": address.pk,
        "full_name": address.full_name,
        "line1": address.line1,
        "line2": "",
        "city": "Madrid",
        "region": "",
        "postal_code": "28013",
        "country": "ES",
        "phone": "+34600000000",
    }


def test_internal_address_of_another_user_is_404(service_api_client, user):
    theirs = AddressFactory()
    url = f"/internal/auth/users/{user.pk}/addresses/{theirs.pk}/"
    assert_problem(service_api_client.get(url), 404, "address_not_found")


def test_internal_paths_are_not_in_the_public_schema(api_client):
    schema = api_client.get("/api/v1/auth/schema/?format=json").json()
    assert schema["paths"]
    assert not [path for path in schema["paths"] if path.startswith("/internal/")]


def test_ids_beyond_the_column_range_are_404_not_500(signed_in, user, service_api_client):
    huge = 10**25
    assert_problem(signed_in(user).get(f"{API}/addresses/{huge}/"), 404, "address_not_found")
    response = service_api_client.get(f"/internal/auth/users/{huge}/addresses/{huge}/")
    assert_problem(response, 404, "address_not_found")


# --- countries --------------------------------------------------------------------------


def test_countries_are_public_cacheable_and_named_in_the_shops_language(api_client, settings):
    response = api_client.get(f"{API}/countries/", HTTP_AUTHORIZATION="Bearer expired.or.junk")
    assert response.status_code == 200
    assert response["Cache-Control"] == "public, max-age=86400"
    countries = response.json()
    assert len(countries) == 249
    assert {"code": "ES", "name": "Spain"} in countries
    assert all(set(country) == {"code", "name"} for country in countries)

    settings.LANGUAGE_CODE = "es"
    assert {"code": "ES", "name": "España"} in api_client.get(f"{API}/countries/").json()


def test_every_listed_country_is_accepted_in_an_address(signed_in, user, api_client):
    codes = [country["code"] for country in api_client.get(f"{API}/countries/").json()]
    client = signed_in(user)
    for code in (codes[0], codes[-1], "ES"):
        response = client.post(f"{API}/addresses/", {**ADDRESS, "country": code, "phone": ""})
        assert response.status_code == 201, response.content
    assert sorted(Address.objects.values_list("country", flat=True)) == sorted(
        [codes[0], codes[-1], "ES"]
    )


def test_a_national_phone_is_stored_in_e164_and_a_patch_reads_it_in_the_stored_country(
    signed_in, user
):
    client = signed_in(user)
    response = client.post(f"{API}/addresses/", {**ADDRESS, "phone": "612 34 56 78"})
    assert response.status_code == 201, response.content
    assert response.json()["phone"] == "+34612345678"
    address = Address.objects.get()
    response = client.patch(f"{API}/addresses/{address.pk}/", {"phone": "699 000 111"})
    assert response.json()["phone"] == "+34699000111"
    address.refresh_from_db()
    assert address.phone == "+34699000111"
