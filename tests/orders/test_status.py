"""The status machine, staff status moves and cancellation (stock goes back)."""

import io

import pytest
from django.core.management import call_command

from orders import services
from orders.models import Order, OrderStatus
from tests.orders.api import CUSTOMER_ID, STAFF_ID, checkout
from tests.orders.factories import OrderFactory
from tests.support.databases import BOTH_DATABASES

pytestmark = pytest.mark.django_db(databases=BOTH_DATABASES)


@pytest.fixture
def placed_order(customer, neighbours):
    """An order made by a real checkout: 3 units of product 1 (stock 10 -> 7)."""
    neighbours.add_product(1, stock=10)
    neighbours.fill_cart(CUSTOMER_ID, {1: 3})
    response = checkout(customer)
    assert response.status_code == 201
    return Order.objects.get(pk=response.json()["id"])


TRACKING = {"carrier": "Correos", "tracking_number": "PQ4F6P0701234560128001X"}


def move(client, order, status, note="", **body):
    """A staff move; shipping sends the tracking (TRACKING) unless the test says otherwise."""
    if status == "shipped" and not body:
        body = TRACKING
    return client.post(
        f"/api/v1/orders/{order.pk}/status/",
        {"status": status, "note": note, **body},
        format="json",
    )


def moves_of(order):
    return list(order.history.values_list("from_status", "to_status", "by_user_id"))


def test_staff_move_an_order_through_the_whole_workflow(staff, neighbours):
    order = OrderFactory(user_id=CUSTOMER_ID)
    for status in ["confirmed", "processing", "shipped", "delivered"]:
        response = move(staff, order, status, note=f"now {status}")
        assert response.status_code == 200, response.json()
        assert response.json()["status"] == status
    order.refresh_from_db()
    assert order.status == OrderStatus.DELIVERED
    assert moves_of(order) == [
        (None, "pending", CUSTOMER_ID),
        ("pending", "confirmed", STAFF_ID),
        ("confirmed", "processing", STAFF_ID),
        ("processing", "shipped", STAFF_ID),
        ("shipped", "delivered", STAFF_ID),
    ]
    history = response.json()["history"]
    assert history[-2]["note"] == (
        "now shipped Shipped with Correos, tracking number PQ4F6P0701234560128001X."
    )
    assert history[-1]["note"] == "now delivered"
    assert (response.json()["tracking_carrier"], response.json()["tracking_number"]) == (
        "Correos",
        "PQ4F6P0701234560128001X",
    )
    assert (order.tracking_carrier, order.tracking_number) == (
        "Correos",
        "PQ4F6P0701234560128001X",
    )
    assert history[-1]["by"] == STAFF_ID
    assert neighbours.calls == []  # moves other than cancel need no neighbour


@pytest.mark.parametrize(
    "tracking, missing",
    [
        ({}, {"carrier", "tracking_number"}),
        ({"carrier": "Correos"}, {"tracking_number"}),
        ({"carrier": "  ", "tracking_number": "123"}, {"carrier"}),
        ({"tracking_number": "123"}, {"carrier"}),
    ],
)
def test_shipping_needs_carrier_and_tracking_number(staff, neighbours, tracking, missing):
    order = OrderFactory(user_id=CUSTOMER_ID, status="processing")
    response = staff.post(
        f"/api/v1/orders/{order.pk}/status/", {"status": "shipped", **tracking}, format="json"
    )
    assert response.status_code == 400, response.json()
    assert response.json()["code"] == "tracking_required"
    assert set(response.json()["errors"]) == missing
    order.refresh_from_db()
    assert (order.status, order.tracking_carrier, order.tracking_number) == ("processing", "", "")
    assert order.history.count() == 1


def test_the_customer_reads_the_tracking_in_the_order_and_its_history(staff, customer, neighbours):
    order = OrderFactory(user_id=CUSTOMER_ID, status="processing")
    assert (
        move(staff, order, "shipped", carrier="SEUR", tracking_number="ES-998877").status_code
        == 200
    )
    shown = customer.get(f"/api/v1/orders/{order.pk}/").json()
    assert (shown["status"], shown["tracking_carrier"], shown["tracking_number"]) == (
        "shipped",
        "SEUR",
        "ES-998877",
    )
    assert shown["history"][-1]["note"] == "Shipped with SEUR, tracking number ES-998877."
    # Neither is a field a customer or staff can set any other way.
    assert move(staff, order, "delivered", carrier="X", tracking_number="Y").status_code == 200
    order.refresh_from_db()
    assert (order.tracking_carrier, order.tracking_number) == ("SEUR", "ES-998877")


def test_a_customer_cannot_set_a_status(customer, neighbours):
    order = OrderFactory(user_id=CUSTOMER_ID)
    response = move(customer, order, "delivered")
    assert response.status_code == 403
    order.refresh_from_db()
    assert order.status == OrderStatus.PENDING
    assert order.history.count() == 1


@pytest.mark.parametrize(
    "current, target",
    [
        ("confirmed", "delivered"),
        ("pending", "shipped"),
        ("pending", "pending"),
        ("shipped", "processing"),
        ("delivered", "cancelled"),
        ("shipped", "cancelled"),
        ("cancelled", "confirmed"),
    ],
)
def test_moves_outside_the_machine_are_409(staff, neighbours, current, target):
    order = OrderFactory(status=current)
    response = move(staff, order, target)
    assert response.status_code == 409
    assert response.json()["code"] == "invalid_transition"
    order.refresh_from_db()
    assert order.status == current
    assert order.history.count() == 1
    assert neighbours.calls == []


def test_an_unknown_status_is_400(staff):
    order = OrderFactory()
    response = move(staff, order, "teleported")
    assert response.status_code == 400
    assert "status" in response.json()["errors"]


def test_status_of_a_missing_order_is_404(staff):
    assert move(staff, Order(pk=123456), "confirmed").status_code == 404


def test_the_owner_cancels_and_the_stock_comes_back(customer, neighbours, placed_order):
    assert neighbours.stock(1) == 7

    response = customer.post(
        f"/api/v1/orders/{placed_order.pk}/cancel/", {"note": "changed my mind"}, format="json"
    )

    assert response.status_code == 200
    assert response.json()["status"] == "cancelled"
    placed_order.refresh_from_db()
    assert placed_order.status == OrderStatus.CANCELLED
    assert neighbours.stock(1) == 10
    assert neighbours.reservations[placed_order.number].state == "released"
    assert placed_order.stock_released_at is not None
    last = placed_order.history.last()
    assert (last.from_status, last.to_status, last.by_user_id, last.note) == (
        "pending",
        "cancelled",
        CUSTOMER_ID,
        "changed my mind",
    )


def test_cancelling_twice_is_409(customer, neighbours, placed_order):
    assert customer.post(f"/api/v1/orders/{placed_order.pk}/cancel/").status_code == 200
    response = customer.post(f"/api/v1/orders/{placed_order.pk}/cancel/")
    assert response.status_code == 409
    assert response.json()["code"] == "invalid_transition"
    assert neighbours.stock(1) == 10
    assert placed_order.history.filter(to_status="cancelled").count() == 1


def test_the_owner_may_cancel_a_confirmed_order(customer, staff, neighbours, placed_order):
    move(staff, placed_order, "confirmed")
    assert customer.post(f"/api/v1/orders/{placed_order.pk}/cancel/").status_code == 200
    assert neighbours.stock(1) == 10


def test_only_staff_cancel_an_order_in_processing(customer, staff, neighbours, placed_order):
    move(staff, placed_order, "confirmed")
    move(staff, placed_order, "processing")

    refused = customer.post(f"/api/v1/orders/{placed_order.pk}/cancel/")
    assert refused.status_code == 409
    assert "staff" in refused.json()["detail"]
    assert neighbours.stock(1) == 7

    response = staff.post(f"/api/v1/orders/{placed_order.pk}/cancel/")
    assert response.status_code == 200
    assert neighbours.stock(1) == 10
    assert placed_order.history.last().by_user_id == STAFF_ID


def test_staff_cancel_through_the_status_endpoint_gives_stock_back(staff, neighbours, placed_order):
    response = move(staff, placed_order, "cancelled")
    assert response.status_code == 200
    assert neighbours.stock(1) == 10


def test_a_shipped_order_cannot_be_cancelled(staff, neighbours, placed_order):
    for status in ["confirmed", "processing", "shipped"]:
        move(staff, placed_order, status)
    response = staff.post(f"/api/v1/orders/{placed_order.pk}/cancel/")
    assert response.status_code == 409
    assert neighbours.stock(1) == 7


def test_another_customers_order_cannot_be_cancelled(other_customer, neighbours, placed_order):
    response = other_customer.post(f"/api/v1/orders/{placed_order.pk}/cancel/")
    assert response.status_code == 404
    placed_order.refresh_from_db()
    assert placed_order.status == OrderStatus.PENDING
    assert neighbours.stock(1) == 7


def test_staff_who_may_only_view_cannot_cancel_others_orders(client_for, neighbours, placed_order):
    viewer = client_for(901, is_staff=True, perms=["orders.view_order"])
    response = viewer.post(f"/api/v1/orders/{placed_order.pk}/cancel/")
    assert response.status_code == 403
    assert neighbours.stock(1) == 7


def test_cancel_with_the_catalog_down_cancels_and_reconcile_gives_the_stock_back(
    customer, neighbours, placed_order
):
    neighbours.down.add("catalog")
    response = customer.post(f"/api/v1/orders/{placed_order.pk}/cancel/")
    assert response.status_code == 200
    assert response.json()["status"] == "cancelled"
    placed_order.refresh_from_db()
    assert placed_order.status == OrderStatus.CANCELLED
    assert placed_order.stock_released_at is None  # owed
    assert neighbours.stock(1) == 7

    call_command("reconcile_checkouts", stdout=io.StringIO())  # still down: still owed
    placed_order.refresh_from_db()
    assert placed_order.stock_released_at is None

    neighbours.down.clear()
    call_command("reconcile_checkouts", stdout=io.StringIO())
    placed_order.refresh_from_db()
    assert placed_order.stock_released_at is not None
    assert neighbours.stock(1) == 10
    call_command("reconcile_checkouts", stdout=io.StringIO())  # idempotent
    assert neighbours.stock(1) == 10
    assert customer.post(f"/api/v1/orders/{placed_order.pk}/cancel/").status_code == 409


def test_order_change_status_locks_and_validates_directly(neighbours):
    order = OrderFactory(status="confirmed")
    services.order_change_status(order=order, to_status="processing", by_user_id=5, note="packing")
    order.refresh_from_db()
    assert order.status == "processing"
    assert order.history.last().note == "packing"
