"""`manage.py seed_users`: the same rows however often it runs, groups with exact permissions."""

from io import StringIO

import pytest
from django.contrib.auth.models import Group, Permission, User
from django.contrib.contenttypes.models import ContentType
from django.core.management import CommandError, call_command
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken

from accounts.models import Address
from accounts.services import token_pair_obtain
from tests.support.databases import BOTH_DATABASES

pytestmark = pytest.mark.django_db(databases=BOTH_DATABASES)

CATALOG_PERMISSIONS = {
    f"{action}_{model}"
    for model in ("category", "product", "reservation", "reservationline", "taxrate")
    for action in ("add", "change", "delete", "view")
}
ORDER_PERMISSIONS = {
    f"{action}_{model}"
    for model in (
        "order",
        "orderline",
        "statuschange",
        "idempotencykey",
        "shippingzone",
        "shippingmethod",
        "shippingweighttier",
        "payment",
        "refund",
        "paymentevent",
    )
    for action in ("add", "change", "delete", "view")
}


def seed(*args, **env_overrides):
    out = StringIO()
    call_command("seed_users", *args, stdout=out)
    return out.getvalue()


@pytest.fixture
def superuser_env(monkeypatch):
    monkeypatch.delenv("DJANGO_SUPERUSER_EMAIL", raising=False)
    monkeypatch.delenv("DJANGO_SUPERUSER_PASSWORD", raising=False)
    return monkeypatch


def table_counts():
    return {
        "users": User.objects.count(),
        "groups": Group.objects.count(),
        "permissions": Permission.objects.count(),
        "content_types": ContentType.objects.count(),
        "addresses": Address.objects.count(),
        "group_permissions": Group.permissions.through.objects.count(),
        "memberships": User.groups.through.objects.count(),
    }


def codenames(group_name):
    group = Group.objects.get(name=group_name)
    return {
        (p.content_type.app_label, p.codename)
        for p in group.permissions.select_related("content_type")
    }


def test_seed_twice_gives_the_same_rows(superuser_env):
    seed("--dev", "--customers", "5")
    first = table_counts()
    admin = User.objects.get(username="admin@tienda.local")
    admin.set_password("changed-by-someone")
    admin.save()
    customer = User.objects.get(username="customer3@example.com")
    customer.is_staff = True
    customer.save()

    seed("--dev", "--customers", "5")
    assert table_counts() == first
    assert first["users"] == 1 + 2 + 5
    assert first["addresses"] == 5

    admin.refresh_from_db()
    assert admin.check_password("tienda-admin-2026")
    assert (admin.is_staff, admin.is_superuser) == (True, True)
    customer.refresh_from_db()
    assert customer.is_staff is False
    assert customer.check_password("tienda-demo-2026")


def test_groups_have_exactly_the_agreed_permissions(superuser_env):
    seed("--dev")
    assert codenames("Catalog managers") == {("catalog", c) for c in CATALOG_PERMISSIONS}
    assert codenames("Order managers") == {("orders", c) for c in ORDER_PERMISSIONS} | {
        ("carts", "view_cart"),
        ("carts", "view_cartline"),
        ("catalog", "view_product"),
        ("catalog", "view_category"),
        ("auth", "view_user"),
        ("accounts", "view_address"),
        ("outbox", "view_outboxmessage"),
        ("outbox", "change_outboxmessage"),
    }
    name = Permission.objects.get(content_type__app_label="orders", codename="add_statuschange")
    assert name.name == "Can add status change"  # Django's default wording


def test_demo_staff_are_staff_in_their_group_only(superuser_env, api_client):
    seed("--dev")
    catalog = User.objects.get(username="catalog@tienda.local")
    orders = User.objects.get(username="orders@tienda.local")
    assert (catalog.is_staff, catalog.is_superuser) == (True, False)
    assert list(catalog.groups.values_list("name", flat=True)) == ["Catalog managers"]
    assert list(orders.groups.values_list("name", flat=True)) == ["Order managers"]
    assert orders.has_perm("orders.change_order") and not orders.has_perm("catalog.add_product")

    response = api_client.post(
        "/api/v1/auth/token/", {"email": "catalog@tienda.local", "password": "tienda-staff-2026"}
    )
    assert response.status_code == 200


def test_demo_customers_are_deterministic_and_have_one_address(superuser_env):
    seed("--dev", "--customers", "3", "--customer-password", "Another-Secret-1")
    customers = User.objects.filter(username__startswith="customer").order_by("username")
    assert [c.username for c in customers] == [f"customer{n}@example.com" for n in (1, 2, 3)]
    for customer in customers:
        assert customer.check_password("Another-Secret-1")
        assert customer.addresses.count() == 1
        assert customer.addresses.get().country == "ES"


def test_production_needs_an_explicit_superuser_password(superuser_env, settings):
    settings.DEBUG = False
    with pytest.raises(CommandError, match="DJANGO_SUPERUSER_PASSWORD"):
        seed()
    assert not User.objects.exists()

    superuser_env.setenv("DJANGO_SUPERUSER_EMAIL", "Boss@Shop.example")
    superuser_env.setenv("DJANGO_SUPERUSER_PASSWORD", "Prod-Only-Secret-9")
    seed()
    boss = User.objects.get()  # no demo staff, no customers outside dev mode
    assert (boss.username, boss.is_superuser) == ("boss@shop.example", True)
    assert boss.check_password("Prod-Only-Secret-9")
    assert Group.objects.count() == 2


def test_production_refuses_demo_customers(superuser_env, settings):
    settings.DEBUG = False
    superuser_env.setenv("DJANGO_SUPERUSER_PASSWORD", "Prod-Only-Secret-9")
    with pytest.raises(CommandError, match="--dev"):
        seed("--customers", "3")
    assert not User.objects.exists()


def test_a_thousand_customers_take_a_bounded_number_of_queries(
    superuser_env, django_assert_max_num_queries
):
    with django_assert_max_num_queries(60):
        seed("--dev", "--customers", "1000")
    assert User.objects.filter(username__startswith="customer").count() == 1000
    assert Address.objects.count() == 1000
    with django_assert_max_num_queries(60):
        seed("--dev", "--customers", "1000")
    assert Address.objects.count() == 1000


def test_reseeding_signs_out_the_superuser_and_staff_but_not_demo_customers(
    superuser_env, api_client
):
    seed("--dev", "--customers", "2")
    superuser = token_pair_obtain(email="admin@tienda.local", password="tienda-admin-2026")
    staff = token_pair_obtain(email="catalog@tienda.local", password="tienda-staff-2026")
    customer = token_pair_obtain(email="customer1@example.com", password="tienda-demo-2026")

    seed("--dev", "--customers", "2")

    # Superuser and staff passwords were reset by save(): their sessions end. The demo
    # customers were reset by one bulk UPDATE (no signal); their password is public anyway.
    blacklisted = BlacklistedToken.objects.values_list("token__user__username", flat=True)
    assert sorted(blacklisted) == ["admin@tienda.local", "catalog@tienda.local"]
    refresh = "/api/v1/auth/token/refresh/"
    for signed_out in (superuser, staff):
        assert api_client.post(refresh, {"refresh": signed_out["refresh"]}).status_code == 401
    assert api_client.post(refresh, {"refresh": customer["refresh"]}).status_code == 200
