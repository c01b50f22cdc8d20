"""The accounts back office: pages render, and the email stays the (unique) login."""

import pytest
from django.contrib.auth.models import User

from tests.auth.factories import AddressFactory, UserFactory
from tests.support.databases import BOTH_DATABASES

pytestmark = pytest.mark.django_db(databases=BOTH_DATABASES)

ADMIN = "/auth/admin"


@pytest.fixture
def admin_client(client):
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    return client


@pytest.mark.parametrize(
    "path",
    [
        "/auth/user/",
        "/auth/user/add/",
        "/auth/user/?q=example&is_staff__exact=1&is_active__exact=1",
        "/auth/group/",
        "/accounts/address/",
        "/accounts/address/?q=Madrid&country=ES",
    ],
)
def test_admin_pages_render(admin_client, path):
    AddressFactory()
    assert admin_client.get(ADMIN + path).status_code == 200


def test_user_change_page_shows_the_addresses(admin_client):
    address = AddressFactory(line1="Paseo del Prado 8")
    response = admin_client.get(f"{ADMIN}/auth/user/{address.user_id}/change/")
    assert response.status_code == 200
    assert "Paseo del Prado 8" in response.content.decode()


def test_search_finds_users_by_email(admin_client):
    UserFactory(email="findme@example.com", username="findme@example.com")
    response = admin_client.get(f"{ADMIN}/auth/user/?q=FINDME")
    assert "findme@example.com" in response.content.decode()


def test_adding_a_user_makes_the_email_the_login(admin_client):
    response = admin_client.post(
        f"{ADMIN}/auth/user/add/",
        {
            "email": "New.Staff@Example.com",
            "first_name": "Nuria",
            "last_name": "Vidal",
            "usable_password": "true",
            "password1": "Compass-Meadow-55",
            "password2": "Compass-Meadow-55",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    user = User.objects.get(username="new.staff@example.com")
    assert user.username == "new.staff@example.com"
    assert user.check_password("Compass-Meadow-55")


def test_admin_refuses_a_duplicate_email_in_another_case(admin_client):
    existing = UserFactory()
    response = admin_client.post(
        f"{ADMIN}/auth/user/add/",
        {
            "email": existing.email.upper(),
            "usable_password": "true",
            "password1": "Compass-Meadow-55",
            "password2": "Compass-Meadow-55",
        },
    )
    assert response.status_code == 200
    assert "already exists" in response.content.decode()
    assert User.objects.count() == 2  # the admin and the existing user


def test_changing_the_email_in_admin_changes_the_login(admin_client):
    user = UserFactory()
    response = admin_client.post(
        f"{ADMIN}/auth/user/{user.pk}/change/",
        {
            "email": "Renamed@Example.com",
            "first_name": user.first_name,
            "last_name": user.last_name,
            "is_active": "on",
            "date_joined_0": "2026-01-01",
            "date_joined_1": "10:00:00",
            "addresses-TOTAL_FORMS": "0",
            "addresses-INITIAL_FORMS": "0",
        },
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    user.refresh_from_db()
    assert (user.email, user.username) == ("Renamed@example.com", "renamed@example.com")


def test_user_change_page_links_to_the_customers_orders_and_addresses(admin_client):
    address = AddressFactory()
    user_id = address.user_id
    page = admin_client.get(f"{ADMIN}/auth/user/{user_id}/change/").content.decode()
    assert f'href="/orders/admin/orders/order/?user_id={user_id}"' in page
    assert f'href="{ADMIN}/accounts/address/?user__id__exact={user_id}"' in page


def test_user_list_links_each_user_to_their_orders(admin_client, django_assert_max_num_queries):
    users = UserFactory.create_batch(3)
    with django_assert_max_num_queries(8):  # the links cost no query per row
        page = admin_client.get(f"{ADMIN}/auth/user/").content.decode()
    for user in users:
        assert f'href="/orders/admin/orders/order/?user_id={user.pk}"' in page


def test_the_addresses_link_lists_that_customers_addresses_only(admin_client):
    theirs = AddressFactory(user=UserFactory(email="Ines@Example.com", username="ines@example.com"))
    AddressFactory(user=UserFactory(email="Other@Example.com", username="other@example.com"))
    response = admin_client.get(f"{ADMIN}/accounts/address/?user__id__exact={theirs.user_id}")
    assert response.status_code == 200
    assert [address.pk for address in response.context["cl"].result_list] == [theirs.pk]
    page = response.content.decode()
    assert "ines@example.com" in page
    assert "other@example.com" not in page


def test_addresses_are_edited_and_filtered_by_country_name(admin_client):
    AddressFactory(country="PT")
    page = admin_client.get(f"{ADMIN}/accounts/address/add/").content.decode()
    assert '<option value="ES">Spain</option>' in page
    listing = admin_client.get(f"{ADMIN}/accounts/address/").content.decode()
    assert "Portugal" in listing  # the country filter names the countries in use
