"""Parallel requests on one cart, each thread with its own MariaDB connection."""

import threading

import pytest
from django.db import connections

from carts.models import Cart, CartLine
from tests.cart.api import add
from tests.cart.factories import CartFactory, CartLineFactory
from tests.support.databases import BOTH_DATABASES

pytestmark = pytest.mark.django_db(databases=BOTH_DATABASES, transaction=True)

THREADS = 8


def run_in_parallel(request, count=THREADS):
    """Call request(i) from `count` threads released at once; returns the statuses."""
    barrier = threading.Barrier(count)
    statuses = [None] * count

    def worker(index):
        try:
            barrier.wait()
            statuses[index] = request(index)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return statuses


def test_parallel_first_adds_of_one_product_end_in_one_line_with_every_unit(client_for, catalog):
    product = catalog.add_product(stock=1000)
    statuses = run_in_parallel(lambda i: add(client_for(7), product["id"], 2).status_code)
    assert sorted(statuses) == [200] * (THREADS - 1) + [201]
    cart = Cart.objects.get(user_id=7)
    assert list(CartLine.objects.values_list("product_id", "quantity")) == [
        (product["id"], 2 * THREADS)
    ]
    assert cart.version == THREADS


def test_parallel_adds_never_oversell_the_stock_seen_by_the_cart(client_for, catalog):
    product = catalog.add_product(stock=5)
    CartLineFactory(cart=CartFactory(user_id=7, version=1), product_id=product["id"], quantity=1)
    statuses = run_in_parallel(lambda i: add(client_for(7), product["id"], 1).status_code)
    assert statuses.count(200) == 4 and statuses.count(409) == THREADS - 4
    assert CartLine.objects.get().quantity == 5


def test_parallel_adds_of_different_products_lose_no_line(client_for, catalog):
    products = [catalog.add_product() for _ in range(THREADS)]
    CartFactory(user_id=7)
    statuses = run_in_parallel(lambda i: add(client_for(7), products[i]["id"], 1).status_code)
    assert statuses == [201] * THREADS
    assert CartLine.objects.count() == THREADS
    assert Cart.objects.get(user_id=7).version == 1 + THREADS
