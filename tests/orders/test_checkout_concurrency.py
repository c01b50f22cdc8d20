"""Parallel checkouts on MariaDB: duplicates make one order, stock is never oversold."""

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connections

from orders.models import IdempotencyKey, Order
from tests.orders.api import CUSTOMER_ID, checkout
from tests.support.databases import BOTH_DATABASES
from tests.support.tokens import mint_access_token

pytestmark = pytest.mark.django_db(databases=BOTH_DATABASES, transaction=True)


def in_parallel(count, call):
    """Run call(i) in `count` threads released together; each thread closes its connections."""
    start = threading.Barrier(count)

    def run(index):
        try:
            start.wait()
            return call(index)
        finally:
            connections.close_all()

    with ThreadPoolExecutor(max_workers=count) as pool:
        return list(pool.map(run, range(count)))


def client_of(user_id):
    from rest_framework.test import APIClient

    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {mint_access_token(user_id=user_id)}")
    return client


def test_ten_parallel_duplicates_make_one_order(neighbours):
    neighbours.add_product(1, stock=10)
    neighbours.fill_cart(CUSTOMER_ID, {1: 3})

    responses = in_parallel(10, lambda i: checkout(client_of(CUSTOMER_ID), key="same-key"))

    statuses = sorted(response.status_code for response in responses)
    assert set(statuses) <= {201, 409}, statuses
    created = [response.json() for response in responses if response.status_code == 201]
    assert created and all(body["id"] == created[0]["id"] for body in created)
    for response in responses:
        if response.status_code == 409:
            assert response.json()["code"] == "checkout_in_progress"
    assert Order.objects.count() == 1
    assert IdempotencyKey.objects.count() == 1
    assert neighbours.stock(1) == 7
    assert neighbours.count("catalog", "reserve") == 1
    # Those told "in progress" get the same order when they retry.
    retry = checkout(client_of(CUSTOMER_ID), key="same-key")
    assert (retry.status_code, retry.json()["id"]) == (201, created[0]["id"])


def test_parallel_customers_never_oversell(neighbours):
    neighbours.add_product(1, stock=3)
    customers = range(100, 112)
    for user_id in customers:
        neighbours.fill_cart(user_id, {1: 1})

    responses = in_parallel(12, lambda i: checkout(client_of(100 + i)))

    statuses = [response.status_code for response in responses]
    assert statuses.count(201) == 3, statuses
    assert statuses.count(409) == 9
    assert all(
        response.json()["code"] == "out_of_stock"
        for response in responses
        if response.status_code == 409
    )
    assert Order.objects.count() == 3
    assert neighbours.stock(1) == 0
