"""The system under test: the four services as real gunicorn processes on MariaDB.

Session-scoped: fresh databases (tienda_system_auth / tienda_system_ecommerce)
are created, every service is migrated with `manage.py migrate_all`, the four
gunicorns start on free ports and are waited for on /<svc>/ready/, and all are
stopped at the end. Logs are kept in var/system/ for inspection.
"""

import shutil

import MySQLdb
import pytest

from tests.support.environment import TEST_MYSQL_URL, test_database_url
from tests.support.keys import key_pair
from tests.support.processes import REPO_DIR, SERVICES, ServiceProcess, base_environment, manage

SYSTEM_DATABASES = {"auth": "tienda_system_auth", "ecommerce": "tienda_system_ecommerce"}


def _mysql_connection():
    url = TEST_MYSQL_URL.split("://", 1)[1].rstrip("/")
    credentials, _, hostport = url.rpartition("@")
    user, _, password = credentials.partition(":")
    host, _, port = hostport.partition(":")
    return MySQLdb.connect(host=host, port=int(port or 3306), user=user or "root", passwd=password)


def recreate_databases(names):
    connection = _mysql_connection()
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

    def __init__(self, env, log_dir):
        self.env = env
        self.log_dir = log_dir
        self.services = {name: ServiceProcess(name, env=env, log_dir=log_dir) for name in SERVICES}
        # Every service finds its neighbours on the ports chosen above.
        for name, process in self.services.items():
            self.env[f"{name.upper()}_SERVICE_URL"] = process.url
        for process in self.services.values():
            process.env.update(
                {f"{n.upper()}_SERVICE_URL": p.url for n, p in self.services.items()}
            )

    def url(self, service: str) -> str:
        return self.services[service].url

    def manage(self, service: str, *args: str, check: bool = True):
        return manage(service, *args, env=self.env, check=check)

    def start(self):
        for process in self.services.values():
            process.start()

    def stop(self):
        for process in self.services.values():
            process.stop()


@pytest.fixture(scope="session")
def shop():
    log_dir = REPO_DIR / "var" / "system"
    shutil.rmtree(log_dir, ignore_errors=True)
    log_dir.mkdir(parents=True)
    recreate_databases(SYSTEM_DATABASES.values())
    private_key, public_key = key_pair()
    env = base_environment(
        auth_db_url=test_database_url(SYSTEM_DATABASES["auth"]),
        ecommerce_db_url=test_database_url(SYSTEM_DATABASES["ecommerce"]),
        private_key=private_key,
        public_key=public_key,
    )
    running = Shop(env, log_dir)
    for service in SERVICES:
        running.manage(service, "migrate_all", "--verbosity", "0")
    running.start()
    yield running
    running.stop()
