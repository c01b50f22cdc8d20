"""Support's read-only admin at /cart/admin/, and the guest-cart purge command."""

from datetime import timedelta
from io import StringIO

import pytest
from django.contrib.auth.models import Permission
from django.core.management import CommandError, call_command
from django.utils import timezone

from carts.models import Cart, CartLine
from tests.cart.factories import CartFactory, CartLineFactory, GuestCartFactory
from tests.support.databases import BOTH_DATABASES

pytestmark = pytest.mark.django_db(databases=BOTH_DATABASES)

CHANGELIST = "/cart/admin/carts/cart/"


@pytest.fixture
def support(client, django_user_model):
    """A staff member with only the view permissions "Order managers" get on carts."""
    user = django_user_model.objects.create_user(
        username="support", email="support@example.com", password="x", is_staff=True
    )
    user.user_permissions.set(
        Permission.objects.filter(
            content_type__app_label="carts", codename__in=["view_cart", "view_cartline"]
        )
    )
    client.force_login(user)
    return client


def test_support_sees_carts_with_owner_line_count_and_update_time(support):
    customer_cart = CartFactory(user_id=4242)
    CartLineFactory.create_batch(3, cart=customer_cart)
    GuestCartFactory()
    response = support.get(CHANGELIST)
    assert response.status_code == 200
    page = response.content.decode()
    assert "user 4242" in page and "guest" in page
    assert response.context["cl"].result_count == 2
    line_counts = {cart.pk: cart.line_count for cart in response.context["cl"].result_list}
    assert line_counts[customer_cart.pk] == 3


def test_carts_are_searchable_by_user_id_or_guest(support):
    wanted = CartFactory(user_id=4242)
    CartFactory(user_id=42)
    guest = GuestCartFactory()

    def found(term):
        results = support.get(CHANGELIST, {"q": term}).context["cl"].result_list
        return [cart.pk for cart in results]

    assert found("4242") == [wanted.pk]
    assert found("guest") == [guest.pk]
    assert found("nobody") == []


def test_the_cart_page_shows_its_lines_read_only(support):
    cart = CartFactory(user_id=4242)
    CartLineFactory(cart=cart, product_id=31337, quantity=6)
    response = support.get(f"{CHANGELIST}{cart.pk}/change/")
    assert response.status_code == 200
    page = response.content.decode()
    assert "31337" in page
    assert 'name="_save"' not in page  # nothing to save


def test_support_cannot_add_change_or_delete(support):
    cart = CartFactory(user_id=4242)
    CartLineFactory(cart=cart, quantity=2)
    before = list(CartLine.objects.values_list("pk", "quantity"))
    assert support.get(f"{CHANGELIST}add/").status_code == 403
    assert support.post(f"{CHANGELIST}{cart.pk}/delete/", {"post": "yes"}).status_code == 403
    assert support.post(f"{CHANGELIST}{cart.pk}/change/", {"version": 99}).status_code == 403
    assert Cart.objects.get(pk=cart.pk).version == 1
    assert list(CartLine.objects.values_list("pk", "quantity")) == before


def test_not_even_a_superuser_may_edit_carts_in_the_admin(admin_client):
    cart = CartFactory()
    assert admin_client.get(f"{CHANGELIST}add/").status_code == 403
    assert admin_client.post(f"{CHANGELIST}{cart.pk}/delete/", {"post": "yes"}).status_code == 403


def age(cart, days):
    Cart.objects.filter(pk=cart.pk).update(updated_at=timezone.now() - timedelta(days=days))


def test_purge_deletes_idle_guest_carts_only(settings):
    idle_guest = GuestCartFactory()
    CartLineFactory.create_batch(2, cart=idle_guest)
    fresh_guest = GuestCartFactory()
    idle_customer = CartFactory()
    age(idle_guest, 31)
    age(fresh_guest, 29)
    age(idle_customer, 400)
    out = StringIO()
    call_command("purge_guest_carts", "--older-than", "30", stdout=out)
    assert "Purged 1 guest cart" in out.getvalue()
    assert set(Cart.objects.values_list("pk", flat=True)) == {fresh_guest.pk, idle_customer.pk}
    assert not CartLine.objects.filter(cart_id=idle_guest.pk).exists()


def test_purge_works_in_batches(monkeypatch):
    monkeypatch.setattr("carts.services.PURGE_BATCH_SIZE", 2)
    for _ in range(5):
        age(GuestCartFactory(), 10)
    call_command("purge_guest_carts", "--older-than", "1", stdout=StringIO())
    assert not Cart.objects.exists()


@pytest.mark.parametrize("args", [[], ["--older-than", "-1"], ["--older-than", "x"]])
def test_purge_needs_a_sensible_age(args):
    GuestCartFactory()
    with pytest.raises((CommandError, SystemExit)):
        call_command("purge_guest_carts", *args, stdout=StringIO(), stderr=StringIO())
    assert Cart.objects.count() == 1
