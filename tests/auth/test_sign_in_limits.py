"""Issue 11.1: one set of failed sign-in counters for the API and the admin login,
X-Forwarded-For believed only from TRUSTED_PROXIES, and the answers that tell whether
an account exists (email change, sign-up) limited."""

import pytest
from django.test import Client

from tests.auth.factories import PASSWORD, StaffFactory, UserFactory
from tests.support.databases import BOTH_DATABASES

pytestmark = pytest.mark.django_db(databases=BOTH_DATABASES)

API = "/api/v1/auth"
ADMIN_LOGIN = "/auth/admin/login/"
TOO_MANY = "Too many failed sign-ins"


def api_sign_in(api_client, email, password=PASSWORD, **extra):
    return api_client.post(f"{API}/token/", {"email": email, "password": password}, **extra)


def admin_sign_in(client, email, password=PASSWORD, **extra):
    return client.post(
        ADMIN_LOGIN, {"username": email, "password": password, "next": "/auth/admin/"}, **extra
    )


@pytest.fixture
def staff():
    return StaffFactory(is_superuser=True)


def test_wrong_admin_passwords_lock_the_email_out_of_the_api(client, api_client, staff):
    for _ in range(5):  # THROTTLE_LOGIN_EMAIL_RATE: 5/min
        response = admin_sign_in(client, staff.email, "wrong")
        assert response.status_code == 200 and TOO_MANY not in response.content.decode()
    assert api_sign_in(api_client, staff.email).status_code == 429


def test_an_api_lockout_holds_in_the_admin_even_with_the_right_password(client, api_client, staff):
    for _ in range(5):
        assert api_sign_in(api_client, staff.email, "wrong").status_code == 401
    response = admin_sign_in(client, staff.email.upper())
    page = response.content.decode()
    assert response.status_code == 200  # the form again, not the redirect into the admin
    assert TOO_MANY in page and "try again in 1 minute" in page
    assert "_auth_user_id" not in client.session


def test_admin_failures_per_address_count_across_emails(client, api_client, staff):
    for n in range(20):  # THROTTLE_LOGIN_IP_RATE: 20/min
        admin_sign_in(client, f"guess{n}@example.com", "wrong")
    assert TOO_MANY in admin_sign_in(client, staff.email).content.decode()
    assert api_sign_in(api_client, staff.email).status_code == 429
    # Another address still gets in.
    assert admin_sign_in(Client(), staff.email, REMOTE_ADDR="10.4.4.4").status_code == 302


def test_a_right_admin_password_signs_in_and_counts_nothing(client, api_client, staff):
    for _ in range(6):
        assert admin_sign_in(Client(), staff.email).status_code == 302
    assert api_sign_in(api_client, staff.email).status_code == 200


def test_a_customer_with_the_right_password_is_refused_by_the_admin_but_not_counted(client):
    customer = UserFactory()
    for _ in range(6):
        response = admin_sign_in(client, customer.email)
        assert response.status_code == 200 and TOO_MANY not in response.content.decode()


def test_forwarded_for_from_an_untrusted_peer_is_ignored(api_client, staff):
    # A client on the service port rotating X-Forwarded-For: still one address.
    for n in range(20):
        response = api_sign_in(
            api_client,
            f"guess{n}@example.com",
            "wrong",
            REMOTE_ADDR="203.0.113.9",
            HTTP_X_FORWARDED_FOR=f"198.51.100.{n}",
        )
        assert response.status_code == 401
    response = api_sign_in(
        api_client, staff.email, REMOTE_ADDR="203.0.113.9", HTTP_X_FORWARDED_FOR="192.0.2.1"
    )
    assert response.status_code == 429


def test_forwarded_for_from_the_gateway_names_the_client(api_client, staff, settings):
    settings.TRUSTED_PROXIES = ["10.0.0.5/32"]
    for n in range(20):
        api_sign_in(
            api_client,
            f"guess{n}@example.com",
            "wrong",
            REMOTE_ADDR="10.0.0.5",
            # What the client sent, then what nginx appended: only the last hop counts.
            HTTP_X_FORWARDED_FOR=f"198.51.100.{n}, 203.0.113.7",
        )
    blocked = api_sign_in(
        api_client, staff.email, REMOTE_ADDR="10.0.0.5", HTTP_X_FORWARDED_FOR="203.0.113.7"
    )
    assert blocked.status_code == 429
    other_client = api_sign_in(
        api_client, staff.email, REMOTE_ADDR="10.0.0.5", HTTP_X_FORWARDED_FOR="203.0.113.8"
    )
    assert other_client.status_code == 200


# --- answers that tell whether an account exists ---------------------------------------


def test_email_changes_are_throttled_per_user(signed_in):
    user = UserFactory()
    taken = UserFactory()
    client = signed_in(user)
    for n in range(10):  # THROTTLE_EMAIL_CHANGE_RATE: 10/hour
        probe = taken.email if n % 2 else f"free{n}@example.com"
        assert client.patch(f"{API}/me/", {"email": probe}).status_code in (200, 400)
    response = client.patch(f"{API}/me/", {"email": taken.email})
    assert response.status_code == 429
    assert response.json()["code"] == "throttled"
    assert int(response["Retry-After"]) > 0
    user.refresh_from_db()
    assert user.email == "free8@example.com"  # the refused change changed nothing


def test_email_changes_are_throttled_per_address_across_users(signed_in):
    for _ in range(10):
        signed_in(UserFactory()).patch(f"{API}/me/", {"email": "x@example.com"})
    response = signed_in(UserFactory()).patch(f"{API}/me/", {"email": "y@example.com"})
    assert response.status_code == 429


def test_name_edits_are_not_throttled(signed_in):
    client = signed_in(UserFactory())
    for n in range(15):
        assert client.patch(f"{API}/me/", {"first_name": f"Ana{n}"}).status_code == 200


def test_duplicate_sign_ups_are_throttled_like_every_sign_up(api_client):
    taken = UserFactory()
    for _ in range(10):  # THROTTLE_REGISTER_RATE: 10/hour
        api_client.post(f"{API}/register/", {"email": taken.email, "password": "Xq7-long-pass"})
    response = api_client.post(
        f"{API}/register/", {"email": taken.email, "password": "Xq7-long-pass"}
    )
    assert response.status_code == 429
