"""The saga under faults (issue 11.6): an order's lines are never sold twice, and a key
whose owner died is taken over as soon as its lease runs out, never with two owners."""

import threading
import time

import pytest
from django.utils import timezone

from orders import clients
from orders.models import IdempotencyKey, IdempotencyKeyState, Order
from orders.services.idempotency import LeaseKeeper, order_number_generate
from tests.orders.api import CUSTOMER_ID, checkout
from tests.orders.test_checkout_concurrency import client_of, in_parallel
from tests.orders.test_checkout_recovery import (
    Crash,
    crash_after_reserve,
    crash_at,
    expire_leases,
    reconcile,
)
from tests.support.databases import BOTH_DATABASES

pytestmark = pytest.mark.django_db(databases=BOTH_DATABASES)


@pytest.fixture
def shop(neighbours):
    for product_id in (1, 2, 3):
        neighbours.add_product(product_id, price="5.00", stock=20)
    neighbours.fill_cart(CUSTOMER_ID, {1: 2, 2: 1})
    return neighbours


def ordered(response) -> dict[int, int]:
    assert response.status_code == 201, response.content
    return {line["product_id"]: line["quantity"] for line in response.json()["lines"]}


def test_after_a_201_with_the_clear_owed_the_next_order_has_only_the_new_lines(customer, shop):
    shop.failures[("cart", "clear")] = 1  # the cart dies right after the commit
    first = checkout(customer)
    assert ordered(first) == {1: 2, 2: 1}
    assert shop.cart_lines(CUSTOMER_ID) == {1: 2, 2: 1}  # the clear is owed
    shop.fill_cart(CUSTOMER_ID, {3: 4})  # the customer goes on shopping

    second = checkout(customer)

    assert ordered(second) == {3: 4}
    assert shop.cart_lines(CUSTOMER_ID) == {}
    assert Order.objects.filter(cart_cleared_at__isnull=True).count() == 0
    assert shop.stock(1) == 18 and shop.stock(3) == 16
    assert shop.count("catalog", "reserve") == 2


def test_a_product_removed_and_added_again_is_ordered_again(customer, shop):
    shop.failures[("cart", "clear")] = 1
    ordered(checkout(customer))
    shop.remove_line(CUSTOMER_ID, 1)
    shop.fill_cart(CUSTOMER_ID, {1: 1})  # added again after the order: a new line

    assert ordered(checkout(customer)) == {1: 1}
    assert shop.cart_lines(CUSTOMER_ID) == {}


def test_an_owed_clear_the_cart_cannot_take_makes_the_next_checkout_a_503(customer, shop):
    shop.failures[("cart", "clear")] = 2  # the first checkout's clear and the next one's
    ordered(checkout(customer))
    shop.fill_cart(CUSTOMER_ID, {3: 1})

    response = checkout(customer, key="next")

    assert response.status_code == 503
    assert shop.count("catalog", "reserve") == 1  # nothing reserved for the second
    assert Order.objects.count() == 1
    assert IdempotencyKey.objects.get(key="next").state == IdempotencyKeyState.FAILED
    assert ordered(checkout(customer, key="next")) == {3: 1}


def test_a_late_clear_by_reconcile_leaves_what_was_added_since(customer, shop):
    shop.failures[("cart", "clear")] = 1
    ordered(checkout(customer))
    shop.fill_cart(CUSTOMER_ID, {1: 5, 3: 1})  # 3 more units of product 1, and product 3

    reconcile()

    assert shop.cart_lines(CUSTOMER_ID) == {1: 3, 3: 1}
    assert not Order.objects.filter(cart_cleared_at__isnull=True).exists()


def test_a_crashed_checkout_blocks_the_customer_only_until_its_lease_runs_out(
    customer, shop, monkeypatch
):
    crash_at(monkeypatch, "_checkout_finish")  # the order is written, then the process dies
    with pytest.raises(Crash):
        checkout(customer, key="first")
    monkeypatch.undo()

    busy = checkout(customer, key="second")  # the first one's lease still runs
    assert busy.status_code == 409
    assert busy.json()["code"] == "checkout_in_progress"
    assert busy["Retry-After"] == "1"

    expire_leases()
    again = checkout(customer, key="second")

    # The dead checkout was finished first (its lines left the cart), so nothing is left
    # to order twice.
    assert again.status_code == 400
    assert again.json()["code"] == "empty_cart"
    order = Order.objects.get()
    first = IdempotencyKey.objects.get(key="first")
    assert (first.state, first.response_status, first.response_body["id"]) == (
        "completed",
        201,
        order.id,
    )
    assert first.running_for_user is None
    assert shop.held() == {order.number: "committed"}
    replay = checkout(customer, key="first")
    assert (replay.status_code, replay.json()["id"]) == (201, order.id)


@pytest.mark.django_db(databases=BOTH_DATABASES, transaction=True)
def test_a_live_owner_keeps_its_key_past_the_lease_by_renewing_it(shop, settings, monkeypatch):
    settings.CHECKOUT_LEASE_SECONDS = 1  # renewed every 1/3 s
    real_reserve = clients.catalog_reserve
    reserving = threading.Event()

    def slow_reserve(**kwargs):
        reserving.set()
        time.sleep(2.5)  # a slow catalog: longer than the lease
        return real_reserve(**kwargs)

    monkeypatch.setattr(clients, "catalog_reserve", slow_reserve)
    results = {}
    first = threading.Thread(
        target=lambda: results.setdefault("first", checkout(client_of(CUSTOMER_ID), key="k"))
    )
    first.start()
    try:
        assert reserving.wait(10)
        time.sleep(1.5)  # past the first lease: only renewals keep it
        retry = checkout(client_of(CUSTOMER_ID), key="k")
        assert retry.status_code == 409
        assert retry.json()["code"] == "checkout_in_progress"
    finally:
        first.join(30)
    assert ordered(results["first"]) == {1: 2, 2: 1}
    assert Order.objects.count() == 1
    assert shop.count("catalog", "reserve") == 1
    assert shop.count("catalog", "release") == 0


@pytest.mark.django_db(databases=BOTH_DATABASES, transaction=True)
def test_a_dead_owner_is_taken_over_once_its_lease_runs_out(shop, settings, monkeypatch):
    settings.CHECKOUT_LEASE_SECONDS = 1
    crash_at(monkeypatch, "_stock_reserve")
    with pytest.raises(Crash):
        checkout(client_of(CUSTOMER_ID), key="k")
    died = time.monotonic()
    monkeypatch.undo()

    statuses = []
    while True:
        asked = time.monotonic()
        response = checkout(client_of(CUSTOMER_ID), key="k")
        statuses.append(response.status_code)
        if response.status_code != 409:
            break
        assert time.monotonic() - died < 5, statuses
        time.sleep(0.1)
    # When the attempt that took over was sent (not when it ended: on a loaded machine
    # the take-over's own checkout may take a while).
    taken_after = asked - died

    assert ordered(response) == {1: 2, 2: 1}
    assert statuses[0] == 409  # not before the lease ran out
    assert taken_after < 1 + 1  # the lease, and a retry's delay
    assert Order.objects.count() == 1


@pytest.mark.django_db(databases=BOTH_DATABASES, transaction=True)
def test_parallel_retries_of_a_dead_key_take_it_over_once(shop, monkeypatch):
    crash_after_reserve(monkeypatch)
    with pytest.raises(Crash):
        checkout(client_of(CUSTOMER_ID), key="k")
    monkeypatch.undo()
    abandoned = IdempotencyKey.objects.get().order_number
    expire_leases()

    responses = in_parallel(8, lambda i: checkout(client_of(CUSTOMER_ID), key="k"))

    statuses = sorted(response.status_code for response in responses)
    assert set(statuses) <= {201, 409}, statuses
    assert Order.objects.count() == 1
    order = Order.objects.get()
    assert {r.json()["id"] for r in responses if r.status_code == 201} == {order.id}
    # One take-over: the abandoned number released once, one new reservation committed.
    assert shop.reservations[abandoned].state == "released"
    assert shop.held() == {order.number: "committed"}
    assert shop.count("catalog", "reserve") == 2
    assert shop.stock(1) == 18


@pytest.mark.django_db(databases=BOTH_DATABASES, transaction=True)
def test_two_keys_of_one_customer_at_once_never_sell_the_cart_twice(shop):
    responses = in_parallel(6, lambda i: checkout(client_of(CUSTOMER_ID), key=f"key-{i}"))

    created = [response for response in responses if response.status_code == 201]
    assert len(created) == 1, [response.status_code for response in responses]
    for response in responses:
        if response.status_code != 201:
            assert response.status_code in (400, 409), response.content
            assert response.json()["code"] in ("checkout_in_progress", "empty_cart")
    assert Order.objects.count() == 1
    assert shop.stock(1) == 18 and shop.stock(2) == 19
    assert not IdempotencyKey.objects.filter(running_for_user__isnull=False).exists()


@pytest.mark.django_db(databases=BOTH_DATABASES, transaction=True)
def test_one_thread_renews_the_running_leases_and_none_after_their_block(settings):
    settings.CHECKOUT_LEASE_SECONDS = 0.3  # renewed every 0.1 s
    start = timezone.now()
    keys = [
        IdempotencyKey.objects.create(
            user_id=user_id,
            key="k",
            fingerprint="f",
            order_number=order_number_generate(),
            lease_owner=f"owner-{user_id}",
            lease_expires_at=start,
            running_for_user=user_id,
        )
        for user_id in (1, 2)
    ]

    def leases():
        return dict(IdempotencyKey.objects.values_list("pk", "lease_expires_at"))

    with LeaseKeeper(keys[0]), LeaseKeeper(keys[1]):
        time.sleep(0.45)
        assert [t.name for t in threading.enumerate()].count("checkout-lease") == 1
        renewed = leases()
        assert all(renewed[key.pk] > start for key in keys)
    ended = leases()
    time.sleep(0.3)
    assert leases() == ended  # nothing renewed after the blocks ended


@pytest.mark.django_db(databases=BOTH_DATABASES, transaction=True)
def test_a_deadlock_victim_settling_the_key_is_run_again(shop, monkeypatch):
    """InnoDB may pick the UPDATE that stores the 201 as a deadlock victim (it frees the
    customer's checkout slot while other checkouts claim theirs): it is run again, so
    the customer gets the order, not a 503 with the key held until its lease runs out."""
    from django.db import OperationalError

    from orders.services import idempotency

    real_execute = idempotency._KEY_COMPLETE.execute
    victims = []

    def deadlocked_once(*params):
        if not victims:
            victims.append(params)
            raise OperationalError(1213, "Deadlock found when trying to get lock")
        return real_execute(*params)

    monkeypatch.setattr(idempotency._KEY_COMPLETE, "execute", deadlocked_once)
    response = checkout(client_of(CUSTOMER_ID), key="k")

    assert ordered(response) == {1: 2, 2: 1} and len(victims) == 1
    key = IdempotencyKey.objects.get()
    assert (key.state, key.response_status, key.lease_owner) == (
        IdempotencyKeyState.COMPLETED,
        201,
        "",
    )
    again = checkout(client_of(CUSTOMER_ID), key="k")  # the stored answer, replayed
    assert again.status_code == 201 and again.json()["id"] == response.json()["id"]
    assert Order.objects.count() == 1
