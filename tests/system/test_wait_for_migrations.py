"""`manage.py wait_for_migrations` (the Kubernetes init container of every service pod):
it lets a pod start once the migrations Job has run, and holds it back before."""

import pytest

from tests.support import environment
from tests.support.databases import drop_databases, recreate_databases
from tests.support.environment import RUN_SUFFIX
from tests.support.processes import manage


def test_it_passes_once_the_databases_are_migrated(shop):
    for service in ("auth", "orders"):
        result = shop.manage(service, "wait_for_migrations", "--timeout", "5")
        assert result.returncode == 0, result.stderr
        assert "every migration is applied" in result.stdout


@pytest.fixture
def empty_databases():
    names = {
        "auth": f"tienda_unmigrated{RUN_SUFFIX}_auth",
        "ecommerce": f"tienda_unmigrated{RUN_SUFFIX}_ecommerce",
    }
    recreate_databases(names.values())
    yield names
    drop_databases(names.values())


def test_it_holds_back_a_pod_while_migrations_are_pending(shop, empty_databases):
    empty = empty_databases
    env = {
        **shop.env,
        "AUTH_DATABASE_URL": environment.test_database_url(empty["auth"]),
        "ECOMMERCE_DATABASE_URL": environment.test_database_url(empty["ecommerce"]),
    }
    result = manage(
        "catalog",
        "wait_for_migrations",
        "--timeout",
        "1",
        "--interval",
        "0.5",
        env=env,
        check=False,
    )
    assert result.returncode == 1
    assert "migrations still pending" in result.stderr
    assert "catalog.0001_initial" in result.stderr
    # Once migrated (what the Job does), the same pod would start.
    manage("catalog", "migrate_all", "--verbosity", "0", env=env)
    result = manage("catalog", "wait_for_migrations", "--timeout", "5", env=env, check=False)
    assert result.returncode == 0, result.stderr
