"""A whole shop for tests that go through real processes (tests/system, tests/browser).

`start_shop(databases, log_dir)` creates fresh MariaDB databases, migrates them
with every service's `manage.py migrate_all`, starts the four gunicorns on free
ports (each told where its neighbours are) and waits until they are ready.
With `replicas=2`, two gunicorns per service (each an independent process, as
two pods would be): replica n calls replica n of its neighbours.
"""

import shutil
from pathlib import Path

from shopkit.processes import free_port, service_environment
from tests.support.databases import Database, recreate_databases
from tests.support.environment import test_database_url
from tests.support.keys import key_pair
from tests.support.processes import SERVICES, ServiceProcess, base_environment, manage


class Shop:
    """The running services: `shop.url("catalog")`, `shop.services["orders"].stop()`."""

    def __init__(self, env: dict, log_dir: Path, databases: dict[str, str], replicas: int = 1):
        self.log_dir = log_dir
        self.databases = databases
        ports = [{name: free_port() for name in SERVICES} for _ in range(replicas)]
        # Replica n finds replica n of its neighbours on these ports.
        self.replicas = {
            name: [
                ServiceProcess(
                    name,
                    env=service_environment(env, ports[n]),
                    log_dir=log_dir,
                    port=ports[n][name],
                    replica=n,
                )
                for n in range(replicas)
            ]
            for name in SERVICES
        }
        self.services = {name: processes[0] for name, processes in self.replicas.items()}
        self.env = service_environment(env, ports[0])  # for manage.py commands

    def processes(self) -> list[ServiceProcess]:
        return [process for processes in self.replicas.values() for process in processes]

    def upstreams(self) -> dict[str, list[str]]:
        """The gateway's upstreams: every replica's host:port, per service."""
        return {name: [p.address for p in processes] for name, processes in self.replicas.items()}

    def url(self, service: str) -> str:
        return self.services[service].url

    def query(self, database: str, sql: str, *params) -> list[tuple]:
        """Rows from the shop's "auth" or "ecommerce" database (to assert on state)."""
        return Database(self.databases[database]).tuples(sql, *params)

    def manage(self, service: str, *args: str, check: bool = True):
        return manage(service, *args, env=self.env, check=check)

    def start(self):
        try:
            for process in self.processes():
                process.start()
        except BaseException:  # one did not start (or Ctrl-C): none is left running
            self.stop()
            raise

    def stop(self):
        for process in self.processes():
            process.stop()


def start_shop(
    databases: dict[str, str], log_dir: Path, *, replicas: int = 1, env: dict | None = None
) -> Shop:
    """Fresh `databases` ({"auth": name, "ecommerce": name}), migrated, four services up
    (`replicas` gunicorns each; `env` adds to or overrides their environment)."""
    shutil.rmtree(log_dir, ignore_errors=True)
    log_dir.mkdir(parents=True)
    recreate_databases(databases.values())
    private_key, public_key = key_pair()
    environment = base_environment(
        auth_db_url=test_database_url(databases["auth"]),
        ecommerce_db_url=test_database_url(databases["ecommerce"]),
        private_key=private_key,
        public_key=public_key,
    )
    shop = Shop({**environment, **(env or {})}, log_dir, databases, replicas=replicas)
    for service in SERVICES:
        shop.manage(service, "migrate_all", "--verbosity", "0")
    shop.start()
    return shop
