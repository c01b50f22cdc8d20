"""Real processes for the system tests: the four services under gunicorn.

`ServiceProcess` runs one service exactly as `make run` and the benchmark do
(shopkit.processes: gunicorn with shopkit's config, gthread workers, stopped by
SIGTERM to its process group) on a free port, with its log in
var/system/<name>.log, and can be stopped and started again (fault tests).
"""

import os
import subprocess
from pathlib import Path

from shopkit import registry
from shopkit.processes import (
    REPO_DIR,
    VENV_BIN,
    NotReady,
    free_port,
    manage_argv,
    project_dir,
    ready_url,
    service_process,
)

# REPO_DIR, VENV_BIN and free_port live in shopkit.processes; also importable from here.
__all__ = [
    "REPO_DIR",
    "SERVICES",
    "VENV_BIN",
    "ServiceProcess",
    "base_environment",
    "free_port",
    "manage",
]
SERVICES = registry.SERVICE_NAMES


def manage(service: str, *args: str, env: dict, check: bool = True) -> subprocess.CompletedProcess:
    """Run `manage.py <args>` of a service with the given environment."""
    return subprocess.run(
        manage_argv(*args),
        cwd=project_dir(service),
        env=env,
        check=check,
        capture_output=True,
        text=True,
    )


class ServiceProcess:
    """One gunicorn of `service`; several (`replica` 0, 1, ...) can run side by side."""

    def __init__(
        self, service: str, *, env: dict, log_dir: Path, port: int | None = None, replica: int = 0
    ):
        self.service = service
        # The first replica is called (and logs to) <service>, a second <service>-1 ...
        self.name = f"{service}-{replica}" if replica else service
        self.port = port or free_port()
        self.address = f"127.0.0.1:{self.port}"
        self.url = f"http://{self.address}"
        self.log_path = log_dir / f"{self.name}.log"
        self.process = service_process(
            service, port=self.port, env=env, name=self.name, log=self.log_path
        )

    @property
    def env(self) -> dict:
        return self.process.env

    def start(self, timeout: float = 60.0) -> None:
        """Start it and wait for /<service>/ready/; on failure it is left running
        (a test may look at what it answers), stopped at teardown or exit."""
        self.process.start()
        try:
            self.process.wait_until_answers(ready_url(self.service, self.port), timeout=timeout)
        except NotReady as exc:
            raise RuntimeError(f"{self.name} not ready ({exc}); see {self.log_path}") from None

    def running(self) -> bool:
        return self.process.running()

    def stop(self) -> None:
        """Graceful: requests in flight finish (SIGKILL after the grace period)."""
        self.process.stop()

    def kill(self) -> None:
        """SIGKILL to the master and its workers at once, as a crash would."""
        self.process.kill()

    def log_text(self) -> str:
        return self.log_path.read_text() if self.log_path.exists() else ""


def base_environment(
    *, auth_db_url: str, ecommerce_db_url: str, private_key: Path, public_key: Path
) -> dict:
    """What the system-test services share on top of ours (real MariaDB, test keys);
    shopkit.processes.service_environment adds the rest (PATH, neighbours)."""
    return {
        **os.environ,
        "DJANGO_SECRET_KEY": "system-test-secret",
        "SERVICE_TOKEN": "system-test-service-token",
        "JWT_PRIVATE_KEY": str(private_key),
        "JWT_PUBLIC_KEY": str(public_key),
        "AUTH_DATABASE_URL": auth_db_url,
        "ECOMMERCE_DATABASE_URL": ecommerce_db_url,
        "CACHE_URL": "dbcache://tienda_cache",
        "WEB_CONCURRENCY": "2",
        "GUNICORN_THREADS": "4",
        "LOG_LEVEL": "INFO",
        "DJANGO_ALLOWED_HOSTS": "*",
    }
