#!/usr/bin/env python3
"""`make run`: the whole shop on http://localhost:8080, in the foreground.

1. var/dev.env once: random secrets, DJANGO_DEBUG=0, a JWT key pair in var/keys/;
2. `manage.py migrate_all` for the four services (both databases);
3. demo data once (var/.seeded): seed_users, seed_catalog, then seed_orders
   through the gateway once everything answers;
4. four gunicorns (127.0.0.1:8000-8003), the reservation expiry job and nginx
   (rendered into var/gateway/) with every log line prefixed by its process;
5. Ctrl-C (SIGINT) or SIGTERM stops every child, waits for them, exits 0.

SQLite files under var/ unless AUTH_DATABASE_URL / ECOMMERCE_DATABASE_URL are
set. A second run reuses the secrets, the keys, the databases and the data.
The process handling (ProcessGroup) is reused by bench/run.py.
"""

import argparse
import contextlib
import hashlib
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

REPO_DIR = Path(__file__).resolve().parents[1]
if str(REPO_DIR) not in sys.path:
    sys.path.insert(0, str(REPO_DIR))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from dev_secrets import ensure_dev_env  # noqa: E402

from gateway_nginx.render import (  # noqa: E402
    LOCAL_GATEWAY_PORT,
    GatewayConfig,
    find_nginx,
    write_config,
)
from shopkit.registry import SERVICE_NAMES as SERVICES  # noqa: E402
from shopkit.registry import SERVICE_PORTS  # noqa: E402

# Where the run keeps its state; shopkit's settings read the same variable.
VAR_DIR = Path(os.environ.get("VAR_DIR") or REPO_DIR / "var").resolve()
VENV_BIN = Path(sys.executable).parent
SEED_MARKER = VAR_DIR / ".seeded"
DEMO_CUSTOMERS = 20
DEMO_PRODUCTS = 300
DEMO_ORDERS = 20
# What auth's `seed_users --dev` makes when DJANGO_SUPERUSER_EMAIL/_PASSWORD are unset.
DEMO_SUPERUSER_EMAIL = "admin@tienda.local"
DEMO_SUPERUSER_PASSWORD = "tienda-admin-2026"
DEMO_STAFF_PASSWORD = "tienda-staff-2026"
DEMO_CUSTOMER_PASSWORD = "tienda-demo-2026"  # passed to seed_users explicitly
PREFIX_WIDTH = 9
_COLOURS = {
    "auth": 34,
    "catalog": 32,
    "cart": 33,
    "orders": 35,
    "gateway": 36,
    "expiry": 90,
    "reconcile": 90,
}


class Output:
    """Every child's lines on our stdout, prefixed by its name ("auth    | ...")."""

    def __init__(self, stream=sys.stdout):
        self.stream = stream
        self.lock = threading.Lock()
        self.colour = stream.isatty() and not os.environ.get("NO_COLOR")

    def line(self, name: str, text: str) -> None:
        prefix = f"{name:<{PREFIX_WIDTH}}|"
        if self.colour:
            prefix = f"\033[{_COLOURS.get(name, 0)}m{prefix}\033[0m"
        with self.lock:
            self.stream.write(f"{prefix} {text.rstrip()}\n")
            self.stream.flush()

    def say(self, text: str) -> None:
        for line in text.splitlines() or [""]:
            self.line("tienda", line)


class Child:
    """One child process whose output is pumped, line by line, to Output.

    With `log`, its output goes straight to that file instead (the benchmark:
    no pumping in the process that measures).
    """

    def __init__(
        self, name, argv, *, cwd: Path, env: dict, output: Output, log: Path | None = None
    ):
        self.name, self.argv, self.cwd, self.env, self.output = name, argv, cwd, env, output
        self.log = log
        self.process: subprocess.Popen | None = None
        self.pump: threading.Thread | None = None

    def start(self) -> "Child":
        if self.log is not None:
            with self.log.open("a") as log:
                self.process = self._popen(log)
            return self
        self.process = self._popen(subprocess.PIPE)
        self.pump = threading.Thread(target=self._pump, name=f"pump-{self.name}", daemon=True)
        self.pump.start()
        return self

    def _popen(self, stdout) -> subprocess.Popen:
        return subprocess.Popen(  # noqa: S603 (our own fixed commands)
            self.argv,
            cwd=self.cwd,
            env=self.env,
            stdin=subprocess.DEVNULL,
            stdout=stdout,
            stderr=subprocess.STDOUT,
            text=True,
            bufsize=1,
            # Our own session: Ctrl-C reaches this script only, which stops the
            # children in order (and waits for them) instead of all at once.
            start_new_session=True,
        )

    def _pump(self) -> None:
        for line in self.process.stdout:
            self.output.line(self.name, line)

    def exited(self) -> int | None:
        return self.process.poll() if self.process else None

    def wait(self) -> int:
        code = self.process.wait()
        if self.pump:
            self.pump.join(timeout=5)
        return code

    def stop(self, timeout: float = 15.0) -> None:
        """SIGTERM to the child's whole process group (a shell loop's sleep too), then wait."""
        if self.process is None or self.process.poll() is not None:
            return
        self._signal_group(signal.SIGTERM)
        try:
            self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.output.say(f"{self.name} did not stop in {timeout:.0f}s; killing it")
            self._signal_group(signal.SIGKILL)
            self.process.wait()
        if self.pump:
            self.pump.join(timeout=5)

    def _signal_group(self, signum: int) -> None:
        # The child leads its own process group (start_new_session).
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signum)


class ProcessGroup:
    """The long-running children: started in order, stopped in reverse order."""

    def __init__(self, output: Output):
        self.output = output
        self.children: list[Child] = []
        self.essential: set[str] = set()

    def start(self, name, argv, *, cwd, env, essential=True, log=None) -> Child:
        child = Child(name, argv, cwd=cwd, env=env, output=self.output, log=log).start()
        self.children.append(child)
        if essential:
            self.essential.add(name)
        return child

    def failed(self) -> Child | None:
        """An essential child that exited on its own."""
        for child in self.children:
            if child.name in self.essential and child.exited() is not None:
                return child
        return None

    def stop(self) -> None:
        for child in reversed(self.children):
            child.stop()


def run_step(name, argv, *, cwd: Path, env: dict, output: Output, stop=None, log=None) -> int:
    """Run one command to its end with prefixed output (or into `log`); its exit code.

    When the `stop` event is set meanwhile (Ctrl-C), the command is terminated.
    """
    child = Child(name, argv, cwd=cwd, env=env, output=output, log=log).start()
    while child.exited() is None:
        if stop is not None and stop.is_set():
            child.stop()
            break
        time.sleep(0.1)
    return child.wait()


def manage_argv(*args: str) -> list[str]:
    return [sys.executable, "manage.py", *args]


def gunicorn_argv(wsgi_module: str) -> list[str]:
    """The services' (and the benchmark's hello site's) server: shopkit's gunicorn config."""
    return [str(VENV_BIN / "gunicorn"), "-c", "python:shopkit.gunicorn_conf", wsgi_module]


def port_is_free(port: int, host: str = "127.0.0.1") -> bool:
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return False
    return True


def http_status(url: str, timeout: float = 2.0) -> int | None:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:  # noqa: S310 (loopback)
            return response.status
    except urllib.error.HTTPError as exc:
        return exc.code
    except (urllib.error.URLError, OSError):
        return None


class Interrupted(Exception):
    """Ctrl-C (or SIGTERM) arrived while starting."""


def wait_until_ok(url: str, *, group: ProcessGroup, stop=None, timeout: float = 90.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if stop is not None and stop.is_set():
            raise Interrupted
        if (dead := group.failed()) is not None:
            raise RuntimeError(f"{dead.name} exited (code {dead.exited()}) while starting")
        if http_status(url) == 200:
            return
        time.sleep(0.25)
    raise RuntimeError(f"{url} did not answer 200 within {timeout:.0f}s")


def service_environment(base: dict, ports: dict[str, int]) -> dict:
    """The environment every service process shares, neighbours on loopback."""
    env = {key: value for key, value in base.items() if key != "DJANGO_SETTINGS_MODULE"}
    env["PYTHONUNBUFFERED"] = "1"
    env["PATH"] = f"{VENV_BIN}{os.pathsep}{env.get('PATH', '')}"
    for service in SERVICES:
        env[f"{service.upper()}_SERVICE_URL"] = f"http://127.0.0.1:{ports[service]}"
    return env


def bind_environment(env: dict, port: int) -> dict:
    return {**env, "PORT": str(port), "GUNICORN_BIND": f"127.0.0.1:{port}"}


def database_target(env: dict) -> str:
    """Where the data lives, for the banner and for the seed marker."""
    urls = [env.get("AUTH_DATABASE_URL", ""), env.get("ECOMMERCE_DATABASE_URL", "")]
    if not any(urls):
        return f"SQLite: {VAR_DIR / 'auth.sqlite3'}, {VAR_DIR / 'ecommerce.sqlite3'}"
    shown = [url.split("@")[-1] if url else "SQLite" for url in urls]
    return f"auth_db {shown[0]}, ecommerce_db {shown[1]}"


class SeedMarker:
    """var/.seeded: which demo-data steps are done, for which databases."""

    def __init__(self, path: Path, target: str):
        self.path = path
        self.target = hashlib.sha256(target.encode()).hexdigest()[:16]
        self.done: set[str] = set()
        if path.is_file():
            try:
                data = json.loads(path.read_text())
            except ValueError:
                data = {}
            if data.get("target") == self.target:
                self.done = set(data.get("steps", []))

    def record(self, step: str) -> None:
        self.done.add(step)
        self.path.write_text(json.dumps({"target": self.target, "steps": sorted(self.done)}))


def seed_step(step, service, args, *, marker, env, output, stop) -> None:
    """One idempotent seeding command, recorded in the marker when it succeeded."""
    if step in marker.done or stop.is_set():
        return
    output.say(f"seeding: manage.py {' '.join(args)} ({service})")
    code = run_step(
        service,
        manage_argv(*args),
        cwd=REPO_DIR / f"{service}_site",
        env=env,
        output=output,
        stop=stop,
    )
    if stop.is_set():
        return
    if code == 0:
        marker.record(step)
    else:
        output.say(f"seeding step {args[0]} failed (code {code}); it will be retried next run")


def banner(env: dict, gateway_url: str) -> str:
    apis = "  ".join(f"/api/v1/{s}/" for s in SERVICES)
    superuser_email = env.get("DJANGO_SUPERUSER_EMAIL") or DEMO_SUPERUSER_EMAIL
    superuser_password = env.get("DJANGO_SUPERUSER_PASSWORD") or DEMO_SUPERUSER_PASSWORD
    return f"""
Tienda is running on {gateway_url}
  back-office   {gateway_url}/admin/   (links to the four admins and API docs)
  APIs          {apis}
  API docs      {gateway_url}/api/v1/<service>/docs/
  health        {gateway_url}/health   and /<service>/ready/
  superuser     {superuser_email} / {superuser_password}
  staff         catalog@tienda.local, orders@tienda.local / {DEMO_STAFF_PASSWORD}
  customers     customer1@example.com ... customer{DEMO_CUSTOMERS}@example.com / {DEMO_CUSTOMER_PASSWORD}
  databases     {database_target(env)}
Ctrl-C stops everything.
"""


def parse_args(argv):
    parser = argparse.ArgumentParser(description="Run the shop locally (what `make run` does).")
    parser.add_argument("--no-seed", action="store_true", help="skip the demo data")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    output = Output()
    nginx = find_nginx()
    if nginx is None:
        output.say(
            "nginx is not installed. As root: scripts/system-packages.sh "
            "(or apt-get install nginx-light), then `make run` again."
        )
        return 1
    ports = dict(SERVICE_PORTS)
    busy = [p for p in [*ports.values(), LOCAL_GATEWAY_PORT] if not port_is_free(p)]
    if busy:
        output.say(
            f"port(s) {', '.join(map(str, busy))} in use: is another `make run` running? "
            "Stop it (Ctrl-C) or free the ports."
        )
        return 1

    VAR_DIR.mkdir(parents=True, exist_ok=True)
    # The shell's variables win over var/dev.env, which wins over .env (shopkit reads it).
    env = service_environment(
        {**ensure_dev_env(VAR_DIR), **os.environ, "VAR_DIR": str(VAR_DIR)}, ports
    )

    stopping = threading.Event()

    def request_stop(signum, frame):
        stopping.set()

    signal.signal(signal.SIGINT, request_stop)
    signal.signal(signal.SIGTERM, request_stop)

    output.say(f"databases: {database_target(env)}")
    for service in SERVICES:
        code = run_step(
            service,
            manage_argv("migrate_all", "--verbosity", "1"),
            cwd=REPO_DIR / f"{service}_site",
            env=env,
            output=output,
            stop=stopping,
        )
        if code != 0 or stopping.is_set():
            output.say(f"migrating {service} failed (code {code})" if code else "stopped")
            return 1 if code else 0

    marker = SeedMarker(SEED_MARKER, database_target(env))
    if not args.no_seed:
        seed_step(
            "users",
            "auth",
            [
                "seed_users",
                "--dev",
                "--customers",
                str(DEMO_CUSTOMERS),
                "--customer-password",
                DEMO_CUSTOMER_PASSWORD,
            ],
            marker=marker,
            env=env,
            output=output,
            stop=stopping,
        )
        seed_step(
            "catalog",
            "catalog",
            ["seed_catalog", "--products", str(DEMO_PRODUCTS)],
            marker=marker,
            env=env,
            output=output,
            stop=stopping,
        )

    group = ProcessGroup(output)
    gateway_url = f"http://localhost:{LOCAL_GATEWAY_PORT}"
    seed_url = f"http://127.0.0.1:{LOCAL_GATEWAY_PORT}"  # nginx listens on IPv4 loopback
    try:
        for service in SERVICES:
            group.start(
                service,
                gunicorn_argv(f"{service}_site.wsgi"),
                cwd=REPO_DIR / f"{service}_site",
                env=bind_environment(env, ports[service]),
            )
        # The jobs: stock held by checkouts that never finished goes back (catalog);
        # checkouts stopped halfway are finished or undone (orders).
        group.start(
            "expiry",
            manage_argv("release_expired_reservations", "--loop", "60"),
            cwd=REPO_DIR / "catalog_site",
            env=env,
            essential=False,
        )
        group.start(
            "reconcile",
            manage_argv("reconcile_checkouts", "--loop", "60"),
            cwd=REPO_DIR / "orders_site",
            env=env,
            essential=False,
        )
        conf = write_config(GatewayConfig.for_mode("local"), VAR_DIR / "gateway" / "nginx.conf")
        prefix = f"{conf.parent}/"
        check = subprocess.run(  # noqa: S603 (our own fixed command)
            [nginx, "-t", "-q", "-p", prefix, "-c", str(conf)], capture_output=True, text=True
        )
        if check.returncode != 0:
            output.say(f"the rendered gateway config is invalid:\n{check.stderr}")
            return 1
        group.start("gateway", [nginx, "-p", prefix, "-c", str(conf)], cwd=REPO_DIR, env=env)

        for service in SERVICES:
            wait_until_ok(
                f"http://127.0.0.1:{ports[service]}/{service}/ready/", group=group, stop=stopping
            )
        wait_until_ok(f"http://127.0.0.1:{LOCAL_GATEWAY_PORT}/health", group=group, stop=stopping)

        if not args.no_seed:
            seed_step(
                "orders",
                "orders",
                [
                    "seed_orders",
                    "--orders",
                    str(DEMO_ORDERS),
                    "--customer-password",
                    DEMO_CUSTOMER_PASSWORD,
                    "--base-url",
                    seed_url,
                ],
                marker=marker,
                env=env,
                output=output,
                stop=stopping,
            )
        output.say(banner(env, gateway_url))

        while not stopping.is_set():
            if (dead := group.failed()) is not None:
                output.say(f"{dead.name} exited (code {dead.exited()}); stopping everything")
                return 1
            stopping.wait(0.5)
        output.say("stopping...")
        return 0
    except Interrupted:
        return 0
    except RuntimeError as exc:
        output.say(f"could not start: {exc}")
        return 1
    finally:
        group.stop()
        output.say("stopped")


if __name__ == "__main__":
    sys.exit(main())
