"""Addresses saved before shopkit.address keep working: their phones move to E.164."""

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from tests.auth.factories import UserFactory
from tests.support.databases import BOTH_DATABASES

BEFORE = [("accounts", "0001_initial")]
AFTER = [("accounts", "0002_address_country_field_and_e164_phone")]


@pytest.mark.django_db(databases=BOTH_DATABASES, transaction=True)
def test_stored_phones_move_to_e164_and_invalid_ones_are_kept():
    user = UserFactory()
    executor = MigrationExecutor(connection)
    executor.migrate(BEFORE)
    old_address = executor.loader.project_state(BEFORE).apps.get_model("accounts", "Address")
    phones = {
        "+34 612 34 56 78": "+34612345678",
        "612-345-678": "+34612345678",  # national, read in the row's country
        "(020) 7946 0018": "+442079460018",
        "1234": "1234",  # never a valid number: kept, the next edit asks for a valid one
        "": "",
    }
    ids = {}
    for phone in phones:
        country = "GB" if phone.startswith("(020)") else "ES"
        row = old_address.objects.create(
            user_id=user.pk,
            full_name="Ana",
            line1="Gran Vía 1",
            city="Madrid",
            postal_code="28013",
            country=country,
            phone=phone,
        )
        ids[row.pk] = phones[phone]

    executor = MigrationExecutor(connection)
    executor.migrate(AFTER)

    new_address = executor.loader.project_state(AFTER).apps.get_model("accounts", "Address")
    assert dict(new_address.objects.values_list("pk", "phone")) == ids

    # Back to the latest schema, so tests that run after this one see every table.
    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())
