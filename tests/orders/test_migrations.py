"""Orders placed before shopkit.address keep their snapshot: phones move to E.164 only."""

from decimal import Decimal

import pytest
from django.db import connections
from django.db.migrations.executor import MigrationExecutor

from tests.support.databases import BOTH_DATABASES

BEFORE = [("orders", "0003_checkout_lease")]
AFTER = [("orders", "0004_order_shipping_address_country_field_and_e164_phone")]


@pytest.mark.django_db(databases=BOTH_DATABASES, transaction=True)
def test_stored_order_phones_move_to_e164_and_invalid_ones_are_kept():
    connection = connections["ecommerce"]
    executor = MigrationExecutor(connection)
    executor.migrate(BEFORE)
    old_order = executor.loader.project_state(BEFORE).apps.get_model("orders", "Order")
    phones = {"+34 612 34 56 78": "+34612345678", "612345678": "+34612345678", "12": "12"}
    expected = {}
    for index, phone in enumerate(phones):
        order = old_order.objects.using("ecommerce").create(
            number=f"T-00000000{index:02d}",
            user_id=1,
            full_name="Ada Lovelace",
            line1="Calle Mayor 1",
            city="Madrid",
            postal_code="28013",
            country="ES",
            phone=phone,
            currency="EUR",
            subtotal=Decimal("1.00"),
            tax=Decimal("0.21"),
            total=Decimal("1.21"),
            cart_version=1,
        )
        expected[order.pk] = (phones[phone], "Ada Lovelace", "ES")

    executor = MigrationExecutor(connection)
    executor.migrate(AFTER)

    new_order = executor.loader.project_state(AFTER).apps.get_model("orders", "Order")
    stored = new_order.objects.using("ecommerce").values_list("pk", "phone", "full_name", "country")
    assert {pk: tuple(rest) for pk, *rest in stored} == expected

    # Back to the latest schema, so tests that run after this one see every table.
    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())


@pytest.mark.django_db(databases=BOTH_DATABASES, transaction=True)
def test_orders_placed_before_payments_are_unpaid_afterwards():
    before = [("orders", "0005_shipping_methods_and_tracking")]
    after = [("orders", "0006_payments_and_order_payment_status")]
    connection = connections["ecommerce"]
    executor = MigrationExecutor(connection)
    executor.migrate(before)
    old_order = executor.loader.project_state(before).apps.get_model("orders", "Order")
    placed = old_order.objects.using("ecommerce").create(
        number="T-0000000099",
        user_id=1,
        full_name="Ada Lovelace",
        line1="Calle Mayor 1",
        city="Madrid",
        postal_code="28013",
        country="ES",
        currency="EUR",
        subtotal=Decimal("1.00"),
        tax=Decimal("0.21"),
        total=Decimal("1.21"),
        cart_version=1,
        status="confirmed",
    )

    executor = MigrationExecutor(connection)
    executor.migrate(after)

    new_order = executor.loader.project_state(after).apps.get_model("orders", "Order")
    stored = new_order.objects.using("ecommerce").get(pk=placed.pk)
    assert (stored.status, stored.payment_status, stored.paid_at) == ("confirmed", "unpaid", None)
    assert not stored.payments.exists()

    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())
