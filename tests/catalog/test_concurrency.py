"""Stock under real concurrency on MariaDB: threads, each with its own connection.

Transactional tests (no wrapping transaction), so every thread's commits are real
and InnoDB's row locks, deadlock detection and lock timeouts are in play.
"""

import io
import threading
import time
from collections import Counter
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.db import OperationalError, connections, transaction
from django.db.models import Sum
from django.utils import timezone
from rest_framework.test import APIClient

from catalog.models import Product, Reservation, ReservationLine
from tests.catalog.factories import ProductFactory
from tests.support.databases import BOTH_DATABASES

pytestmark = pytest.mark.django_db(transaction=True, databases=BOTH_DATABASES)

BASE = "/internal/catalog/reservations/"


def service_client(settings) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_X_SERVICE_TOKEN=settings.SERVICE_TOKEN)
    return client


def run_in_threads(count: int, work) -> list:
    """work(i) in `count` threads released together; returns their results in order."""
    barrier = threading.Barrier(count)
    results: list = [None] * count
    failures: list[BaseException] = []

    def target(index):
        try:
            barrier.wait(timeout=30)
            results[index] = work(index)
        except BaseException as exc:  # reported below, with the thread's traceback
            failures.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=target, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=180)
    assert not any(thread.is_alive() for thread in threads), "a thread hung"
    if failures:
        raise failures[0]
    return results


def held_quantity(product) -> int:
    """Units of `product` in reservations that still hold stock (reserved or committed)."""
    return (
        ReservationLine.objects.filter(product=product)
        .exclude(reservation__state=Reservation.State.RELEASED)
        .aggregate(total=Sum("quantity"))["total"]
        or 0
    )


def stock_of(product) -> int:
    return Product.objects.values_list("stock", flat=True).get(pk=product.pk)


def test_fifty_buyers_for_five_units(settings):
    product = ProductFactory(stock=5)

    def buy(index):
        response = service_client(settings).post(
            BASE,
            {
                "reference": f"T-RUSH{index:03d}",
                "lines": [{"product_id": product.pk, "quantity": 1}],
            },
        )
        return response.status_code

    statuses = Counter(run_in_threads(50, buy))
    assert statuses == {201: 5, 409: 45}
    assert stock_of(product) == 0
    assert Reservation.objects.count() == 5
    assert held_quantity(product) == 5


def test_opposite_line_orders_never_deadlock_into_errors_and_conserve_stock(settings):
    first, second = ProductFactory(stock=40), ProductFactory(stock=40)
    rounds = 12

    def shop(index):
        client = service_client(settings)
        statuses = []
        for round_number in range(rounds):
            lines = [
                {"product_id": first.pk, "quantity": 1},
                {"product_id": second.pk, "quantity": 2},
            ]
            if index % 2:
                lines = [
                    {"product_id": second.pk, "quantity": 1},
                    {"product_id": first.pk, "quantity": 2},
                ]
            reference = f"T-X{index:02d}R{round_number:02d}"
            response = client.post(BASE, {"reference": reference, "lines": lines})
            statuses.append(response.status_code)
            if response.status_code == 201:
                # Keep a third, commit a third, release a third (gives stock back to others).
                action = ("commit", "release", None)[round_number % 3]
                if action:
                    statuses.append(client.post(f"{BASE}{reference}/{action}/").status_code)
        return statuses

    statuses = Counter(status for result in run_in_threads(16, shop) for status in result)
    assert not [status for status in statuses if status >= 500], statuses
    assert statuses[201] > 0 and statuses[409] > 0
    for product in (first, second):
        assert stock_of(product) >= 0
        assert stock_of(product) + held_quantity(product) == 40


def test_the_same_reference_in_parallel_takes_stock_once(settings):
    product = ProductFactory(stock=100)
    for attempt in range(3):
        reference = f"T-TWIN{attempt}"

        def reserve(_, reference=reference):
            return (
                service_client(settings)
                .post(
                    BASE,
                    {"reference": reference, "lines": [{"product_id": product.pk, "quantity": 3}]},
                )
                .status_code
            )

        assert Counter(run_in_threads(8, reserve)) == {201: 1, 200: 7}
    assert stock_of(product) == 100 - 3 * 3
    assert Reservation.objects.count() == 3


def test_parallel_releases_give_the_stock_back_once(settings):
    product = ProductFactory(stock=10)
    service_client(settings).post(
        BASE, {"reference": "T-REL", "lines": [{"product_id": product.pk, "quantity": 4}]}
    )

    def release(_):
        return service_client(settings).post(f"{BASE}T-REL/release/").status_code

    assert Counter(run_in_threads(8, release)) == {200: 8}
    assert stock_of(product) == 10
    assert Reservation.objects.get().state == Reservation.State.RELEASED


def test_commit_racing_release_leaves_a_consistent_state(settings):
    product = ProductFactory(stock=50)
    for attempt in range(5):
        reference = f"T-RACE{attempt}"
        service_client(settings).post(
            BASE, {"reference": reference, "lines": [{"product_id": product.pk, "quantity": 2}]}
        )

        def act(index, reference=reference):
            action = "commit" if index % 2 else "release"
            return service_client(settings).post(f"{BASE}{reference}/{action}/").status_code

        assert set(run_in_threads(4, act)) <= {200, 409}
        # Whichever came first, the release wins in the end and the stock is back.
        assert Reservation.objects.get(reference=reference).state == Reservation.State.RELEASED
    assert stock_of(product) == 50


def test_expiry_job_racing_commit_never_loses_or_double_returns_stock(settings):
    product = ProductFactory(stock=100)
    references = [f"T-EXP{n:02d}" for n in range(20)]
    for reference in references:
        service_client(settings).post(
            BASE, {"reference": reference, "lines": [{"product_id": product.pk, "quantity": 1}]}
        )
    Reservation.objects.update(expires_at=timezone.now() - timedelta(seconds=1))

    def work(index):
        if index == 0:
            call_command("release_expired_reservations", stdout=io.StringIO())
            return None
        client = service_client(settings)
        return [client.post(f"{BASE}{reference}/commit/").status_code for reference in references]

    results = run_in_threads(3, work)
    assert {status for statuses in results[1:] for status in statuses} <= {200, 409}
    committed = Reservation.objects.filter(state=Reservation.State.COMMITTED).count()
    released = Reservation.objects.filter(state=Reservation.State.RELEASED).count()
    assert committed + released == 20
    assert stock_of(product) == 100 - committed


def test_a_lock_held_too_long_becomes_a_503_and_nothing_changes(settings):
    product = ProductFactory(stock=5)
    locked, finish = threading.Event(), threading.Event()

    def hold_the_row():
        try:
            with transaction.atomic(using="ecommerce"):
                Product.objects.select_for_update().get(pk=product.pk)
                locked.set()
                finish.wait(timeout=60)
        finally:
            connections.close_all()

    holder = threading.Thread(target=hold_the_row)
    holder.start()
    try:
        assert locked.wait(timeout=10)
        with connections["ecommerce"].cursor() as cursor:
            cursor.execute("SET SESSION innodb_lock_wait_timeout = 1")
        started = time.monotonic()
        response = service_client(settings).post(
            BASE, {"reference": "T-BUSY", "lines": [{"product_id": product.pk, "quantity": 1}]}
        )
        assert response.status_code == 503, response.content
        assert response.json()["code"] == "stock_busy"
        assert time.monotonic() - started >= 3  # retried, not given up at once
        assert not Reservation.objects.filter(reference="T-BUSY").exists()
    finally:
        finish.set()
        holder.join(timeout=30)
        connections["ecommerce"].close()
    # Once the lock is gone the same call goes through.
    response = service_client(settings).post(
        BASE, {"reference": "T-BUSY", "lines": [{"product_id": product.pk, "quantity": 1}]}
    )
    assert response.status_code == 201
    assert stock_of(product) == 4


def test_a_deadlock_victim_reservation_is_retried_and_succeeds(settings, caplog):
    first, second = ProductFactory(stock=5), ProductFactory(stock=5)
    ProductFactory.create_batch(100)  # rows that make the other transaction the heavier one
    second_locked = threading.Event()
    outcome = {}

    def lock_in_the_wrong_order():
        # Changes every product but `first` (so InnoDB picks the reservation, the
        # smaller transaction, as the deadlock victim), then wants `first`.
        try:
            with transaction.atomic(using="ecommerce"):
                Product.objects.exclude(pk=first.pk).update(description="stocktaking")
                second_locked.set()
                time.sleep(0.5)
                Product.objects.select_for_update().get(pk=first.pk)
            outcome["other"] = "committed"
        except OperationalError as exc:
            outcome["other"] = exc.args[0]
        finally:
            connections.close_all()

    def reserve():
        try:
            second_locked.wait(timeout=10)
            outcome["reserve"] = (
                service_client(settings)
                .post(
                    BASE,
                    {
                        "reference": "T-DEADLOCK",
                        "lines": [
                            {"product_id": first.pk, "quantity": 1},
                            {"product_id": second.pk, "quantity": 1},
                        ],
                    },
                )
                .status_code
            )
        finally:
            connections.close_all()

    threads = [threading.Thread(target=lock_in_the_wrong_order), threading.Thread(target=reserve)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert outcome == {"other": "committed", "reserve": 201}
    assert any(
        record.getMessage() == "lock conflict" and record.mysql_error == 1213
        for record in caplog.records
    )
    assert (stock_of(first), stock_of(second)) == (4, 4)
