"""The recovery rules of orders/services/checkout.py: a crash or failure after each step is repaired."""

from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone

from orders import clients
from orders.models import IdempotencyKey, IdempotencyKeyState, Order, OrderStatus
from orders.services import checkout as saga
from orders.services import idempotency
from tests.orders.api import CUSTOMER_ID, checkout
from tests.support.databases import BOTH_DATABASES

pytestmark = pytest.mark.django_db(databases=BOTH_DATABASES)


class Crash(BaseException):
    """The process dies here: nothing below this point runs, no handler catches it."""


@pytest.fixture
def shop(neighbours):
    neighbours.add_product(1, price="5.00", stock=10)
    neighbours.fill_cart(CUSTOMER_ID, {1: 2})
    return neighbours


def expire_leases():
    """What the lease clock does once a dead process stopped renewing: the leases run out."""
    IdempotencyKey.objects.update(lease_expires_at=timezone.now() - timedelta(seconds=1))


def reconcile():
    call_command("reconcile_checkouts", stdout=open("/dev/null", "w"))  # noqa: SIM115


def crash_at(monkeypatch, name):
    def crash(**kwargs):
        raise Crash(name)

    monkeypatch.setattr(saga, name, crash)


def crash_after_reserve(monkeypatch):
    """The stock is reserved (the catalog answered), then the process dies."""
    real_reserve = saga._stock_reserve

    def reserve_then_crash(**kwargs):
        real_reserve(**kwargs)
        raise Crash("after reserve")

    monkeypatch.setattr(saga, "_stock_reserve", reserve_then_crash)


def test_a_fresh_key_in_progress_answers_409_with_retry_after(customer, shop, monkeypatch):
    crash_at(monkeypatch, "_stock_reserve")
    with pytest.raises(Crash):
        checkout(customer, key="busy")
    monkeypatch.undo()

    response = checkout(customer, key="busy")
    assert response.status_code == 409
    assert response.json()["code"] == "checkout_in_progress"
    assert response["Retry-After"] == "1"
    assert not Order.objects.exists()


def test_crash_after_reserve_then_retry_runs_again_under_a_new_number(customer, shop, monkeypatch):
    crash_after_reserve(monkeypatch)
    with pytest.raises(Crash):
        checkout(customer, key="crashy")
    monkeypatch.undo()
    abandoned = IdempotencyKey.objects.get().order_number
    assert shop.held() == {abandoned: "reserved"}
    assert shop.stock(1) == 8

    expire_leases()
    response = checkout(customer, key="crashy")

    assert response.status_code == 201
    order = Order.objects.get()
    assert order.number != abandoned
    # The abandoned reference was released (stock back), the new one committed.
    assert shop.held() == {order.number: "committed"}
    assert shop.reservations[abandoned].state == "released"
    assert shop.stock(1) == 8
    assert shop.cart_lines(CUSTOMER_ID) == {}


def test_crash_after_reserve_then_reconcile_releases_and_frees_the_key(customer, shop, monkeypatch):
    crash_after_reserve(monkeypatch)
    with pytest.raises(Crash):
        checkout(customer, key="crashy")
    monkeypatch.undo()
    expire_leases()

    reconcile()

    key = IdempotencyKey.objects.get()
    assert key.state == IdempotencyKeyState.FAILED
    assert shop.held() == {}
    assert shop.stock(1) == 10
    assert checkout(customer, key="crashy").status_code == 201
    assert shop.stock(1) == 8


def test_crash_after_the_order_write_is_finished_by_reconcile(customer, shop, monkeypatch):
    crash_at(monkeypatch, "_checkout_finish")
    with pytest.raises(Crash):
        checkout(customer, key="half-done")
    monkeypatch.undo()
    order = Order.objects.get()
    assert (order.reservation_committed_at, order.cart_cleared_at) == (None, None)
    assert shop.held() == {order.number: "reserved"}

    reconcile()  # the lease is still running: the key is left alone, the owed steps are done
    order.refresh_from_db()
    assert order.reservation_committed_at is not None
    assert order.cart_cleared_at is not None
    assert IdempotencyKey.objects.get().state == IdempotencyKeyState.IN_PROGRESS

    expire_leases()
    reconcile()
    key = IdempotencyKey.objects.get()
    assert (key.state, key.response_status, key.response_body["id"]) == (
        IdempotencyKeyState.COMPLETED,
        201,
        order.id,
    )
    assert shop.held() == {order.number: "committed"}
    assert shop.cart_lines(CUSTOMER_ID) == {}
    replay = checkout(customer, key="half-done")
    assert (replay.status_code, replay.json()["id"]) == (201, order.id)
    assert Order.objects.count() == 1


def test_crash_after_the_order_write_is_finished_by_a_retry(customer, shop, monkeypatch):
    crash_at(monkeypatch, "_checkout_finish")
    with pytest.raises(Crash):
        checkout(customer, key="half-done")
    monkeypatch.undo()
    expire_leases()

    response = checkout(customer, key="half-done")

    order = Order.objects.get()
    assert (response.status_code, response.json()["id"]) == (201, order.id)
    assert shop.held() == {order.number: "committed"}
    assert shop.cart_lines(CUSTOMER_ID) == {}
    assert shop.count("catalog", "reserve") == 1


def test_a_commit_that_failed_is_retried_by_reconcile(customer, shop):
    shop.failures[("catalog", "commit")] = 1
    response = checkout(customer)
    assert response.status_code == 201
    order = Order.objects.get()
    assert order.reservation_committed_at is None
    assert shop.held() == {order.number: "reserved"}

    reconcile()

    order.refresh_from_db()
    assert order.reservation_committed_at is not None
    assert shop.held() == {order.number: "committed"}


def test_a_cart_clear_that_failed_is_retried_by_reconcile(customer, shop):
    shop.failures[("cart", "clear")] = 1
    checkout(customer)
    assert shop.cart_lines(CUSTOMER_ID) == {1: 2}

    reconcile()
    reconcile()  # idempotent

    assert shop.cart_lines(CUSTOMER_ID) == {}
    assert Order.objects.get().cart_cleared_at is not None
    assert shop.count("cart", "clear") == 2  # the failed one and the reconcile's


def test_an_order_whose_reservation_expired_before_commit_is_cancelled(customer, shop):
    shop.failures[("catalog", "commit")] = 1
    checkout(customer)
    order = Order.objects.get()
    shop.expire(order.number)  # reconcile did not run within the TTL

    reconcile()

    order.refresh_from_db()
    assert order.status == OrderStatus.CANCELLED
    last = order.history.last()
    assert (last.from_status, last.to_status, last.by_user_id) == ("pending", "cancelled", None)
    assert "expired" in last.note
    assert shop.stock(1) == 10


def test_reconcile_with_the_catalog_down_leaves_the_steps_owed(customer, shop):
    shop.failures[("catalog", "commit")] = 1
    checkout(customer)
    shop.down.add("catalog")
    reconcile()
    assert Order.objects.get().reservation_committed_at is None
    shop.down.clear()
    reconcile()
    assert Order.objects.get().reservation_committed_at is not None


def test_an_attempt_that_was_taken_over_never_writes_its_order(customer, shop, monkeypatch):
    """A slow attempt whose key a retry took over (its lease ran out) releases instead of writing."""
    real_reserve = clients.catalog_reserve

    def reserve_while_a_retry_takes_over(**kwargs):
        reservation = real_reserve(**kwargs)
        expire_leases()
        idempotency.key_take_over(key_id=IdempotencyKey.objects.get().pk, owner="a-retry")
        return reservation

    monkeypatch.setattr(clients, "catalog_reserve", reserve_while_a_retry_takes_over)
    response = checkout(customer, key="slow")

    assert response.status_code == 409
    assert response.json()["code"] == "checkout_in_progress"
    assert not Order.objects.exists()
    assert shop.held() == {}
    assert shop.stock(1) == 10
    key = IdempotencyKey.objects.get()
    assert key.state == IdempotencyKeyState.IN_PROGRESS  # the retry's now


def test_reconcile_leaves_live_checkouts_alone(customer, shop, monkeypatch):
    crash_at(monkeypatch, "_stock_reserve")
    with pytest.raises(Crash):
        checkout(customer, key="young")
    reconcile()
    assert IdempotencyKey.objects.get().state == IdempotencyKeyState.IN_PROGRESS
