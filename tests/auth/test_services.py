"""The auth service's rules, called directly, and their behaviour under real concurrency."""

import threading

import pytest
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import connections
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken

from accounts.models import Address
from accounts.services import (
    address_create,
    address_update,
    refresh_tokens_revoke,
    token_logout,
    token_pair_obtain,
    token_pair_refresh,
    user_register,
    user_update,
)
from shopkit.errors import ApplicationError
from tests.auth.factories import PASSWORD, AddressFactory, UserFactory
from tests.support.databases import BOTH_DATABASES

pytestmark = pytest.mark.django_db(databases=BOTH_DATABASES)

STRONG = "Harbour-Kettle-19"


def test_user_register_stores_the_lower_case_email_as_username():
    user = user_register(email=" Ana@Example.COM ", password=STRONG, first_name="Ana")
    assert (user.username, user.email) == ("ana@example.com", "Ana@example.com")
    assert (user.is_staff, user.is_superuser, user.is_active) == (False, False, True)
    assert user.check_password(STRONG)


def test_user_register_refuses_a_password_like_the_names():
    with pytest.raises(ValidationError) as caught:
        user_register(
            email="zapatero@example.com",
            password="Zapatero2026",
            first_name="Valentina",
            last_name="Zapatero",
        )
    assert "password" in caught.value.message_dict
    assert not User.objects.exists()


def test_user_register_refuses_an_email_longer_than_the_username_column():
    with pytest.raises(ValidationError):
        user_register(email="a" * 140 + "@example.com", password=STRONG)


def test_user_update_keeps_username_in_step_with_email():
    user = UserFactory()
    user_update(user=user, email="New.Address@example.com")
    user.refresh_from_db()
    assert user.username == "new.address@example.com"


def test_user_update_to_the_same_email_in_another_case_is_allowed():
    user = UserFactory(email="ana@example.com", username="ana@example.com")
    user_update(user=user, email="ANA@example.com")
    user.refresh_from_db()
    assert (user.email, user.username) == ("ANA@example.com", "ana@example.com")


def test_token_pair_obtain_refuses_wrong_credentials():
    user = UserFactory()
    with pytest.raises(ApplicationError) as caught:
        token_pair_obtain(email=user.email, password="nope")
    assert (caught.value.status, caught.value.code) == (401, "invalid_credentials")


def test_token_logout_twice_is_refused_the_second_time():
    user = UserFactory()
    pair = token_pair_obtain(email=user.email, password=PASSWORD)
    token_logout(refresh=pair["refresh"])
    with pytest.raises(ApplicationError):
        token_logout(refresh=pair["refresh"])
    assert BlacklistedToken.objects.count() == 1


def test_refresh_tokens_revoke_skips_dead_tokens():
    user = UserFactory()
    pairs = [token_pair_obtain(email=user.email, password=PASSWORD) for _ in range(3)]
    token_logout(refresh=pairs[0]["refresh"])
    assert refresh_tokens_revoke(user=user) == 2
    assert refresh_tokens_revoke(user=user) == 0
    assert BlacklistedToken.objects.filter(token__user=user).count() == 3


def test_address_create_validates_before_writing():
    user = UserFactory()
    with pytest.raises(ValidationError) as caught:
        address_create(user=user, full_name="A", line1="B", city="C", postal_code="1", country="ZZ")
    assert "country" in caught.value.message_dict
    assert not Address.objects.exists()


def test_address_update_touches_only_address_fields():
    address = AddressFactory()
    with pytest.raises(ValueError):
        address_update(address=address, user_id=999)
    address_update(address=address, city="Bilbao")
    address.refresh_from_db()
    assert address.city == "Bilbao"


# --- under concurrency (separate connections, real MariaDB locking) ------------------------


def run_together(*calls):
    """Run the calls in parallel threads, released at once; returns results or exceptions."""
    barrier = threading.Barrier(len(calls))
    results = [None] * len(calls)

    def run(index, call):
        try:
            barrier.wait()
            results[index] = call()
        except Exception as exc:
            results[index] = exc
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(i, call)) for i, call in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


@pytest.mark.django_db(databases=BOTH_DATABASES, transaction=True)
def test_a_refresh_token_used_twice_at_once_rotates_exactly_once():
    user = UserFactory()
    refresh = token_pair_obtain(email=user.email, password=PASSWORD)["refresh"]

    results = run_together(*[lambda: token_pair_refresh(refresh=refresh)] * 4)

    pairs = [r for r in results if isinstance(r, dict)]
    refused = [r for r in results if isinstance(r, ApplicationError)]
    assert len(pairs) == 1, results
    assert len(refused) == 3 and {r.status for r in refused} == {401}
    assert OutstandingToken.objects.filter(user=user).count() == 2  # the first and its successor
    assert BlacklistedToken.objects.count() == 1


@pytest.mark.django_db(databases=BOTH_DATABASES, transaction=True)
def test_two_sign_ups_with_one_email_make_one_account():
    results = run_together(
        lambda: user_register(email="twin@example.com", password=STRONG),
        lambda: user_register(email="TWIN@example.com", password=STRONG),
    )
    assert sum(isinstance(r, User) for r in results) == 1, results
    errors = [r for r in results if isinstance(r, ApplicationError)]
    assert [e.code for e in errors] == ["email_taken"]
    assert User.objects.filter(username="twin@example.com").count() == 1
