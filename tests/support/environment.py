"""The environment and settings of a test run, one service at a time.

Each service's tests run in their own pytest process with `tests/<svc>/settings.py`,
which calls `prepare_environment(svc)` before importing the service's settings
and `apply_test_settings(svc, globals())` after. Test databases are named per
service, so the four runs (and the system tests) never collide on one MariaDB.
"""

import os

from shopkit.processes import MySQLServer
from tests.support.keys import key_pair

# MariaDB/MySQL that the tests use; `make test` makes sure it answers.
TEST_MYSQL_URL = os.environ.get("TEST_MYSQL_URL", "mysql://root@127.0.0.1:3306")

# TIENDA_SYSTEM_TEST_ID=name gives a run its own databases and log directories
# (test_tienda_catalog_name_auth, tienda_system_name_auth, var/system-name/), so that
# two runs on one machine (two checkouts, two developers) never drop each other's.
RUN_ID = os.environ.get("TIENDA_SYSTEM_TEST_ID", "")
if RUN_ID and not RUN_ID.isidentifier():
    raise RuntimeError("TIENDA_SYSTEM_TEST_ID must be letters, digits and underscores")
RUN_SUFFIX = f"_{RUN_ID}" if RUN_ID else ""


def test_database_url(name: str) -> str:
    return MySQLServer.from_url(TEST_MYSQL_URL).url(name)


def prepare_environment(service: str) -> None:
    """Environment variables the service's settings read (explicit values win)."""
    private_pem, public_pem = key_pair()
    os.environ.setdefault("DJANGO_SECRET_KEY", "test-secret-key")
    os.environ.setdefault("SERVICE_TOKEN", "test-service-token")
    os.environ.setdefault("JWT_PRIVATE_KEY", str(private_pem))
    os.environ.setdefault("JWT_PUBLIC_KEY", str(public_pem))
    os.environ.setdefault("AUTH_DATABASE_URL", test_database_url(f"tienda_{service}_auth"))
    os.environ.setdefault(
        "ECOMMERCE_DATABASE_URL", test_database_url(f"tienda_{service}_ecommerce")
    )
    os.environ.setdefault("CACHE_URL", "locmemcache://")
    os.environ.setdefault("LOG_LEVEL", "WARNING")


def apply_test_settings(service: str, namespace: dict) -> None:
    """Fast, isolated settings on top of the service's own."""
    for alias, suffix in (("default", "auth"), ("ecommerce", "ecommerce")):
        if namespace["DATABASES"][alias]["ENGINE"].endswith("sqlite3"):
            continue  # SQLite URLs (tests/shopkit's second run): in-memory test databases
        namespace["DATABASES"][alias].setdefault("TEST", {})["NAME"] = (
            f"test_tienda_{service}{RUN_SUFFIX}_{suffix}"
        )
    namespace["PASSWORD_HASHERS"] = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    # Neighbour services are never reached by accident from unit tests.
    namespace["SERVICE_URLS"] = {
        name: f"http://127.0.0.1:9/{name}" for name in namespace["SERVICE_URLS"]
    }
    namespace["SERVICE_RETRIES"] = 0
