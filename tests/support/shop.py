"""A whole shop for tests that go through real processes (tests/system, tests/browser).

`start_shop(databases, log_dir)` creates fresh MariaDB databases, migrates them
with every service's `manage.py migrate_all`, starts the four gunicorns on free
ports (each told where its neighbours are) and waits until they are ready.
"""

import shutil
from pathlib import Path

from shopkit.processes import MySQLServer, free_port, service_environment
from tests.support.environment import TEST_MYSQL_URL, test_database_url
from tests.support.keys import key_pair
from tests.support.processes import SERVICES, ServiceProcess, base_environment, manage


def mysql_connection(database: str | None = None, **options):
    """A MySQLdb connection to the test server (TEST_MYSQL_URL), optionally to one database."""
    return MySQLServer.from_url(TEST_MYSQL_URL).connect(database, **options)


def recreate_databases(names) -> None:
    connection = mysql_connection()
    try:
        cursor = connection.cursor()
        for name in names:
            cursor.execute(f"DROP DATABASE IF EXISTS `{name}`")
            cursor.execute(
                f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci"
            )
    finally:
        connection.close()


class Shop:
    """The running services: `shop.url("catalog")`, `shop.services["orders"].stop()`."""

    def __init__(self, env: dict, log_dir: Path, databases: dict[str, str]):
        ports = {name: free_port() for name in SERVICES}
        # Every service finds its neighbours on these ports.
        self.env = service_environment(env, ports)
        self.log_dir = log_dir
        self.databases = databases
        self.services = {
            name: ServiceProcess(name, env=self.env, log_dir=log_dir, port=ports[name])
            for name in SERVICES
        }

    def url(self, service: str) -> str:
        return self.services[service].url

    def query(self, database: str, sql: str, *params) -> list[tuple]:
        """Rows from the shop's "auth" or "ecommerce" database (to assert on state)."""
        connection = mysql_connection(self.databases[database])
        try:
            cursor = connection.cursor()
            cursor.execute(sql, params)
            return list(cursor.fetchall())
        finally:
            connection.close()

    def manage(self, service: str, *args: str, check: bool = True):
        return manage(service, *args, env=self.env, check=check)

    def upstreams(self) -> dict[str, str]:
        """The gateway's upstreams: each service's host:port."""
        return {name: f"127.0.0.1:{process.port}" for name, process in self.services.items()}

    def start(self):
        try:
            for process in self.services.values():
                process.start()
        except BaseException:  # one did not start (or Ctrl-C): none is left running
            self.stop()
            raise

    def stop(self):
        for process in self.services.values():
            process.stop()


def start_shop(databases: dict[str, str], log_dir: Path) -> Shop:
    """Fresh `databases` ({"auth": name, "ecommerce": name}), migrated, four services up."""
    shutil.rmtree(log_dir, ignore_errors=True)
    log_dir.mkdir(parents=True)
    recreate_databases(databases.values())
    private_key, public_key = key_pair()
    env = base_environment(
        auth_db_url=test_database_url(databases["auth"]),
        ecommerce_db_url=test_database_url(databases["ecommerce"]),
        private_key=private_key,
        public_key=public_key,
    )
    shop = Shop(env, log_dir, databases)
    for service in SERVICES:
        shop.manage(service, "migrate_all", "--verbosity", "0")
    shop.start()
    return shop
