"""shopkit.processes: how make run, the benchmark and the system tests start and stop
processes. Real child processes (small Python scripts), real signals, real sockets."""

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from shopkit import processes
from shopkit.processes import MySQLServer, NotReady, Process, ProcessGroup

# A parent that ignores SIGTERM and starts a child that ignores it too, then prints
# the child's pid: the worst case for stopping (a gunicorn master and its workers
# that hang).
STUBBORN = """
import signal, subprocess, sys, time
signal.signal(signal.SIGTERM, signal.SIG_IGN)
child = subprocess.Popen([sys.executable, "-c",
    "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); time.sleep(600)"])
print(child.pid, flush=True)
time.sleep(600)
"""
# A parent whose child does not ignore SIGTERM, but would outlive a parent killed alone.
OBEDIENT = """
import subprocess, sys, time
child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"])
print(child.pid, flush=True)
time.sleep(600)
"""


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie (exited, not yet reaped by its reparented init) is gone for us.
    with open(f"/proc/{pid}/stat") as stat:
        return stat.read().rsplit(")", 1)[1].split()[0] != "Z"


def _wait_gone(pid: int, timeout: float = 5.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not _alive(pid):
            return True
        time.sleep(0.05)
    return False


def _started(script: str, tmp_path, **options) -> tuple[Process, int]:
    """A Process running `script`, and the pid of the grandchild it printed."""
    log = tmp_path / "child.log"
    process = Process(
        "child", [sys.executable, "-c", script], cwd=tmp_path, env=dict(os.environ), log=log
    )
    process.start()
    deadline = time.monotonic() + 10
    while not log.read_text().strip():
        assert time.monotonic() < deadline, "the child printed no pid"
        time.sleep(0.05)
    return process, int(log.read_text().split()[0])


def test_stop_terminates_the_whole_process_group(tmp_path):
    process, grandchild = _started(OBEDIENT, tmp_path)
    parent = process.pid
    process.stop(grace=5)
    assert not process.running()
    assert process.exit_code() == -signal.SIGTERM
    assert _wait_gone(grandchild), "the grandchild outlived the stop"
    assert not _alive(parent)
    assert process not in processes._running


def test_stop_kills_what_ignores_sigterm_after_the_grace_period(tmp_path):
    process, grandchild = _started(STUBBORN, tmp_path)
    started = time.monotonic()
    process.stop(grace=0.5)
    took = time.monotonic() - started
    assert process.exit_code() == -signal.SIGKILL
    assert 0.5 <= took < 5
    assert _wait_gone(grandchild), "the stubborn grandchild was not killed"


def test_kill_reaches_the_workers_at_once(tmp_path):
    process, grandchild = _started(STUBBORN, tmp_path)
    process.kill()
    assert process.exit_code() == -signal.SIGKILL
    assert _wait_gone(grandchild)


def test_a_stopped_process_starts_again(tmp_path):
    process, grandchild = _started(OBEDIENT, tmp_path)
    first_pid = process.pid
    process.stop(grace=5)
    assert _wait_gone(grandchild)
    process.start()
    assert process.running() and process.pid != first_pid
    process.stop(grace=5)
    assert not process.running()


def test_leftovers_are_stopped_at_exit(tmp_path):
    """A launcher that dies of an error leaves no process behind (atexit)."""
    script = f"""
import sys
from pathlib import Path
from shopkit.processes import Process
child = Process("c", [sys.executable, "-c", {OBEDIENT!r}], cwd=Path("."), env={{}},
                log=Path({str(tmp_path / "child.log")!r}))
child.start()
import time
while not Path({str(tmp_path / "child.log")!r}).read_text().strip():
    time.sleep(0.05)
print(child.pid, flush=True)
raise SystemExit("the launcher failed")
"""
    env = {**os.environ, "PATH": os.environ.get("PATH", "")}
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, env=env, timeout=30
    )
    assert result.returncode == 1
    child = int(result.stdout.split()[0])
    grandchild = int((tmp_path / "child.log").read_text().split()[0])
    assert _wait_gone(child) and _wait_gone(grandchild)


def test_group_stops_everything_in_reverse_order_when_the_block_fails(tmp_path):
    order = []
    with pytest.raises(RuntimeError, match="boom"), ProcessGroup() as group:
        for name in ("first", "second"):
            process = Process(
                name,
                [sys.executable, "-c", "import time; time.sleep(600)"],
                cwd=tmp_path,
                env=dict(os.environ),
            )
            process.stop = lambda grace=15.0, p=process, stop=process.stop: (
                order.append(p.name),
                stop(grace),
            )
            group.start(process)
        raise RuntimeError("boom")
    assert order == ["second", "first"]
    assert not any(process.running() for process in group.processes)


def test_waiting_fails_fast_when_the_process_exits(tmp_path):
    process = Process(
        "dies", [sys.executable, "-c", "raise SystemExit(3)"], cwd=tmp_path, env=dict(os.environ)
    )
    process.start()
    started = time.monotonic()
    with pytest.raises(NotReady, match=r"dies exited \(code 3\)"):
        process.wait_until_answers(f"http://127.0.0.1:{processes.free_port()}/", timeout=30)
    assert time.monotonic() - started < 10


def test_waiting_stops_at_its_deadline_and_on_request(tmp_path):
    process = Process(
        "sleeper",
        [sys.executable, "-c", "import time; time.sleep(600)"],
        cwd=tmp_path,
        env=dict(os.environ),
    )
    process.start()
    nowhere = f"http://127.0.0.1:{processes.free_port()}/"
    try:
        with pytest.raises(NotReady, match="not ready"):
            process.wait_until_answers(nowhere, timeout=0.5)
        stop = threading.Event()
        stop.set()
        with pytest.raises(processes.Interrupted):
            process.wait_until_answers(nowhere, timeout=30, stop=stop)
    finally:
        process.stop(grace=5)


def test_free_port_is_free_and_port_is_free_sees_a_listener():
    port = processes.free_port()
    assert processes.port_is_free(port)
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", port))
        listener.listen()
        assert not processes.port_is_free(port)


def test_free_ports_lie_below_the_ephemeral_range_and_are_never_handed_out_twice():
    # A client connection's local port comes from the ephemeral range; a listening
    # port picked there could be taken before gunicorn binds it (CI saw exactly that).
    ephemeral_low, _ = map(int, Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split())
    ports = [processes.free_port() for _ in range(50)]
    assert len(set(ports)) == len(ports)
    assert all(1024 <= port < ephemeral_low for port in ports)


def test_free_port_skips_a_port_something_has_bound(monkeypatch):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken_port = taken.getsockname()[1]
        picks = iter([taken_port, taken_port + 1 if taken_port < 60000 else taken_port - 1])
        monkeypatch.setattr(processes._random, "randrange", lambda low, high: next(picks))
        monkeypatch.setattr(processes, "_ephemeral_range_start", lambda: 65535)
        assert processes.free_port() != taken_port


@pytest.mark.parametrize(
    "url, expected",
    [
        ("mysql://root@127.0.0.1:3306", MySQLServer("127.0.0.1", 3306, "root", "")),
        ("mysql://127.0.0.1", MySQLServer("127.0.0.1", 3306, "root", "")),
        ("mysql://bench:s%40cret@db.local:3307/", MySQLServer("db.local", 3307, "bench", "s@cret")),
        ("mysql://u:p@h:1/some_db", MySQLServer("h", 1, "u", "p")),
    ],
)
def test_mysql_urls_are_parsed(url, expected):
    assert MySQLServer.from_url(url) == expected


def test_mysql_url_round_trip_quotes_credentials():
    server = MySQLServer.from_url("mysql://root@127.0.0.1:3306")
    assert server.url("tienda_auth") == "mysql://root@127.0.0.1:3306/tienda_auth"
    other = server.url("db", user="bench", password="p@ss:w/rd")
    assert other == "mysql://bench:p%40ss%3Aw%2Frd@127.0.0.1:3306/db"
    assert MySQLServer.from_url(other) == MySQLServer("127.0.0.1", 3306, "bench", "p@ss:w/rd")


def test_a_url_of_another_scheme_is_refused():
    with pytest.raises(ValueError, match="mysql://"):
        MySQLServer.from_url("postgres://u@h/db")


def test_service_environment_names_every_neighbour_and_no_settings_module():
    base = {"DJANGO_SETTINGS_MODULE": "tests.shopkit.settings", "PATH": "/usr/bin", "KEEP": "1"}
    env = processes.service_environment(base, {"auth": 4100, "catalog": 4101})
    assert "DJANGO_SETTINGS_MODULE" not in env
    assert env["KEEP"] == "1"
    assert env["AUTH_SERVICE_URL"] == "http://127.0.0.1:4100"
    assert env["CATALOG_SERVICE_URL"] == "http://127.0.0.1:4101"
    assert env["PATH"].startswith(f"{processes.VENV_BIN}{os.pathsep}")
    assert base["PATH"] == "/usr/bin"  # the caller's dict is left alone
    bound = processes.bind_environment(env, 4102)
    assert (bound["PORT"], bound["GUNICORN_BIND"]) == ("4102", "127.0.0.1:4102")
