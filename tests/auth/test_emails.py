"""Emails of accounts through the API: registration's verification link, email changes,
password reset (no enumeration, throttled, single use, expiring), the language."""

import re
import statistics
import time
from urllib.parse import parse_qs, urlsplit

import pytest
from django.contrib.auth.models import User
from django.core import mail
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken

from accounts.models import AccessRevocation, Profile
from accounts.tokens import AccessToken
from shopkit.outbox.models import OutboxMessage
from shopkit.outbox.services import outbox_deliver
from tests.auth.factories import PASSWORD, UserFactory
from tests.support.databases import BOTH_DATABASES
from tests.support.problems import assert_problem

pytestmark = pytest.mark.django_db(databases=BOTH_DATABASES)

API = "/api/v1/auth"
NEW_PASSWORD = "Orchard-Violin-77"
LINK = re.compile(r"https?://\S+")


def link_in(message: OutboxMessage) -> dict:
    [url] = LINK.findall(message.body_text.split("\n--\n")[0])
    parts = urlsplit(url)
    query = {key: values[0] for key, values in parse_qs(parts.query).items()}
    return {"path": parts.path, "origin": f"{parts.scheme}://{parts.netloc}", **query}


def only_message(kind: str) -> OutboxMessage:
    [message] = OutboxMessage.objects.filter(kind=kind)
    return message


def register(api_client, email="marta@example.com", **extra):
    response = api_client.post(
        f"{API}/register/", {"email": email, "password": NEW_PASSWORD, **extra}
    )
    assert response.status_code == 201, response.content
    return User.objects.get(pk=response.json()["id"])


# --- registration and verification --------------------------------------------------


def test_registration_queues_a_verification_link_that_works_once(api_client, settings):
    settings.STOREFRONT_URL = "https://shop.example/"
    user = register(api_client, first_name="Marta", language="en")
    message = only_message("accounts.welcome")
    assert message.recipients == ["marta@example.com"]
    assert (message.language, message.status) == ("en", "pending")
    assert message.subject == f"Welcome to {settings.SHOP_NAME}: please confirm your email"
    assert (
        "Hello Marta" in message.body_text
        and 'href="https://shop.example/verify' in message.body_html
    )
    link = link_in(message)
    assert (link["origin"], link["path"]) == ("https://shop.example", "/verify-email")
    assert Profile.objects.get(user=user).email_verified_at is None

    client = api_client
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {AccessToken.for_user(user)}")
    assert client.get(f"{API}/me/").json()["email_verified"] is False
    response = client.post(f"{API}/email/verify/", {"uid": link["uid"], "token": link["token"]})
    assert response.status_code == 204, response.content
    assert Profile.objects.get(user=user).email_verified_at is not None
    me = client.get(f"{API}/me/").json()
    assert (me["email_verified"], me["language"]) == (True, "en")
    token = AccessToken.for_user(User.objects.get(pk=user.pk))
    assert (token["email_verified"], token["language"]) == (True, "en")

    again = client.post(f"{API}/email/verify/", {"uid": link["uid"], "token": link["token"]})
    assert_problem(again, 400, "verification_link_invalid")


def test_registration_defaults_to_the_shops_language(api_client, settings):
    assert settings.SHOP_LANGUAGE == "es"
    user = register(api_client)
    assert Profile.objects.get(user=user).language == "es"
    assert only_message("accounts.welcome").subject.startswith("Bienvenido a")


def test_a_failed_registration_queues_nothing(api_client, user):
    response = api_client.post(f"{API}/register/", {"email": user.email, "password": NEW_PASSWORD})
    assert_problem(response, 400, "email_taken")
    response = api_client.post(
        f"{API}/register/", {"email": "x@example.com", "password": NEW_PASSWORD, "language": "fr"}
    )
    assert_problem(response, 400)
    assert not OutboxMessage.objects.exists()
    assert not User.objects.filter(email="x@example.com").exists()


@pytest.mark.parametrize(
    "body",
    [
        {"uid": "MQ", "token": "nope"},
        {"uid": "!!", "token": "a-b"},
        {"uid": "OTk5OTk5OTk5OTk5OTk5OTk5OTk5", "token": "a-b"},
        {"uid": "", "token": ""},
        {"uid": ["MQ"], "token": {"a": 1}},
        {"uid": "MQ" * 40, "token": "x" * 500},
        {},
    ],
)
def test_bad_verification_links_are_400_and_change_nothing(api_client, body):
    user = UserFactory()
    response = api_client.post(f"{API}/email/verify/", body, format="json")
    assert_problem(response, 400)
    assert not Profile.objects.filter(user=user, email_verified_at__isnull=False).exists()


def test_changing_the_email_unverifies_it_and_sends_a_new_link(signed_in, api_client):
    user = register(api_client)
    welcome = link_in(only_message("accounts.welcome"))
    api_client.post(f"{API}/email/verify/", {"uid": welcome["uid"], "token": welcome["token"]})
    client = signed_in(user)
    response = client.patch(f"{API}/me/", {"email": "new@example.com", "language": "en"})
    assert response.status_code == 200, response.content
    assert (response.json()["email_verified"], response.json()["language"]) == (False, "en")
    message = only_message("accounts.email_verification")
    assert message.recipients == ["new@example.com"] and message.language == "en"
    link = link_in(message)
    assert client.post(f"{API}/email/verify/", link).status_code == 204
    assert client.get(f"{API}/me/").json()["email_verified"] is True
    # The old address's link names an email the account no longer has.
    assert_problem(client.post(f"{API}/email/verify/", welcome), 400, "verification_link_invalid")


def test_me_changes_the_language_alone_without_any_email(signed_in, user):
    client = signed_in(user)
    response = client.patch(f"{API}/me/", {"language": "en"})
    assert response.status_code == 200
    assert response.json()["language"] == "en"
    assert Profile.objects.get(user=user).language == "en"
    assert not OutboxMessage.objects.exists()
    assert_problem(client.patch(f"{API}/me/", {"language": "de"}), 400)
    assert Profile.objects.get(user=user).language == "en"


def test_a_user_without_a_profile_reads_as_the_defaults(signed_in, user):
    me = signed_in(user).get(f"{API}/me/").json()
    assert (me["language"], me["email_verified"]) == ("es", False)
    token = AccessToken.for_user(user)
    assert (token["language"], token["email_verified"]) == ("es", False)


def test_staff_changing_an_email_in_the_admin_restarts_verification(admin_client, api_client):
    user = register(api_client)
    Profile.objects.filter(user=user).update(email_verified_at="2026-01-01T00:00:00Z")
    response = admin_client.post(
        f"/auth/admin/auth/user/{user.pk}/change/",
        {
            "email": "moved@example.com",
            "first_name": "",
            "last_name": "",
            "is_active": "on",
            "date_joined_0": "2026-01-01",
            "date_joined_1": "00:00:00",
            "addresses-TOTAL_FORMS": "0",
            "addresses-INITIAL_FORMS": "0",
        },
    )
    assert response.status_code == 302, response.content[:2000]
    assert Profile.objects.get(user=user).email_verified_at is None
    assert only_message("accounts.email_verification").recipients == ["moved@example.com"]


# --- password reset -------------------------------------------------------------------


def test_reset_answers_the_same_whether_or_not_the_account_exists(api_client):
    user = UserFactory()
    known = api_client.post(f"{API}/password/reset/", {"email": user.email.upper()})
    unknown = api_client.post(f"{API}/password/reset/", {"email": "nobody@example.com"})
    assert known.status_code == unknown.status_code == 202
    assert known.json() == unknown.json()
    assert known.headers["Content-Type"] == unknown.headers["Content-Type"]
    [message] = OutboxMessage.objects.all()  # one email: to the account's own address
    assert (message.kind, message.recipients) == ("accounts.password_reset", [user.email])


def test_reset_takes_the_same_time_whether_or_not_the_account_exists(api_client, settings):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {
            **settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"],
            "password_reset_email": None,
            "password_reset_ip": None,
        },
    }
    user = UserFactory()

    def timed(email):
        start = time.perf_counter()
        assert api_client.post(f"{API}/password/reset/", {"email": email}).status_code == 202
        return time.perf_counter() - start

    known, unknown = [], []
    for n in range(15):
        known.append(timed(user.email))
        unknown.append(timed(f"nobody{n}@example.com"))
    difference = abs(statistics.median(known) - statistics.median(unknown))
    assert difference < max(0.01, 0.5 * statistics.median(unknown)), (known, unknown)


def test_inactive_accounts_get_no_reset_email(api_client):
    user = UserFactory(is_active=False)
    assert api_client.post(f"{API}/password/reset/", {"email": user.email}).status_code == 202
    assert not OutboxMessage.objects.exists()


def test_reset_link_sets_the_password_once_and_signs_out_everywhere(api_client, settings):
    settings.STOREFRONT_URL = "https://shop.example"
    user = UserFactory()
    pair = api_client.post(f"{API}/token/", {"email": user.email, "password": PASSWORD}).json()
    api_client.post(f"{API}/password/reset/", {"email": user.email})
    message = only_message("accounts.password_reset")
    assert message.subject == f"{settings.SHOP_NAME}: restablece tu contraseña"
    assert "60 minutos" in message.body_text
    link = link_in(message)
    assert (link["origin"], link["path"]) == ("https://shop.example", "/password-reset")

    weak = {"uid": link["uid"], "token": link["token"], "new_password": "123"}
    body = assert_problem(api_client.post(f"{API}/password/reset/confirm/", weak), 400)
    assert "new_password" in body["errors"]
    assert User.objects.get(pk=user.pk).check_password(PASSWORD)  # validators ran, nothing set

    good = {**weak, "new_password": NEW_PASSWORD}
    assert api_client.post(f"{API}/password/reset/confirm/", good).status_code == 204
    user.refresh_from_db()
    assert user.check_password(NEW_PASSWORD)
    live = OutstandingToken.objects.filter(user=user, blacklistedtoken__isnull=True)
    assert not live.exists() and BlacklistedToken.objects.filter(token__user=user).exists()
    assert AccessRevocation.objects.filter(user_id=user.pk).exists()
    refresh = api_client.post(f"{API}/token/refresh/", {"refresh": pair["refresh"]})
    assert refresh.status_code == 401
    assert Profile.objects.get(user=user).email_verified_at is not None  # the mailbox is theirs

    again = {**good, "new_password": "Another-Lantern-88"}
    assert_problem(
        api_client.post(f"{API}/password/reset/confirm/", again), 400, "reset_link_invalid"
    )
    user.refresh_from_db()
    assert user.check_password(NEW_PASSWORD)
    signed = api_client.post(f"{API}/token/", {"email": user.email, "password": NEW_PASSWORD})
    assert signed.status_code == 200


def test_a_reset_link_expires(api_client, settings):
    user = UserFactory()
    api_client.post(f"{API}/password/reset/", {"email": user.email})
    link = link_in(only_message("accounts.password_reset"))
    settings.PASSWORD_RESET_TIMEOUT = -1  # every link is older than that
    body = {"uid": link["uid"], "token": link["token"], "new_password": NEW_PASSWORD}
    assert_problem(
        api_client.post(f"{API}/password/reset/confirm/", body), 400, "reset_link_invalid"
    )
    assert User.objects.get(pk=user.pk).check_password(PASSWORD)


def test_a_verification_link_cannot_reset_a_password(api_client):
    user = register(api_client)
    link = link_in(only_message("accounts.welcome"))
    body = {"uid": link["uid"], "token": link["token"], "new_password": "Another-Lantern-88"}
    assert_problem(
        api_client.post(f"{API}/password/reset/confirm/", body), 400, "reset_link_invalid"
    )
    assert User.objects.get(pk=user.pk).check_password(NEW_PASSWORD)


def test_reset_requests_are_throttled_per_email_and_per_address(api_client, settings):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {
            **settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"],
            "password_reset_email": "2/hour",
            "password_reset_ip": "4/hour",
        },
    }
    user = UserFactory()
    for _ in range(2):
        assert api_client.post(f"{API}/password/reset/", {"email": user.email}).status_code == 202
    response = api_client.post(f"{API}/password/reset/", {"email": user.email.upper()})
    assert_problem(response, 429)
    assert int(response["Retry-After"]) > 0
    assert OutboxMessage.objects.count() == 2
    # Another email from the same address: counted per address too.
    assert api_client.post(f"{API}/password/reset/", {"email": "b@example.com"}).status_code == 202
    assert_problem(api_client.post(f"{API}/password/reset/", {"email": "c@example.com"}), 429)
    other = api_client.post(
        f"{API}/password/reset/", {"email": "d@example.com"}, REMOTE_ADDR="203.0.113.9"
    )
    assert other.status_code == 202


@pytest.mark.parametrize(
    "body", [{}, {"email": "not-an-email"}, {"email": ["a@example.com"]}, {"email": "a" * 300}]
)
def test_bad_reset_requests_are_400(api_client, body):
    assert_problem(api_client.post(f"{API}/password/reset/", body, format="json"), 400)
    assert not OutboxMessage.objects.exists()


def test_reset_emails_arrive_through_the_sender(api_client):
    user = UserFactory()
    Profile.objects.create(user=user, language="en")
    api_client.post(f"{API}/password/reset/", {"email": user.email})
    assert outbox_deliver().sent == 1
    [sent] = mail.outbox
    assert sent.to == [user.email]
    assert sent.subject.endswith("reset your password")
    assert "/password-reset?uid=" in sent.body
    assert "Choose a new password" in sent.alternatives[0].content


def test_reset_does_the_same_queries_whether_or_not_the_account_exists(
    api_client, django_assert_max_num_queries
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    user = UserFactory()

    def statements(email) -> list[str]:
        with CaptureQueriesContext(connection) as captured:
            assert api_client.post(f"{API}/password/reset/", {"email": email}).status_code == 202
        return [q["sql"].split()[0].upper() for q in captured.captured_queries]

    known, unknown = statements(user.email), statements("nobody@example.com")
    # The same reads and transaction; the known one adds only the outbox insert.
    assert [s for s in known if s == "SELECT"] == [s for s in unknown if s == "SELECT"]
    assert sorted(set(known) - set(unknown)) == ["INSERT"]
    with django_assert_max_num_queries(8):
        api_client.post(f"{API}/password/reset/", {"email": user.email})
