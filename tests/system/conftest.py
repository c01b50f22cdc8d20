"""The system under test: the four services as real gunicorn processes on MariaDB,
and the nginx gateway in front of them.

Session-scoped: fresh databases (tienda_system_auth / tienda_system_ecommerce)
are created, every service is migrated with `manage.py migrate_all`, the four
gunicorns start on free ports and are waited for on /<svc>/ready/, and all are
stopped at the end (`shop`). `gateway` renders gateway_nginx's template in
front of them and runs nginx on a free port. Logs are kept in var/system/.
"""

import os
import shutil

import MySQLdb
import pytest

from tests.support.environment import TEST_MYSQL_URL, test_database_url
from tests.support.keys import key_pair
from tests.support.processes import REPO_DIR, SERVICES, ServiceProcess, base_environment, manage
from tests.system.gateway import GatewayProcess

# TIENDA_SYSTEM_TEST_ID=name gives a run its own databases and log directory
# (tienda_system_name_auth, var/system-name/), so that two runs on one machine
# (two developers in one checkout) do not drop each other's databases.
RUN_ID = os.environ.get("TIENDA_SYSTEM_TEST_ID", "")
if RUN_ID and not RUN_ID.isidentifier():
    raise RuntimeError("TIENDA_SYSTEM_TEST_ID must be letters, digits and underscores")
_SUFFIX = f"_{RUN_ID}" if RUN_ID else ""
SYSTEM_DATABASES = {
    "auth": f"tienda_system{_SUFFIX}_auth",
    "ecommerce": f"tienda_system{_SUFFIX}_ecommerce",
}
SYSTEM_LOG_DIR = REPO_DIR / "var" / (f"system-{RUN_ID}" if RUN_ID else "system")


def _mysql_connection(database: str | None = None):
    url = TEST_MYSQL_URL.split("://", 1)[1].rstrip("/")
    credentials, _, hostport = url.rpartition("@")
    user, _, password = credentials.partition(":")
    host, _, port = hostport.partition(":")
    return MySQLdb.connect(
        host=host,
        port=int(port or 3306),
        user=user or "root",
        passwd=password,
        **({"db": database} if database else {}),
    )


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

    def query(self, database: str, sql: str, *params) -> list[tuple]:
        """Rows from the system's "auth" or "ecommerce" database (to assert on state)."""
        connection = _mysql_connection(SYSTEM_DATABASES[database])
        try:
            cursor = connection.cursor()
            cursor.execute(sql, params)
            return list(cursor.fetchall())
        finally:
            connection.close()

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
    log_dir = SYSTEM_LOG_DIR
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


@pytest.fixture(scope="session")
def gateway(shop):
    """nginx in front of the shop's services, with the rate limits `make run` ships.

    `gateway.url` is its base URL; `gateway.log_text()` its access and error log.
    """
    running = GatewayProcess(
        {name: f"127.0.0.1:{process.port}" for name, process in shop.services.items()},
        log_dir=shop.log_dir,
    )
    running.start()
    yield running
    running.stop()


@pytest.fixture(scope="session")
def open_gateway(shop):
    """The same gateway without its rate limits, for tests of many concurrent buyers
    from one address (overselling, faults): what they test is the shop, not nginx's
    limits, which `gateway` keeps and test_gateway.py tests.
    """
    unlimited = {
        f"{path}_{what}": value
        for path in ("login", "register", "checkout")
        for what, value in (("rate", "10000r/s"), ("burst", 10000))
    }
    running = GatewayProcess(
        {name: f"127.0.0.1:{process.port}" for name, process in shop.services.items()},
        log_dir=shop.log_dir,
        name="gateway-open",
        **unlimited,
    )
    running.start()
    yield running
    running.stop()
