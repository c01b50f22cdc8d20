"""Listing, reading and counting orders: who sees what, and at what query cost."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from orders.models import Order
from tests.orders.api import CUSTOMER_ID, OTHER_CUSTOMER_ID
from tests.orders.factories import OrderFactory, OrderLineFactory, StatusChangeFactory
from tests.support.databases import BOTH_DATABASES
from tests.support.problems import assert_problem

pytestmark = pytest.mark.django_db(databases=BOTH_DATABASES)


def created_ago(order, minutes):
    Order.objects.filter(pk=order.pk).update(created_at=timezone.now() - timedelta(minutes=minutes))
    return order


def test_customers_list_their_own_orders_newest_first(customer):
    oldest = created_ago(OrderFactory(user_id=CUSTOMER_ID), 30)
    newest = created_ago(OrderFactory(user_id=CUSTOMER_ID), 1)
    middle = created_ago(OrderFactory(user_id=CUSTOMER_ID), 10)
    OrderFactory(user_id=OTHER_CUSTOMER_ID)

    body = customer.get("/api/v1/orders/").json()

    assert body["count"] == 3
    assert [order["id"] for order in body["results"]] == [newest.id, middle.id, oldest.id]
    assert body["results"][0]["lines"][0]["sku"].startswith("SKU-")
    assert "history" not in body["results"][0]


def test_the_list_is_paged(customer):
    for _ in range(3):
        OrderFactory(user_id=CUSTOMER_ID)
    body = customer.get("/api/v1/orders/?page_size=2").json()
    assert (body["count"], len(body["results"])) == (3, 2)
    assert body["next"]
    assert len(customer.get("/api/v1/orders/?page_size=2&page=2").json()["results"]) == 1


def test_the_list_filters_by_status(customer):
    OrderFactory(user_id=CUSTOMER_ID, status="pending")
    shipped = OrderFactory(user_id=CUSTOMER_ID, status="shipped")
    body = customer.get("/api/v1/orders/?status=shipped").json()
    assert [order["id"] for order in body["results"]] == [shipped.id]


def test_an_unknown_status_filter_is_400(customer):
    response = customer.get("/api/v1/orders/?status=lost")
    assert response.status_code == 400
    assert "status" in response.json()["errors"]


def test_staff_see_every_order_and_filter_by_customer(staff, customer):
    mine = OrderFactory(user_id=CUSTOMER_ID)
    OrderFactory(user_id=OTHER_CUSTOMER_ID)
    assert staff.get("/api/v1/orders/").json()["count"] == 2
    body = staff.get(f"/api/v1/orders/?user_id={CUSTOMER_ID}").json()
    assert [order["id"] for order in body["results"]] == [mine.id]


def test_a_customer_filtering_by_another_user_sees_nothing_of_theirs(customer):
    OrderFactory(user_id=OTHER_CUSTOMER_ID)
    assert customer.get(f"/api/v1/orders/?user_id={OTHER_CUSTOMER_ID}").json()["count"] == 0


def test_staff_without_the_view_permission_see_only_their_own(client_for):
    OrderFactory(user_id=OTHER_CUSTOMER_ID)
    catalog_manager = client_for(950, is_staff=True, perms=["catalog.change_product"])
    assert catalog_manager.get("/api/v1/orders/").json()["count"] == 0


def test_the_owner_reads_an_order_with_lines_and_history(customer):
    order = OrderFactory(user_id=CUSTOMER_ID, status="confirmed")
    StatusChangeFactory(
        order=order, from_status="pending", to_status="confirmed", by_user_id=900, note="ok"
    )

    body = customer.get(f"/api/v1/orders/{order.pk}/").json()

    assert body["number"] == order.number
    assert body["lines"] == [
        {
            "product_id": order.lines.get().product_id,
            "sku": order.lines.get().sku,
            "name": order.lines.get().name,
            "unit_price": "10.00",
            "tax_rate": "0.21",
            "quantity": 2,
            "line_total": "20.00",
            "line_tax": "4.20",
        }
    ]
    assert [(h["from_status"], h["to_status"], h["by"], h["note"]) for h in body["history"]] == [
        (None, "pending", CUSTOMER_ID, "Order placed."),
        ("pending", "confirmed", 900, "ok"),
    ]
    assert body["shipping_address"]["country"] == "ES"
    assert body["total"] == "24.20"


def test_another_customers_order_is_404(other_customer):
    order = OrderFactory(user_id=CUSTOMER_ID)
    response = other_customer.get(f"/api/v1/orders/{order.pk}/")
    assert_problem(response, 404)


def test_staff_read_any_order(staff):
    order = OrderFactory(user_id=CUSTOMER_ID)
    assert staff.get(f"/api/v1/orders/{order.pk}/").status_code == 200


@pytest.mark.parametrize("path", ["999999/", "abc/", "99999999999999999999999/"])
def test_missing_or_malformed_ids_are_404(customer, path):
    assert customer.get(f"/api/v1/orders/{path}").status_code == 404


def test_reading_needs_a_token(api_client):
    assert api_client.get("/api/v1/orders/").status_code == 401
    assert api_client.get("/api/v1/orders/stats/").status_code == 401


def test_list_and_detail_queries_do_not_grow(customer, django_assert_num_queries):
    order = OrderFactory(user_id=CUSTOMER_ID)
    for _ in range(9):
        OrderLineFactory(order=order)
        StatusChangeFactory(order=order)
    for _ in range(19):
        OrderFactory(user_id=CUSTOMER_ID)
    with django_assert_num_queries(3, using="ecommerce"):  # count, page, lines
        assert len(customer.get("/api/v1/orders/").json()["results"]) == 20
    with django_assert_num_queries(3, using="ecommerce"):  # order, lines, history
        body = customer.get(f"/api/v1/orders/{order.pk}/").json()
    assert (len(body["lines"]), len(body["history"])) == (10, 10)


def test_stats_count_and_total_by_status(customer, staff):
    OrderFactory(user_id=CUSTOMER_ID, status="pending", total=Decimal("10.00"))
    OrderFactory(user_id=CUSTOMER_ID, status="pending", total=Decimal("5.50"))
    OrderFactory(user_id=CUSTOMER_ID, status="delivered", total=Decimal("1.00"))
    OrderFactory(user_id=OTHER_CUSTOMER_ID, status="pending", total=Decimal("100.00"))

    own = customer.get("/api/v1/orders/stats/").json()
    everyone = staff.get("/api/v1/orders/stats/").json()

    by_status = {row["status"]: (row["count"], row["total"]) for row in own["by_status"]}
    assert by_status == {
        "pending": (2, "15.50"),
        "confirmed": (0, "0.00"),
        "processing": (0, "0.00"),
        "shipped": (0, "0.00"),
        "delivered": (1, "1.00"),
        "cancelled": (0, "0.00"),
    }
    assert (own["count"], own["currency"]) == (3, "EUR")
    assert everyone["count"] == 4
    assert {row["status"]: row["total"] for row in everyone["by_status"]}["pending"] == "115.50"
