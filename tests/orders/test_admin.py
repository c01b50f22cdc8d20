"""The staff back-office: read-only orders, actions through the same services as the API."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.contrib.auth.models import Permission, User
from django.utils import timezone

from orders.models import Order, OrderStatus, ShippingMethod, ShippingZone
from tests.orders.api import CUSTOMER_ID, OTHER_CUSTOMER_ID, checkout
from tests.orders.factories import OrderFactory, OrderLineFactory
from tests.support.databases import BOTH_DATABASES

pytestmark = pytest.mark.django_db(databases=BOTH_DATABASES)

CHANGELIST = "/orders/admin/orders/order/"
# ecommerce_db queries of the order list: counts, page, date hierarchy; +1 names the customer.
CHANGELIST_QUERY_BUDGET = 5
CUSTOMER_CHANGELIST_QUERY_BUDGET = CHANGELIST_QUERY_BUDGET + 1
CUSTOMER_FILTER = 'data-filter-title="customer"'


@pytest.fixture
def admin_user():
    return User.objects.create_superuser("boss", "boss@example.com", "pw-not-used")


@pytest.fixture
def admin_client(client, admin_user):
    client.force_login(admin_user)
    return client


def act(client, action, *orders):
    return client.post(
        CHANGELIST,
        {"action": action, "_selected_action": [order.pk for order in orders]},
        follow=True,
    )


def test_the_list_shows_number_customer_status_total(admin_client):
    order = OrderFactory(email="ada@example.com", user_id=CUSTOMER_ID)
    page = admin_client.get(CHANGELIST).content.decode()
    for shown in [order.number, "ada@example.com", "Pending", "24.20"]:
        assert shown in page


def test_search_by_number_email_and_sku(admin_client):
    wanted = OrderFactory(email="ada@example.com", line=None)
    OrderLineFactory(order=wanted, sku="RED-MUG-1")
    other = OrderFactory(email="bob@example.com")
    for term in [wanted.number, "ada@", "RED-MUG"]:
        page = admin_client.get(CHANGELIST, {"q": term}).content.decode()
        assert wanted.number in page and other.number not in page, term


def test_filter_by_status_and_date(admin_client):
    shipped = OrderFactory(status="shipped")
    pending = OrderFactory()
    page = admin_client.get(CHANGELIST, {"status__exact": "shipped"}).content.decode()
    assert shipped.number in page and pending.number not in page
    assert (
        admin_client.get(CHANGELIST, {"created_at__gte": "2000-01-01 00:00:00+00:00"}).status_code
        == 200
    )


def test_the_detail_shows_lines_and_history_and_nothing_is_editable(admin_client):
    order = OrderFactory(user_id=CUSTOMER_ID)
    url = f"{CHANGELIST}{order.pk}/change/"
    page = admin_client.get(url).content.decode()
    assert order.lines.get().sku in page
    assert "Order placed." in page  # the history inline
    assert f'href="/auth/admin/auth/user/{CUSTOMER_ID}/change/"' in page
    assert 'name="_save"' not in page
    assert 'name="total"' not in page and 'name="status"' not in page

    admin_client.post(url, {"total": "0.01", "status": "delivered"})
    order.refresh_from_db()
    assert (str(order.total), order.status) == ("24.20", OrderStatus.PENDING)


def test_the_detail_names_the_shipping_country(admin_client):
    order = OrderFactory(user_id=CUSTOMER_ID, country="DE")
    page = admin_client.get(f"{CHANGELIST}{order.pk}/change/").content.decode()
    assert "Germany" in page


def test_orders_cannot_be_added_or_deleted_in_the_admin(admin_client):
    order = OrderFactory()
    assert admin_client.get(f"{CHANGELIST}add/").status_code == 403
    assert admin_client.post(f"{CHANGELIST}{order.pk}/delete/", {"post": "yes"}).status_code == 403
    assert Order.objects.filter(pk=order.pk).exists()


def ship(client, tracking: dict):
    """The ship action's second step: the intermediate form sent back, per order."""
    data = {
        "action": "mark_shipped",
        "apply": "1",
        "_selected_action": list(tracking),
        "ship-TOTAL_FORMS": str(len(tracking)),
        "ship-INITIAL_FORMS": str(len(tracking)),
    }
    for index, (order_id, (carrier, number)) in enumerate(tracking.items()):
        data |= {
            f"ship-{index}-order_id": order_id,
            f"ship-{index}-carrier": carrier,
            f"ship-{index}-tracking_number": number,
        }
    return client.post(CHANGELIST, data, follow=True)


def test_actions_move_orders_and_record_the_staff_member(admin_client, admin_user):
    order = OrderFactory()
    for action, status in [
        ("mark_confirmed", "confirmed"),
        ("mark_processing", "processing"),
        ("mark_shipped", "shipped"),
        ("mark_delivered", "delivered"),
    ]:
        if action == "mark_shipped":
            ship(admin_client, {order.pk: ("GLS", "GLS-1")})
        else:
            act(admin_client, action, order)
        order.refresh_from_db()
        assert order.status == status
    assert set(order.history.exclude(from_status=None).values_list("by_user_id", flat=True)) == {
        admin_user.pk
    }


def test_an_action_refused_by_the_machine_changes_nothing_and_says_why(admin_client):
    order = OrderFactory()
    page = act(admin_client, "mark_delivered", order).content.decode()
    order.refresh_from_db()
    assert order.status == OrderStatus.PENDING
    assert "cannot go from pending to delivered" in page


def test_the_cancel_action_gives_the_stock_back(admin_client, admin_user, customer, neighbours):
    neighbours.add_product(1, stock=4)
    neighbours.fill_cart(CUSTOMER_ID, {1: 4})
    order = Order.objects.get(pk=checkout(customer).json()["id"])
    assert neighbours.stock(1) == 0

    act(admin_client, "mark_cancelled", order)

    order.refresh_from_db()
    assert order.status == OrderStatus.CANCELLED
    assert neighbours.stock(1) == 4
    assert order.history.last().by_user_id == admin_user.pk


def test_staff_who_may_only_view_get_no_actions(client):
    viewer = User.objects.create_user("viewer", "viewer@example.com", "pw", is_staff=True)
    viewer.user_permissions.add(Permission.objects.get(codename="view_order"))
    client.force_login(viewer)
    order = OrderFactory()
    assert client.get(CHANGELIST).status_code == 200
    act(client, "mark_confirmed", order)
    order.refresh_from_db()
    assert order.status == OrderStatus.PENDING


# --- one customer's orders (the user admin's "See orders" link: ?user_id=<id>) -------------


def listed(response):
    assert response.status_code == 200
    return {order.number for order in response.context["cl"].result_list}


def customer_filter_choices(response):
    """The customer filter's sidebar entries: (label, selected)."""
    changelist = response.context["cl"]
    (customer,) = [spec for spec in changelist.filter_specs if spec.title == "customer"]
    return [(choice["display"], choice["selected"]) for choice in customer.choices(changelist)]


def test_the_customer_filter_lists_their_orders_and_names_them_by_their_latest_email(
    admin_client,
):
    older = OrderFactory(user_id=CUSTOMER_ID, email="ada.old@example.com")
    latest = OrderFactory(user_id=CUSTOMER_ID, email="ada@example.com")
    Order.objects.filter(pk=older.pk).update(created_at=timezone.now() - timedelta(days=30))
    other = OrderFactory(user_id=OTHER_CUSTOMER_ID, email="bob@example.com")

    response = admin_client.get(CHANGELIST, {"user_id": CUSTOMER_ID})

    assert listed(response) == {older.number, latest.number}
    assert customer_filter_choices(response) == [
        ("All", False),  # clears it
        (f"#{CUSTOMER_ID} ada@example.com", True),
    ]
    page = response.content.decode()
    assert f"#{CUSTOMER_ID} ada@example.com" in page
    assert other.number not in page and "bob@example.com" not in page


def test_without_a_customer_the_filter_is_not_shown(admin_client):
    order = OrderFactory(user_id=CUSTOMER_ID)
    response = admin_client.get(CHANGELIST)
    assert listed(response) == {order.number}
    assert CUSTOMER_FILTER not in response.content.decode()


@pytest.mark.parametrize("user_id", ["999", "9" * 40], ids=["unknown", "beyond-any-id"])
def test_a_customer_without_orders_gets_an_empty_list_and_a_filter_to_clear(admin_client, user_id):
    OrderFactory(user_id=CUSTOMER_ID)
    response = admin_client.get(CHANGELIST, {"user_id": user_id})
    assert listed(response) == set()
    assert customer_filter_choices(response) == [("All", False), (f"#{user_id} (no orders)", True)]


@pytest.mark.parametrize("value", ["abc", "-1", "7abc", " 7", "", "\u0667"])
def test_a_customer_id_that_is_not_a_number_matches_nothing(admin_client, value):
    OrderFactory(user_id=CUSTOMER_ID)
    response = admin_client.get(CHANGELIST, {"user_id": value})
    assert listed(response) == set()
    # Shown, so that "All" clears it.
    assert customer_filter_choices(response) == [("All", False), ("not a customer number", True)]
    assert CUSTOMER_FILTER in response.content.decode()


def test_the_order_list_costs_the_same_queries_however_many_orders(
    admin_client, django_assert_max_num_queries
):
    for n in range(12):
        OrderFactory(user_id=CUSTOMER_ID if n % 2 else OTHER_CUSTOMER_ID)
    with django_assert_max_num_queries(CHANGELIST_QUERY_BUDGET, using="ecommerce"):
        assert len(listed(admin_client.get(CHANGELIST))) == 12
    with django_assert_max_num_queries(CUSTOMER_CHANGELIST_QUERY_BUDGET, using="ecommerce"):
        assert len(listed(admin_client.get(CHANGELIST, {"user_id": CUSTOMER_ID}))) == 6


def test_the_ship_action_asks_for_carrier_and_tracking_number(admin_client, admin_user):
    first = OrderFactory(status="processing", shipping_carrier="Correos")
    second = OrderFactory(status="processing")

    page = act(admin_client, "mark_shipped", first, second).content.decode()
    assert "Each order needs the carrier and the tracking number" in page
    assert first.number in page and second.number in page
    assert 'value="Correos"' in page  # the method's carrier, to confirm or change
    for order in (first, second):
        order.refresh_from_db()
        assert order.status == OrderStatus.PROCESSING  # nothing happens before the form

    # A missing tracking number: the form again, with the error, and nothing shipped.
    page = ship(admin_client, {first.pk: ("Correos", "C-1"), second.pk: ("SEUR", "")})
    assert "This field is required." in page.content.decode()
    assert set(Order.objects.values_list("status", flat=True)) == {OrderStatus.PROCESSING}

    page = ship(admin_client, {first.pk: ("Correos", "C-1"), second.pk: ("SEUR", "S-2")})
    assert "2 order(s) now shipped" in page.content.decode()
    for order, carrier, number in ((first, "Correos", "C-1"), (second, "SEUR", "S-2")):
        order.refresh_from_db()
        assert (order.status, order.tracking_carrier, order.tracking_number) == (
            OrderStatus.SHIPPED,
            carrier,
            number,
        )
        change = order.history.last()
        assert (change.to_status, change.by_user_id) == (OrderStatus.SHIPPED, admin_user.pk)
        assert f"Shipped with {carrier}, tracking number {number}." in change.note


def test_staff_manage_shipping_methods_in_the_admin(admin_client):
    zone_page = admin_client.post(
        "/orders/admin/orders/shippingzone/add/", {"name": "Iberia", "countries": '["PT", "ES"]'}
    )
    assert zone_page.status_code == 302
    zone = ShippingZone.objects.get(name="Iberia")
    assert zone.countries == ["ES", "PT"]
    bad = admin_client.post(
        "/orders/admin/orders/shippingzone/add/", {"name": "Nowhere", "countries": '["XX"]'}
    )
    assert bad.status_code == 200 and not ShippingZone.objects.filter(name="Nowhere").exists()

    response = admin_client.post(
        "/orders/admin/orders/shippingmethod/add/",
        {
            "code": "parcel",
            "name": "Parcel",
            "carrier": "GLS",
            "is_active": "on",
            "zones": [zone.pk],
            "estimated_days_min": "2",
            "estimated_days_max": "4",
            "rate_kind": "weight",
            "flat_price": "0",
            "free_above": "",
            "tax_mode": "highest_in_cart",
            "tax_rate": "0",
            "tiers-TOTAL_FORMS": "2",
            "tiers-INITIAL_FORMS": "0",
            "tiers-0-max_weight": "2",
            "tiers-0-price": "4.50",
            "tiers-1-max_weight": "10",
            "tiers-1-price": "9.90",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    method = ShippingMethod.objects.get(code="parcel")
    assert list(method.zones.all()) == [zone]
    assert list(method.tiers.values_list("max_weight", "price")) == [
        (Decimal("2.000"), Decimal("4.50")),
        (Decimal("10.000"), Decimal("9.90")),
    ]
