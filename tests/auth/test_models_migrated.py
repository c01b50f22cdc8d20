import pytest

from tests.support.databases import BOTH_DATABASES
from tests.support.migrations import assert_no_missing_migrations


@pytest.mark.django_db(databases=BOTH_DATABASES)
def test_every_model_change_has_its_migration():
    assert_no_missing_migrations()
