"""The one way Tienda's own tools start and stop processes on a development machine.

`make run` (scripts/run_local.py), the benchmark (bench/run.py) and the tests that
run real processes (tests/support, tests/system, tests/browser) all start the
services' gunicorns, nginx and the jobs through `Process` and stop them the same
way: SIGTERM to the child's whole process group (gunicorn's workers, a shell
loop's sleep), then SIGKILL after a grace period. Whatever is still running when
the interpreter exits (a failed start, an uncaught error, Ctrl-C) is stopped too.

Also here, once: `free_port`, the MySQL URL (`MySQLServer`), the environment every
service process shares (`service_environment`) and readiness polling.

In shopkit because the three callers can all import it without path tricks (it is
installed in the virtualenv), and shopkit already owns the gunicorn config and the
registry of services. Standard library only, no Django: the launchers are not
Django processes. A development tool: it runs from a source checkout (REPO_DIR).
"""

import atexit
import contextlib
import os
import random
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from shopkit import registry

REPO_DIR = Path(__file__).resolve().parents[3]  # libs/shopkit/shopkit/ -> the checkout
VENV_BIN = Path(sys.executable).parent
STOP_GRACE_SECONDS = 15.0
# The background jobs `make run` keeps running: (name, service, manage.py arguments).
JOBS = (
    # Stock held by checkouts that never finished goes back (catalog).
    ("expiry", "catalog", ("release_expired_reservations", "--loop", "60")),
    # Checkouts stopped halfway are finished or undone (orders).
    ("reconcile", "orders", ("reconcile_checkouts", "--loop", "60")),
    # auth's outbox (verification and password reset emails) through EMAIL_URL.
    ("mail", "auth", ("send_outbox", "--loop", "5")),
    # orders' outbox (order placed, paid, shipped, cancelled, refunded) through EMAIL_URL.
    ("order-mail", "orders", ("send_outbox", "--loop", "5")),
)


# --- ports, URLs, environment --------------------------------------------------------------


# Listening ports are picked below the kernel's ephemeral range. A port bind(0) hands
# out comes from that range, so between being picked and being bound (a gunicorn
# starting seconds later, after migrations) any outgoing connection (to MariaDB, to a
# neighbour) could take it as its local port, and the listener fails "Connection in use".
EPHEMERAL_RANGE_FILE = Path("/proc/sys/net/ipv4/ip_local_port_range")
LISTEN_PORTS_FROM = 20000
_handed_out: set[int] = set()
_random = random.SystemRandom()


def _ephemeral_range_start() -> int:
    try:
        return int(EPHEMERAL_RANGE_FILE.read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return 32768  # Linux's default


def free_port(host: str = "127.0.0.1") -> int:
    """A port nothing listens on right now, outside the ephemeral range (so no client
    connection takes it before our listener binds it) and not handed out before by
    this process."""
    upper = _ephemeral_range_start()
    lower = LISTEN_PORTS_FROM if upper - LISTEN_PORTS_FROM >= 1000 else 1024
    for _ in range(200):
        port = _random.randrange(lower, upper)
        if port not in _handed_out and port_is_free(port, host):
            _handed_out.add(port)
            return port
    with socket.socket() as sock:  # a crowded range: fall back to the kernel's choice
        sock.bind((host, 0))
        return sock.getsockname()[1]


def port_is_free(port: int, host: str = "127.0.0.1") -> bool:
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return False
    return True


@dataclass(frozen=True)
class MySQLServer:
    """A MySQL/MariaDB server from a `mysql://user:password@host:port[/database]` URL."""

    host: str = "127.0.0.1"
    port: int = 3306
    user: str = "root"
    password: str = ""

    @classmethod
    def from_url(cls, url: str) -> "MySQLServer":
        parts = urllib.parse.urlsplit(url)
        if parts.scheme != "mysql":
            raise ValueError(f"not a mysql:// URL: {url!r}")
        return cls(
            host=parts.hostname or "127.0.0.1",
            port=parts.port or 3306,
            user=urllib.parse.unquote(parts.username or "") or "root",
            password=urllib.parse.unquote(parts.password or ""),
        )

    @property
    def address(self) -> str:
        return f"{self.host}:{self.port}"

    def url(self, database: str = "", *, user: str | None = None, password: str | None = None):
        """The URL of `database` on this server, as this server's or another user."""
        user = self.user if user is None else user
        password = self.password if password is None else password
        credentials = urllib.parse.quote(user, safe="")
        if password:
            credentials += ":" + urllib.parse.quote(password, safe="")
        return f"mysql://{credentials}@{self.address}/{database}"

    def connect(self, database: str | None = None, **options):
        """A MySQLdb connection (mysqlclient, imported here: the launchers may run without it)."""
        import MySQLdb

        return MySQLdb.connect(
            host=self.host,
            port=self.port,
            user=self.user,
            passwd=self.password,
            **({"db": database} if database else {}),
            **options,
        )


def service_environment(base: dict, ports: dict[str, int]) -> dict:
    """What every service process (gunicorn, manage.py, job) of a run shares.

    `base` (usually os.environ plus the run's secrets and database URLs) without
    any DJANGO_SETTINGS_MODULE (each project sets its own), the virtualenv first on
    PATH, unbuffered output, and each service told where its neighbours answer.
    """
    env = {key: value for key, value in base.items() if not key.startswith("DJANGO_SETTINGS")}
    env["PYTHONUNBUFFERED"] = "1"
    env["PATH"] = f"{VENV_BIN}{os.pathsep}{env.get('PATH', '')}"
    for name, port in ports.items():
        env[registry.service(name).url_setting] = f"http://127.0.0.1:{port}"
    return env


def bind_environment(env: dict, port: int) -> dict:
    """`env` for a gunicorn listening on 127.0.0.1:`port` (shopkit.gunicorn_conf reads it)."""
    return {**env, "PORT": str(port), "GUNICORN_BIND": f"127.0.0.1:{port}"}


def project_dir(service: str) -> Path:
    return REPO_DIR / registry.service(service).project


def manage_argv(*args: str) -> list[str]:
    return [sys.executable, "manage.py", *args]


def gunicorn_argv(wsgi_module: str) -> list[str]:
    """The services' server (and the benchmark's baselines'): shopkit's gunicorn config."""
    return [str(VENV_BIN / "gunicorn"), "-c", "python:shopkit.gunicorn_conf", wsgi_module]


def nginx_argv(nginx: str, conf: Path) -> list[str]:
    """nginx in the foreground (the rendered config says so) with its prefix next to `conf`."""
    return [nginx, "-p", f"{conf.parent}/", "-c", str(conf)]


def http_status(url: str, timeout: float = 2.0) -> int | None:
    """The status `url` answers with, or None when nothing answers."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:  # noqa: S310 (loopback)
            return response.status
    except urllib.error.HTTPError as exc:
        return exc.code
    except (urllib.error.URLError, OSError):
        return None


# --- processes ------------------------------------------------------------------------------

Sink = Callable[[str, str], None]  # (process name, one line of its output)
_COLOURS = {"tienda": 0, "auth": 34, "catalog": 32, "cart": 33, "orders": 35, "gateway": 36}


class PrefixedOutput:
    """A Sink: every child's lines on one stream, prefixed by its name ("auth     | ...")."""

    WIDTH = 9

    def __init__(self, stream=sys.stdout, *, colour: bool = False):
        self.stream = stream
        self.lock = threading.Lock()
        self.colour = colour

    def __call__(self, name: str, text: str) -> None:
        prefix = f"{name:<{self.WIDTH}}|"
        if self.colour:
            prefix = f"\033[{_COLOURS.get(name, 90)}m{prefix}\033[0m"
        with self.lock:
            self.stream.write(f"{prefix} {text.rstrip()}\n")
            self.stream.flush()

    def say(self, text: str) -> None:
        """The launcher's own lines, prefixed "tienda"."""
        for line in text.splitlines() or [""]:
            self("tienda", line)


class Interrupted(Exception):
    """The caller's stop event was set (Ctrl-C) while waiting."""


class NotReady(RuntimeError):
    """A process exited, or did not answer in time, while it was waited for."""


_running: set["Process"] = set()


@atexit.register
def _stop_leftovers() -> None:
    """Nothing a launcher started outlives it, whatever way it ended."""
    for process in list(_running):
        process.stop(grace=5.0)


class Process:
    """One child in a process group of its own, its output in `log` or sent line by line
    to `sink` (else inherited). Can be started again after it stopped (fault tests).
    """

    def __init__(
        self,
        name: str,
        argv: list[str],
        *,
        cwd: Path,
        env: dict,
        log: Path | None = None,
        sink: Sink | None = None,
    ):
        self.name, self.argv, self.cwd, self.env = name, argv, cwd, env
        self.log, self.sink = log, sink
        self.popen: subprocess.Popen | None = None
        self._pump: threading.Thread | None = None

    @property
    def pid(self) -> int | None:
        return self.popen.pid if self.popen else None

    def start(self) -> "Process":
        if self.log is not None:
            self.log.parent.mkdir(parents=True, exist_ok=True)
            with self.log.open("a") as log:
                self.popen = self._spawn(log)
        elif self.sink is not None:
            self.popen = self._spawn(subprocess.PIPE)
            self._pump = threading.Thread(target=self._forward, name=f"pump-{self.name}")
            self._pump.daemon = True
            self._pump.start()
        else:
            self.popen = self._spawn(None)
        _running.add(self)
        return self

    def _spawn(self, stdout) -> subprocess.Popen:
        return subprocess.Popen(  # noqa: S603 (our own fixed commands)
            self.argv,
            cwd=self.cwd,
            env=self.env,
            stdin=subprocess.DEVNULL,
            stdout=stdout,
            stderr=subprocess.STDOUT,
            text=True,
            bufsize=1,
            # Its own session and process group: Ctrl-C reaches the launcher only, which
            # stops the children in order, and a signal to the group reaches the workers.
            start_new_session=True,
        )

    def _forward(self) -> None:
        for line in self.popen.stdout:
            self.sink(self.name, line)

    def exit_code(self) -> int | None:
        """None while it runs (or was never started)."""
        return self.popen.poll() if self.popen else None

    def running(self) -> bool:
        return self.popen is not None and self.popen.poll() is None

    def wait(self, timeout: float | None = None) -> int:
        code = self.popen.wait(timeout)
        self._finished()
        return code

    def stop(self, grace: float = STOP_GRACE_SECONDS) -> None:
        """SIGTERM to the whole group (gunicorn and nginx then finish gracefully);
        SIGKILL to the group if it has not exited after `grace` seconds."""
        if self.running():
            self._signal_group(signal.SIGTERM)
            try:
                self.popen.wait(timeout=grace)
            except subprocess.TimeoutExpired:
                if self.sink is not None:
                    self.sink(self.name, f"did not stop in {grace:.0f}s; killing it")
                self._signal_group(signal.SIGKILL)
                self.popen.wait()
        self._finished()

    def kill(self) -> None:
        """SIGKILL to the master and its workers at once, as a crash would.

        (Killing a gunicorn master alone leaves its workers serving for a while.)
        """
        if self.running():
            self._signal_group(signal.SIGKILL)
            self.popen.wait()
        self._finished()

    def _signal_group(self, signum: int) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.popen.pid, signum)  # it leads its own group (start_new_session)

    def _finished(self) -> None:
        _running.discard(self)
        if self._pump is not None:
            self._pump.join(timeout=5)

    def wait_until_answers(self, url: str, **options) -> None:
        """Poll `url` until it answers 200 while this process keeps running."""
        wait_until_answers(url, watch=[self], **options)


def wait_until_answers(
    url: str,
    *,
    watch: list[Process],
    timeout: float = 60.0,
    ok: Callable[[int], bool] = lambda status: status == 200,
    stop: threading.Event | None = None,
) -> None:
    """Poll `url` until its status is `ok`: NotReady when a `watch`ed process exits
    first or the deadline passes, Interrupted when `stop` is set meanwhile (Ctrl-C)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if stop is not None and stop.is_set():
            raise Interrupted
        if (dead := next((p for p in watch if not p.running()), None)) is not None:
            raise NotReady(f"{dead.name} exited (code {dead.exit_code()}) while starting")
        status = http_status(url, timeout=1.0)
        if status is not None and ok(status):
            return
        time.sleep(0.2)
    raise NotReady(f"{url} not ready: no 200 within {timeout:.0f}s")


def service_process(
    service: str, *, port: int, env: dict, name: str | None = None, **output
) -> Process:
    """One gunicorn of `service` on 127.0.0.1:`port` (not started); `name` tells
    replicas of one service apart (`catalog-2`)."""
    return Process(
        name or service,
        gunicorn_argv(f"{registry.service(service).project}.wsgi"),
        cwd=project_dir(service),
        env=bind_environment(env, port),
        **output,
    )


def ready_url(service: str, port: int) -> str:
    return f"http://127.0.0.1:{port}/{service}/ready/"


def job_processes(env: dict, **output) -> list[Process]:
    """The background jobs of JOBS (not started)."""
    return [
        Process(name, manage_argv(*args), cwd=project_dir(service), env=env, **output)
        for name, service, args in JOBS
    ]


def run_to_end(process: Process, *, stop: threading.Event | None = None) -> int:
    """Start `process`, wait for its exit code; stopped early when `stop` is set (Ctrl-C)."""
    process.start()
    while process.running():
        if stop is not None and stop.is_set():
            process.stop()
            break
        time.sleep(0.1)
    return process.wait()


class ProcessGroup:
    """Long-running children: started in order, stopped in reverse order, also when the
    `with` block ends with an error."""

    def __init__(self):
        self.processes: list[Process] = []
        self.essential: set[str] = set()

    def start(self, process: Process, *, essential: bool = True) -> Process:
        self.processes.append(process.start())
        if essential:
            self.essential.add(process.name)
        return process

    def failed(self) -> Process | None:
        """An essential process that exited on its own."""
        for process in self.processes:
            if process.name in self.essential and process.exit_code() is not None:
                return process
        return None

    def wait_until_answers(self, url: str, **options) -> None:
        """Poll `url` until it answers 200 while every essential process keeps running."""
        essential = [p for p in self.processes if p.name in self.essential]
        wait_until_answers(url, watch=essential, **options)

    def stop(self) -> None:
        for process in reversed(self.processes):
            process.stop()

    def __enter__(self) -> "ProcessGroup":
        return self

    def __exit__(self, *exc_info) -> None:
        self.stop()
