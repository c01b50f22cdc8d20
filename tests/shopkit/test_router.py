import pytest
from django.apps import apps
from django.contrib.auth.models import User
from django.contrib.sessions.models import Session

from shopkit.routers import DatabaseRouter, database_for_app

router = DatabaseRouter()


@pytest.mark.parametrize(
    ("app_label", "alias"),
    [
        ("auth", "default"),
        ("contenttypes", "default"),
        ("sessions", "default"),
        ("admin", "default"),
        ("token_blacklist", "default"),
        ("accounts", "default"),
        ("catalog", "ecommerce"),
        ("carts", "ecommerce"),
        ("orders", "ecommerce"),
    ],
)
def test_every_app_is_pinned_to_one_database(app_label, alias):
    assert database_for_app(app_label) == alias
    other = "ecommerce" if alias == "default" else "default"
    assert router.allow_migrate(alias, app_label) is True
    assert router.allow_migrate(other, app_label) is False


def test_allow_migrate_always_answers_yes_or_no():
    for config in apps.get_app_configs():
        for alias in ("default", "ecommerce"):
            assert router.allow_migrate(alias, config.label) in (True, False)


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


@pytest.mark.django_db(databases=["default", "ecommerce"])
def test_migrated_tables_live_only_in_their_database():
    from django.db import connections

    auth_tables = set(connections["default"].introspection.table_names())
    ecommerce_tables = set(connections["ecommerce"].introspection.table_names())
    assert {"auth_user", "django_session", "django_content_type"} <= auth_tables
    assert not any(
        t.startswith(("auth_", "django_")) for t in ecommerce_tables - {"django_migrations"}
    )
