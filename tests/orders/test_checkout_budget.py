"""Checkout's SQL queries and service calls do not grow with the number of lines."""

import pytest
from django.db import connections
from django.test.utils import CaptureQueriesContext

from orders.models import Order
from tests.orders.api import CUSTOMER_ID, checkout
from tests.support.databases import BOTH_DATABASES

pytestmark = pytest.mark.django_db(databases=BOTH_DATABASES)

CHECKOUT_QUERY_BUDGET = 15  # 11 statements (one: orders still owing a cart clear) + savepoints
CHECKOUT_SERVICE_CALLS = 4  # cart read, reserve, commit, cart clear


def measured_checkout(client, neighbours, line_count):
    neighbours.carts.clear()
    neighbours.calls.clear()
    for product_id in range(1, line_count + 1):
        neighbours.add_product(product_id, stock=5)
    neighbours.fill_cart(CUSTOMER_ID, dict.fromkeys(range(1, line_count + 1), 1))
    with (
        CaptureQueriesContext(connections["ecommerce"]) as ecommerce_queries,
        CaptureQueriesContext(connections["default"]) as auth_queries,
    ):
        response = checkout(client)
    assert response.status_code == 201
    assert len(response.json()["lines"]) == line_count
    assert len(auth_queries) == 0  # stateless tokens: auth_db is never touched
    return len(ecommerce_queries), len(neighbours.calls)


def test_checkout_cost_is_flat_in_the_number_of_lines(
    customer, neighbours, django_assert_max_num_queries
):
    with django_assert_max_num_queries(CHECKOUT_QUERY_BUDGET, using="ecommerce"):
        one_line = measured_checkout(customer, neighbours, 1)
    with django_assert_max_num_queries(CHECKOUT_QUERY_BUDGET, using="ecommerce"):
        twenty_lines = measured_checkout(customer, neighbours, 20)
    print(f"checkout (queries, service calls): 1 line {one_line}, 20 lines {twenty_lines}")
    assert one_line == twenty_lines
    assert one_line[1] == CHECKOUT_SERVICE_CALLS
    assert Order.objects.count() == 2
