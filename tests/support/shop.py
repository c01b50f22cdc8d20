"""A whole shop for tests that go through real processes (tests/system, tests/browser).

`start_shop(databases, log_dir)` creates fresh MariaDB databases, migrates them
with every service's `manage.py migrate_all`, starts the four gunicorns on free
ports (each told where its neighbours are) and waits until they are ready.
"""

import shutil
from pathlib import Path

from tests.support.databases import Database, recreate_databases
from tests.support.environment import test_database_url
from tests.support.keys import key_pair
from tests.support.processes import SERVICES, ServiceProcess, base_environment, manage


class Shop:
    """The running services: `shop.url("catalog")`, `shop.services["orders"].stop()`."""

    def __init__(self, env: dict, log_dir: Path, databases: dict[str, str]):
        self.env = env
        self.log_dir = log_dir
        self.databases = databases
        self.services = {name: ServiceProcess(name, env=env, log_dir=log_dir) for name in SERVICES}
        # Every service finds its neighbours on the ports chosen above.
        neighbours = {f"{n.upper()}_SERVICE_URL": p.url for n, p in self.services.items()}
        self.env.update(neighbours)
        for process in self.services.values():
            process.env.update(neighbours)

    def url(self, service: str) -> str:
        return self.services[service].url

    def query(self, database: str, sql: str, *params) -> list[tuple]:
        """Rows from the shop's "auth" or "ecommerce" database (to assert on state)."""
        return Database(self.databases[database]).tuples(sql, *params)

    def manage(self, service: str, *args: str, check: bool = True):
        return manage(service, *args, env=self.env, check=check)

    def start(self):
        for process in self.services.values():
            process.start()

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
