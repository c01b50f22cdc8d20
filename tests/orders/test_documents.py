"""The stored order document (orders/documents.py) is exactly what the API renders."""

from decimal import Decimal

import pytest
from rest_framework.renderers import JSONRenderer

from orders.documents import order_document
from orders.models import Order, OrderStatus
from orders.serializers import OrderDetailSerializer
from orders.services import order_cancel
from tests.orders.api import checkout
from tests.orders.factories import OrderFactory, OrderLineFactory, StatusChangeFactory
from tests.support.databases import BOTH_DATABASES

pytestmark = pytest.mark.django_db(databases=BOTH_DATABASES)


def rendered(data) -> bytes:
    return JSONRenderer().render(data)


def assert_same_as_the_api(order_id):
    order = Order.objects.prefetch_related("lines", "history").get(pk=order_id)
    document = order_document(order)
    assert document == OrderDetailSerializer(order).data
    assert rendered(document) == rendered(OrderDetailSerializer(order).data)


def test_a_checkout_document_and_its_replay_are_the_api_rendering(customer, neighbours):
    neighbours.add_product(1, price="19.99", tax_rate="0.055", stock=5)
    neighbours.add_product(2, price="3.10", tax_rate="0.21", stock=5)
    neighbours.fill_cart(7, {1: 1, 2: 3})
    first = checkout(customer, key="same")
    replay = checkout(customer, key="same")
    assert first.status_code == replay.status_code == 201
    assert first.content == replay.content
    assert_same_as_the_api(first.json()["id"])
    assert first.json()["lines"][0]["tax_rate"] == "0.055"
    # The 201 is built from the rows just written: the same bytes as reading them back.
    order = Order.objects.prefetch_related("lines", "history").get(pk=first.json()["id"])
    assert first.content == rendered(order_document(order))
    assert first.json()["shipping_address"]["phone"] == "+34600000000"


def test_odd_values_render_alike(neighbours):
    order = OrderFactory(
        status=OrderStatus.PENDING,
        line=None,
        phone="",
        line2="",
        notes="ñandú «quoted»",
        subtotal=Decimal("0.00"),
        tax=Decimal("0.00"),
        total=Decimal("0.00"),
    )
    OrderLineFactory(order=order, tax_rate=Decimal("0.1000"), unit_price=Decimal("0.00"))
    StatusChangeFactory(order=order, from_status=None, by_user_id=None, note="")
    assert_same_as_the_api(order.pk)
    order_cancel(order=order, by_user_id=None, by_staff=True, note="by the system")
    assert_same_as_the_api(order.pk)
