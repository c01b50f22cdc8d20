"""Real processes for the system tests: the four services under gunicorn.

`ServiceProcess` runs one service exactly as `make run` and the containers do
(gunicorn with shopkit's config, gthread workers) on a free port, with its log
in var/system/<name>.log, and can be stopped and started again (fault tests).
"""

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import requests

from shopkit import registry

REPO_DIR = Path(__file__).resolve().parents[2]
VENV_BIN = Path(sys.executable).parent
SERVICES = registry.SERVICE_NAMES


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def project_dir(service: str) -> Path:
    return REPO_DIR / registry.service(service).project


def manage(service: str, *args: str, env: dict, check: bool = True) -> subprocess.CompletedProcess:
    """Run `manage.py <args>` of a service with the given environment."""
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=project_dir(service),
        env=env,
        check=check,
        capture_output=True,
        text=True,
    )


class ServiceProcess:
    def __init__(
        self, service: str, *, env: dict, log_dir: Path, port: int | None = None, replica: int = 0
    ):
        self.service = service
        self.port = port or free_port()
        self.address = f"127.0.0.1:{self.port}"
        self.url = f"http://{self.address}"
        self.env = {**env, "PORT": str(self.port), "GUNICORN_BIND": self.address}
        # The first replica logs to <service>.log, a second to <service>-1.log ...
        self.log_path = log_dir / (f"{service}-{replica}.log" if replica else f"{service}.log")
        self.process: subprocess.Popen | None = None

    def start(self, timeout: float = 60.0) -> None:
        log = self.log_path.open("a")
        self.process = subprocess.Popen(
            [
                str(VENV_BIN / "gunicorn"),
                "-c",
                "python:shopkit.gunicorn_conf",
                f"{self.service}_site.wsgi",
            ],
            cwd=project_dir(self.service),
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: kill() reaches the workers too
        )
        self.wait_ready(timeout)

    def wait_ready(self, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.service} exited early; see {self.log_path}")
            try:
                if requests.get(f"{self.url}/{self.service}/ready/", timeout=1).status_code == 200:
                    return
            except requests.RequestException:
                pass
            time.sleep(0.2)
        raise RuntimeError(f"{self.service} not ready after {timeout}s; see {self.log_path}")

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None

    def kill(self) -> None:
        """SIGKILL the master and its workers at once, as a crash would.

        (Killing the master alone leaves its workers serving for a while.)
        """
        if self.process and self.process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()
        self.process = None

    def log_text(self) -> str:
        return self.log_path.read_text() if self.log_path.exists() else ""


def base_environment(
    *, auth_db_url: str, ecommerce_db_url: str, private_key: Path, public_key: Path
) -> dict:
    """The environment the system-test services share (real MariaDB, test keys)."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("DJANGO_SETTINGS")}
    env.update(
        {
            "PATH": f"{VENV_BIN}{os.pathsep}{env.get('PATH', '')}",
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
    )
    return env
