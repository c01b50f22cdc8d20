"""Checkout's SQL queries and service calls do not grow with the number of lines."""

from decimal import Decimal

import pytest
from django.db import connections
from django.test.utils import CaptureQueriesContext

from orders.models import Order, ShippingMethod, ShippingWeightTier, ShippingZone
from tests.orders.api import ADDRESS, CUSTOMER_ID, checkout
from tests.support.databases import BOTH_DATABASES

pytestmark = pytest.mark.django_db(databases=BOTH_DATABASES)

# 9 statements (one: orders still owing a cart clear; one: the confirmation email in the
# outbox, inside its own savepoint; the 201 is built from the rows written, not read back)
# + 6 for the savepoints
CHECKOUT_QUERY_BUDGET = 15
# The active shipping methods, their zones and their tiers: three, whatever the lines
# (one alone when the shop has no method).
SHIPPING_QUERIES = 3
CHECKOUT_SERVICE_CALLS = 4  # cart read, reserve, commit, cart clear


def measured_checkout(client, neighbours, line_count, body=None):
    neighbours.carts.clear()
    neighbours.calls.clear()
    for product_id in range(1, line_count + 1):
        neighbours.add_product(product_id, stock=5)
    neighbours.fill_cart(CUSTOMER_ID, dict.fromkeys(range(1, line_count + 1), 1))
    with (
        CaptureQueriesContext(connections["ecommerce"]) as ecommerce_queries,
        CaptureQueriesContext(connections["default"]) as auth_queries,
    ):
        response = checkout(client, body=body)
    assert response.status_code == 201, response.json()
    assert len(response.json()["lines"]) == line_count
    assert len(auth_queries) == 0  # stateless tokens: auth_db is never touched
    return len(ecommerce_queries), len(neighbours.calls)


def test_checkout_cost_is_flat_in_the_number_of_lines(
    customer, neighbours, django_assert_max_num_queries
):
    with django_assert_max_num_queries(CHECKOUT_QUERY_BUDGET + 1, using="ecommerce"):
        one_line = measured_checkout(customer, neighbours, 1)
    with django_assert_max_num_queries(CHECKOUT_QUERY_BUDGET + 1, using="ecommerce"):
        twenty_lines = measured_checkout(customer, neighbours, 20)
    print(f"checkout (queries, service calls): 1 line {one_line}, 20 lines {twenty_lines}")
    assert one_line == twenty_lines
    assert one_line[1] == CHECKOUT_SERVICE_CALLS
    assert Order.objects.count() == 2


def test_shipping_adds_a_constant_number_of_queries(
    customer, neighbours, django_assert_max_num_queries
):
    """With shipping methods (one weight-priced, with tiers) the cost stays flat too."""
    spain = ShippingZone.objects.create(name="Spain", countries=["ES"])
    for code, kind in (("standard", "flat"), ("parcel", "weight")):
        method = ShippingMethod.objects.create(
            code=code,
            name=code,
            carrier="Correos",
            estimated_days_min=1,
            estimated_days_max=3,
            rate_kind=kind,
            flat_price=Decimal("4.95"),
            tax_rate=Decimal("0.21"),
        )
        method.zones.add(spain)
        ShippingWeightTier.objects.create(method=method, max_weight=100, price=Decimal("6.00"))
    body = {"shipping_address": ADDRESS, "shipping_method": "parcel"}
    budget = CHECKOUT_QUERY_BUDGET + SHIPPING_QUERIES
    with django_assert_max_num_queries(budget, using="ecommerce"):
        one_line = measured_checkout(customer, neighbours, 1, body)
    with django_assert_max_num_queries(budget, using="ecommerce"):
        twenty_lines = measured_checkout(customer, neighbours, 20, body)
    assert one_line == twenty_lines
    assert one_line[1] == CHECKOUT_SERVICE_CALLS
    assert Order.objects.filter(shipping_method_code="parcel").count() == 2
