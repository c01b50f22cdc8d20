"""The accounts admin and the API, driven side by side: the same rules, the same refusals.

Each pair sends the same bad input through the API and through the admin and checks
that both refuse it on the same field with nothing saved (and that a good input is
stored the same way by both).
"""

import pytest
from django.contrib.auth.models import User

from accounts import admin as accounts_admin
from accounts.models import Address
from accounts.services import ADDRESS_LIMIT_PER_USER
from shopkit.address import ADDRESS_FIELDS, PHONE_MESSAGE
from tests.auth.factories import PASSWORD, AddressFactory, UserFactory
from tests.auth.test_apis import assert_problem
from tests.auth.test_signals import change_form
from tests.support.addresses import ADDRESS as SAVED_ADDRESS
from tests.support.databases import BOTH_DATABASES

pytestmark = pytest.mark.django_db(databases=BOTH_DATABASES)

API = "/api/v1/auth"
ADMIN = "/auth/admin"
NEW_PASSWORD = "Compass-Meadow-55"
# 150 characters, the username's limit, but its lower case is longer: "İ".lower() is
# two characters. A valid email that must not become a login.
LENGTHENING_EMAIL = "a" * 60 + "@" + "İ" * 20 + "b" * 40 + "." + "c" * 16 + ".example.com"
TOO_LONG_EMAIL = "a" * 60 + "@" + "b" * 60 + "." + "c" * 25 + ".example.com"  # 159
LIMIT_MESSAGE = f"At most {ADDRESS_LIMIT_PER_USER} addresses per account; delete one first."
# A national phone: both sides read it in the address's country and keep it in E.164.
ADDRESS = {**SAVED_ADDRESS, "line2": "", "region": "", "country": "ES", "phone": "612 345 678"}


@pytest.fixture
def admin_client(client):
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    return client


def form_errors(response) -> dict[str, list[str]]:
    """The admin page's form errors per field ("__all__" for the form's own)."""
    assert response.status_code == 200, response.status_code
    form = response.context["adminform"].form
    return {name: list(errors) for name, errors in form.errors.items()}


def inline_errors(response) -> list:
    """The address inline's errors: the formset's own, then each form's."""
    assert response.status_code == 200, response.status_code
    (formset,) = response.context["inline_admin_formsets"]
    return [*formset.formset.non_form_errors(), *formset.formset.errors]


def admin_add_user(client, email):
    return client.post(
        f"{ADMIN}/auth/user/add/",
        {
            "email": email,
            "usable_password": "true",
            "password1": NEW_PASSWORD,
            "password2": NEW_PASSWORD,
        },
    )


def user_change_data(user, addresses=(), new=()) -> dict:
    """The user change form as the admin posts it, with the address inline."""
    data = change_form(
        user,
        **{
            "addresses-TOTAL_FORMS": str(len(addresses) + len(new)),
            "addresses-INITIAL_FORMS": str(len(addresses)),
        },
    )
    for index, (address, delete) in enumerate(addresses):
        data |= {f"addresses-{index}-{name}": getattr(address, name) for name in ADDRESS_FIELDS}
        data |= {f"addresses-{index}-id": address.pk, f"addresses-{index}-user": user.pk}
        if delete:
            data[f"addresses-{index}-DELETE"] = "on"
    for index, fields in enumerate(new, start=len(addresses)):
        data |= {f"addresses-{index}-{name}": value for name, value in fields.items()}
        data[f"addresses-{index}-user"] = user.pk
    return data


def snapshot():
    return (
        sorted(User.objects.values_list("pk", "username", "email")),
        sorted(Address.objects.values_list("pk", "user_id", *ADDRESS_FIELDS)),
    )


# --- the email rule ---------------------------------------------------------------------


@pytest.mark.parametrize("email", [LENGTHENING_EMAIL, TOO_LONG_EMAIL], ids=["lengthening", "long"])
def test_an_email_too_long_for_a_login_is_refused_by_both(api_client, admin_client, email):
    before = snapshot()

    response = api_client.post(f"{API}/register/", {"email": email, "password": PASSWORD})
    assert "email" in assert_problem(response, 400, "invalid")["errors"]
    errors = form_errors(admin_add_user(admin_client, email))
    assert list(errors) == ["email"]

    assert snapshot() == before


@pytest.mark.parametrize("email", [LENGTHENING_EMAIL, TOO_LONG_EMAIL], ids=["lengthening", "long"])
def test_changing_to_an_email_too_long_for_a_login_is_refused_by_both(
    signed_in, admin_client, email
):
    user = UserFactory()
    before = snapshot()

    response = signed_in(user).patch(f"{API}/me/", {"email": email})
    assert "email" in assert_problem(response, 400, "invalid")["errors"]
    response = admin_client.post(
        f"{ADMIN}/auth/user/{user.pk}/change/", {**user_change_data(user), "email": email}
    )
    assert list(form_errors(response)) == ["email"]

    assert snapshot() == before


def test_the_service_refuses_the_lengthening_email_with_one_message(signed_in, admin_client):
    """Past the serializer's own length check, API and admin share the service's words."""
    user = UserFactory()
    response = signed_in(user).patch(f"{API}/me/", {"email": LENGTHENING_EMAIL})
    api_messages = assert_problem(response, 400, "invalid")["errors"]["email"]
    response = admin_client.post(
        f"{ADMIN}/auth/user/{user.pk}/change/",
        {**user_change_data(user), "email": LENGTHENING_EMAIL},
    )
    assert form_errors(response)["email"] == api_messages == ["At most 150 characters."]


def test_an_email_taken_in_another_case_is_refused_by_both(api_client, admin_client):
    existing = UserFactory(email="Taken@Example.com", username="taken@example.com")
    before = snapshot()

    response = api_client.post(
        f"{API}/register/", {"email": "TAKEN@example.COM", "password": PASSWORD}
    )
    api_messages = assert_problem(response, 400, "email_taken")["errors"]["email"]
    errors = form_errors(admin_add_user(admin_client, "tAkEn@example.com"))
    assert errors == {"email": api_messages}

    assert snapshot() == before
    assert User.objects.get(username="taken@example.com") == existing


def test_changing_to_an_email_taken_in_another_case_is_refused_by_both(signed_in, admin_client):
    UserFactory(email="Taken@Example.com", username="taken@example.com")
    user = UserFactory()
    before = snapshot()

    response = signed_in(user).patch(f"{API}/me/", {"email": "TAKEN@EXAMPLE.COM"})
    api_messages = assert_problem(response, 400, "email_taken")["errors"]["email"]
    response = admin_client.post(
        f"{ADMIN}/auth/user/{user.pk}/change/",
        {**user_change_data(user), "email": "taken@EXAMPLE.com"},
    )
    assert form_errors(response) == {"email": api_messages}

    assert snapshot() == before


# --- the address limit ------------------------------------------------------------------


@pytest.fixture
def full_user():
    user = UserFactory()
    AddressFactory.create_batch(ADDRESS_LIMIT_PER_USER, user=user)
    return user


def test_the_address_limit_holds_in_the_api_the_address_admin_and_the_inline(
    signed_in, admin_client, full_user
):
    before = snapshot()

    response = signed_in(full_user).post(f"{API}/addresses/", ADDRESS)
    assert assert_problem(response, 400, "address_limit_reached")["detail"] == LIMIT_MESSAGE

    response = admin_client.post(
        f"{ADMIN}/accounts/address/add/", {**ADDRESS, "user": full_user.pk}
    )
    assert form_errors(response) == {"__all__": [LIMIT_MESSAGE]}

    kept = [(address, False) for address in full_user.addresses.all()]
    response = admin_client.post(
        f"{ADMIN}/auth/user/{full_user.pk}/change/",
        user_change_data(full_user, addresses=kept, new=[ADDRESS]),
    )
    assert LIMIT_MESSAGE in inline_errors(response)

    assert snapshot() == before
    assert full_user.addresses.count() == ADDRESS_LIMIT_PER_USER


def test_at_the_limit_both_may_replace_an_address(signed_in, admin_client, full_user):
    first, second, *rest = full_user.addresses.all()
    client = signed_in(full_user)
    assert client.delete(f"{API}/addresses/{first.pk}/").status_code == 204
    assert client.post(f"{API}/addresses/", ADDRESS).status_code == 201

    addresses = [(second, True), *((address, False) for address in rest)]
    new = {**ADDRESS, "line1": "Calle Alcalá 2"}
    response = admin_client.post(
        f"{ADMIN}/auth/user/{full_user.pk}/change/",
        user_change_data(full_user, addresses=addresses, new=[new]),
    )
    assert response.status_code == 302, inline_errors(response)

    assert full_user.addresses.count() == ADDRESS_LIMIT_PER_USER
    assert not Address.objects.filter(pk__in=[first.pk, second.pk]).exists()
    assert set(full_user.addresses.values_list("line1", flat=True)) >= {
        "Gran Vía 1",
        "Calle Alcalá 2",
    }


def test_a_limit_reached_between_form_check_and_save_is_a_message_not_a_500(
    admin_client, full_user, monkeypatch
):
    """A parallel write can fill the last place after the form was checked: the
    service's check under the lock refuses, the admin says so and saves nothing."""
    monkeypatch.setattr(accounts_admin, "address_room_check", lambda **kwargs: None)
    before = snapshot()

    response = admin_client.post(
        f"{ADMIN}/accounts/address/add/", {**ADDRESS, "user": full_user.pk}, follow=True
    )
    assert response.redirect_chain[0][1] == 302
    assert [str(message) for message in response.context["messages"]] == [LIMIT_MESSAGE]

    kept = [(address, False) for address in full_user.addresses.all()]
    response = admin_client.post(
        f"{ADMIN}/auth/user/{full_user.pk}/change/",
        user_change_data(full_user, addresses=kept, new=[ADDRESS]),
        follow=True,
    )
    assert [str(message) for message in response.context["messages"]] == [LIMIT_MESSAGE]

    assert snapshot() == before


# --- the address itself ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"phone": "call me"}, "phone"),
        ({"phone": "+1 555 0100"}, "phone"),
        ({"country": "XX"}, "country"),
        ({"postal_code": ""}, "postal_code"),
        ({"full_name": "x" * 151}, "full_name"),
    ],
    ids=["phone-text", "phone-no-such-number", "country", "postal-code", "long-name"],
)
def test_an_invalid_address_is_refused_by_the_api_the_admin_and_the_inline(
    signed_in, admin_client, change, field
):
    user = UserFactory()
    bad = {**ADDRESS, **change}
    before = snapshot()

    response = signed_in(user).post(f"{API}/addresses/", bad)
    assert field in assert_problem(response, 400, "invalid")["errors"]
    response = admin_client.post(f"{ADMIN}/accounts/address/add/", {**bad, "user": user.pk})
    assert list(form_errors(response)) == [field]
    response = admin_client.post(
        f"{ADMIN}/auth/user/{user.pk}/change/", user_change_data(user, new=[bad])
    )
    assert [list(errors) for errors in inline_errors(response)] == [[field]]

    assert snapshot() == before


def test_the_phone_message_is_the_same_in_the_api_and_the_admin(signed_in, admin_client):
    user = UserFactory()
    response = signed_in(user).post(f"{API}/addresses/", {**ADDRESS, "phone": "call me"})
    api_messages = assert_problem(response, 400, "invalid")["errors"]["phone"]
    response = admin_client.post(
        f"{ADMIN}/accounts/address/add/", {**ADDRESS, "phone": "call me", "user": user.pk}
    )
    assert form_errors(response)["phone"] == api_messages == [PHONE_MESSAGE]


def test_both_store_a_good_address_the_same_way(signed_in, admin_client):
    through_api, through_admin, through_inline = UserFactory.create_batch(3)

    assert signed_in(through_api).post(f"{API}/addresses/", ADDRESS).status_code == 201
    response = admin_client.post(
        f"{ADMIN}/accounts/address/add/", {**ADDRESS, "user": through_admin.pk}
    )
    assert response.status_code == 302, form_errors(response)
    response = admin_client.post(
        f"{ADMIN}/auth/user/{through_inline.pk}/change/",
        user_change_data(through_inline, new=[ADDRESS]),
    )
    assert response.status_code == 302, inline_errors(response)

    stored = [
        Address.objects.filter(user=user).values(*ADDRESS_FIELDS).get()
        for user in (through_api, through_admin, through_inline)
    ]
    assert stored[0] == stored[1] == stored[2]
    assert stored[0]["phone"] == "+34612345678"


def test_an_address_stays_with_its_user_in_the_admin(admin_client):
    address = AddressFactory()
    other = UserFactory()
    response = admin_client.post(
        f"{ADMIN}/accounts/address/{address.pk}/change/",
        {**{name: getattr(address, name) for name in ADDRESS_FIELDS}, "user": other.pk},
    )
    assert response.status_code == 302
    address.refresh_from_db()
    assert address.user_id != other.pk
