"""Expired reservations go back to stock: manage.py release_expired_reservations."""

import os
import signal
import subprocess
import sys
from datetime import timedelta
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone

from catalog.models import Product, Reservation
from catalog.services import reservation_commit, reservation_reserve
from tests.catalog.factories import ProductFactory
from tests.support import environment
from tests.support.databases import BOTH_DATABASES

pytestmark = pytest.mark.django_db(databases=BOTH_DATABASES)


def stock(product) -> int:
    return Product.objects.values_list("stock", flat=True).get(pk=product.pk)


def test_releases_only_reservations_still_reserved_past_their_expiry():
    product = ProductFactory(stock=10)
    for reference, quantity in (("T-OLD", 1), ("T-OLD-COMMITTED", 2), ("T-FRESH", 3)):
        reservation_reserve(
            reference=reference, lines=[{"product_id": product.pk, "quantity": quantity}]
        )
    reservation_commit(reference="T-OLD-COMMITTED")
    Reservation.objects.exclude(reference="T-FRESH").update(
        expires_at=timezone.now() - timedelta(seconds=1)
    )
    assert stock(product) == 4

    output = StringIO()
    call_command("release_expired_reservations", stdout=output)
    assert "Released 1 expired reservation(s)." in output.getvalue()
    states = dict(Reservation.objects.values_list("reference", "state"))
    assert states == {"T-OLD": "released", "T-OLD-COMMITTED": "committed", "T-FRESH": "reserved"}
    assert stock(product) == 5

    # Running it again finds nothing more to do.
    output = StringIO()
    call_command("release_expired_reservations", stdout=output)
    assert "Released 0 expired reservation(s)." in output.getvalue()
    assert stock(product) == 5


def test_works_through_several_batches():
    product = ProductFactory(stock=30)
    for n in range(25):
        reservation_reserve(
            reference=f"T-B{n:02d}", lines=[{"product_id": product.pk, "quantity": 1}]
        )
    Reservation.objects.update(expires_at=timezone.now() - timedelta(minutes=5))
    output = StringIO()
    call_command("release_expired_reservations", "--batch-size", "10", stdout=output)
    assert "Released 25 expired reservation(s)." in output.getvalue()
    assert stock(product) == 30


def test_loop_needs_a_positive_interval():
    with pytest.raises(CommandError):
        call_command("release_expired_reservations", "--loop", "0")


@pytest.mark.django_db(transaction=True, databases=BOTH_DATABASES)
def test_loop_mode_runs_passes_until_sigterm(settings):
    """How docker-compose runs it: a process that releases every SECONDS and stops cleanly."""
    product = ProductFactory(stock=3)
    reservation_reserve(reference="T-LOOP", lines=[{"product_id": product.pk, "quantity": 2}])
    Reservation.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    env = {
        **os.environ,
        "AUTH_DATABASE_URL": environment.test_database_url(settings.DATABASES["default"]["NAME"]),
        "ECOMMERCE_DATABASE_URL": environment.test_database_url(
            settings.DATABASES["ecommerce"]["NAME"]
        ),
        "DJANGO_SETTINGS_MODULE": "catalog_site.settings",
    }
    process = subprocess.Popen(
        [sys.executable, "manage.py", "release_expired_reservations", "--loop", "0.2"],
        cwd=Path(__file__).resolve().parents[2] / "catalog_site",
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        lines = [process.stdout.readline() for _ in range(2)]
        assert lines[0].strip() == "Released 1 expired reservation(s)."
        assert lines[1].strip() == "Released 0 expired reservation(s)."
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=10) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert stock(product) == 3
