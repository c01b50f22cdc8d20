import pytest
from django.apps import apps
from django.contrib.auth.models import User
from django.contrib.sessions.models import Session

from shopkit.routers import DatabaseRouter, database_for_app
from tests.support.databases import BOTH_DATABASES

router = DatabaseRouter()


# Where each app's tables belong (docs/architecture.md): decided here, independently of the router.
PINNED = {
    "auth": "default",
    "contenttypes": "default",
    "sessions": "default",
    "admin": "default",
    "token_blacklist": "default",
    "accounts": "default",
    "catalog": "ecommerce",
    "carts": "ecommerce",
    "orders": "ecommerce",
}


@pytest.mark.parametrize(("app_label", "alias"), PINNED.items())
def test_every_app_is_pinned_to_one_database(app_label, alias):
    assert database_for_app(app_label) == alias
    other = "ecommerce" if alias == "default" else "default"
    assert router.allow_migrate(alias, app_label) is True
    assert router.allow_migrate(other, app_label) is False


@pytest.mark.django_db(databases=BOTH_DATABASES)
def test_every_models_table_exists_only_where_it_is_read_and_written():
    """Checked on the migrated test databases, for every model of the installed apps:
    an app missing from PINNED, a router that sends reads elsewhere than writes, or
    an allow_migrate that lets a table into the other database all fail here."""
    from django.db import connections

    tables = {
        alias: set(connections[alias].introspection.table_names()) for alias in BOTH_DATABASES
    }
    for model in apps.get_models(include_auto_created=True):
        label, table = model._meta.app_label, model._meta.db_table
        assert label in PINNED, f"app {label} has tables: pin it to a database"
        alias = PINNED[label]
        assert router.db_for_read(model) == router.db_for_write(model) == alias, table
        assert table in tables[alias], f"{table} is not in {alias}"
        for other in set(BOTH_DATABASES) - {alias}:
            assert table not in tables[other], f"{table} is in {other} too"


def test_reads_and_writes_follow_the_app():
    assert router.db_for_read(User) == "default"
    assert router.db_for_write(Session) == "default"


def test_relations_across_databases_are_refused():
    class FakeMeta:
        app_label = "catalog"

    class CatalogThing:
        _meta = FakeMeta

    assert router.allow_relation(User(), User()) is True
    assert router.allow_relation(User(), CatalogThing()) is False
