"""The project's docker-compose.yml run with podman and podman-compose, for `make test-compose`.

What differs from an operator's `docker compose up`: only variables. The base images
(PYTHON_IMAGE, MYSQL_IMAGE, NGINX_IMAGE, REDIS_IMAGE: local ones from Debian
packages, tests/compose/bases.py; MariaDB stands in for MySQL), the images' tag, the
gateway's host port (a free one), the origin the admin's CSRF check trusts, and the
secrets (scripts/dev_secrets.py, as the README tells operators).

Everything the stack creates carries its project name, `tienda-compose-<run id>`,
and is removed by `Stack.remove()`: on success, on failure (try/finally) and at exit.
"""

import atexit
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from shopkit.processes import free_port
from tests.compose.bases import BASES, BaseBuilds, podman, podman_env
from tests.support.environment import RUN_ID

REPO_DIR = Path(__file__).resolve().parents[2]
COMPOSE_FILE = REPO_DIR / "docker-compose.yml"
PROJECT = f"tienda-compose-{(RUN_ID or 'test').replace('_', '-').lower()}"
WORK_DIR = REPO_DIR / "var" / PROJECT
PROJECT_LABEL = f"io.podman.compose.project={PROJECT}"


def say(message: str) -> None:
    print(f"[test-compose] {message}", file=sys.stderr, flush=True)


def podman_unavailable() -> str | None:
    """Why this machine cannot run the stack, or None."""
    for tool in ("podman", "runc", "debootstrap"):
        if not shutil.which(tool) and not Path(f"/usr/sbin/{tool}").exists():
            return f"{tool} is not installed (scripts/system-packages.sh --compose installs it)"
    if os.geteuid() != 0:
        return "debootstrap and podman's networks need root"
    if not (REPO_DIR / ".venv" / "bin" / "podman-compose").exists():
        return "podman-compose is not in .venv (make install)"
    result = podman("info", "--format", "{{.Host.OCIRuntime.Name}}", check=False)
    if result.returncode != 0:
        return f"podman cannot run here: {result.stderr.strip()[-500:]}"
    return None


@dataclass
class Stack:
    bases: BaseBuilds
    port: int = field(default_factory=free_port)
    tag: str = field(default=f"compose-test-{(RUN_ID or 'test').lower()}")
    removed: bool = False
    _checker: threading.Thread | None = None
    _stop_checking: threading.Event = field(default_factory=threading.Event)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def environment(self) -> dict[str, str]:
        return {
            **podman_env(),
            **self.bases.images,
            "TIENDA_IMAGE_TAG": self.tag,
            "GATEWAY_HOST_PORT": str(self.port),
            "CSRF_TRUSTED_ORIGINS": f"{self.url},http://localhost:{self.port}",
        }

    def compose(self, *args: str, check: bool = True, timeout: float = 900):
        command = [
            str(REPO_DIR / ".venv" / "bin" / "podman-compose"),
            "--in-pod", "false", "-p", PROJECT,
            "--env-file", str(WORK_DIR / ".env"), "-f", str(COMPOSE_FILE), *args,
        ]  # fmt: skip
        result = subprocess.run(
            command,
            cwd=REPO_DIR,
            env=self.environment(),
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        if check and result.returncode != 0:
            raise RuntimeError(
                f"podman-compose {' '.join(args)} failed ({result.returncode}):\n"
                f"{result.stdout[-4000:]}\n{result.stderr[-4000:]}"
            )
        return result

    # --- setup -----------------------------------------------------------------------

    def write_env_file(self) -> None:
        """A .env made as the README says (dev_secrets.py from .env.example), the stack's own."""
        WORK_DIR.mkdir(parents=True, exist_ok=True)
        subprocess.run(
            [
                sys.executable,
                "scripts/dev_secrets.py",
                "--force",
                "--dotenv",
                str(WORK_DIR / ".env"),
            ],
            cwd=REPO_DIR,
            check=True,
            capture_output=True,
        )

    def config(self) -> dict:
        """The compose file as podman-compose resolves it (variables substituted)."""
        return yaml.safe_load(self.compose("config").stdout)

    def build(self) -> dict[str, float]:
        """`podman build` of every image of the compose file, as its `build:` says; seconds each."""
        images = {}
        for service in self.config()["services"].values():
            if "build" in service:
                images.setdefault(service["image"], service["build"])
        timings = {}
        for image, build in images.items():
            context = REPO_DIR / build.get("context", ".")
            command = ["build", "--pull=never", "-t", image]
            command += ["-f", str(context / build.get("dockerfile", "Dockerfile"))]
            args = build.get("args") or {}
            # podman-compose's config writes them as a list of NAME=value.
            for argument in (
                args if isinstance(args, list) else [f"{k}={v}" for k, v in args.items()]
            ):
                command += ["--build-arg", argument]
                if argument.partition("=")[0] in BASES.values():
                    self.bases.wait(argument.partition("=")[0])  # built in the background
            started = time.monotonic()
            say(f"podman build {image}")
            result = podman(*command, str(context), check=False)
            log = WORK_DIR / f"build-{image.split('/')[-1].split(':')[0]}.log"
            log.write_text(result.stdout + result.stderr)
            if result.returncode != 0:
                raise RuntimeError(
                    f"podman build {image} failed (all of it in {log}):\n{result.stdout[-6000:]}"
                )
            timings[image] = time.monotonic() - started
            say(f"  built {image} in {timings[image]:.0f}s")
        return timings

    def up(self) -> None:
        """Every service of the compose file, each once its `depends_on` conditions hold.

        podman-compose on podman 4.3 cannot keep them itself: it skips
        `service_healthy` (podman < 4.6), and the podman dependencies it adds
        (`--requires`) fail to start a service whose dependency chain holds exited
        one-shots (the migrations). So each service is started by podman-compose
        from the same file with `up --no-deps SERVICE...`, in the file's dependency
        order, after the test has seen its dependencies healthy, completed
        successfully or started, as Docker Compose waits for them.
        """
        self.bases.wait_all()
        self.start_healthchecks()
        services = self.config()["services"]
        started: list[str] = []
        while len(started) < len(services):
            ready = [
                name
                for name, service in services.items()
                if name not in started and set(service.get("depends_on") or {}) <= set(started)
            ]
            assert ready, f"depends_on has a cycle among {set(services) - set(started)}"
            # Those whose dependencies have all been started go together, once every
            # one of their conditions holds.
            for name in ready:
                for dependency, rule in (services[name].get("depends_on") or {}).items():
                    self.wait_for(dependency, rule.get("condition", "service_started"))
            say(f"  up {' '.join(ready)}")
            self.compose("up", "-d", "--no-deps", "--no-build", *ready)
            started += ready

    def scale(self, service: str, replicas: int) -> None:
        self.compose(
            "up", "-d", "--no-deps", "--no-build", "--scale", f"{service}={replicas}", service
        )

    def wait_for(self, service: str, condition: str, timeout: float = 300) -> None:
        """Until every container of the service meets a compose `depends_on` condition."""
        wanted = {
            "service_healthy": {"healthy"},
            "service_completed_successfully": {"exited(0)"},
            "service_started": {"healthy", "starting", "running", "unhealthy"},
        }[condition]
        deadline = time.monotonic() + timeout
        while True:
            states = {
                name: state
                for name, state in self.health().items()
                if re.fullmatch(rf"{re.escape(PROJECT)}_{re.escape(service)}_\d+", name)
            }
            if states and set(states.values()) <= wanted:
                return
            failed = {
                n: s for n, s in states.items() if s.startswith("exited(") and s not in wanted
            }
            if failed or time.monotonic() > deadline:
                raise RuntimeError(
                    f"{service} not {condition} ({states or 'no container'})\n"
                    f"{self.logs_of(list(states))}"
                )
            time.sleep(1)

    # --- healthchecks ------------------------------------------------------------------

    def start_healthchecks(self) -> None:
        """Runs the containers' healthchecks every 2 s, as podman's systemd timers would.

        podman runs a container's healthcheck from a systemd timer; without systemd
        (these machines, many CI runners) nothing runs them, and podman-compose on
        podman < 4.6 does not wait for `service_healthy` either. The test runs them.
        """
        if self._checker is not None:
            return
        self._stop_checking.clear()  # set by a remove() of a previous run's leftovers

        def check_forever():
            while not self._stop_checking.wait(2):
                for name in self.containers(running=True):
                    podman("healthcheck", "run", name, check=False)

        self._checker = threading.Thread(target=check_forever, daemon=True)
        self._checker.start()

    def containers(self, *, running: bool = False) -> list[str]:
        args = ["ps", "--format", "{{.Names}}", "--filter", f"label={PROJECT_LABEL}"]
        result = podman(*args, *([] if running else ["-a"]), check=False)
        return result.stdout.split()

    def inspect(self, name: str) -> dict:
        return json.loads(podman("inspect", name).stdout)[0]

    def health(self) -> dict[str, str]:
        """{container: healthy | unhealthy | starting | exited(code) | running}."""
        states = {}
        for name in self.containers():
            state = self.inspect(name)["State"]
            if state["Status"] == "exited":
                states[name] = f"exited({state['ExitCode']})"
            else:
                states[name] = (state.get("Health") or {}).get("Status") or state["Status"]
        return states

    def wait_healthy(self, timeout: float = 300) -> dict[str, str]:
        """Every container with a healthcheck healthy, every one-shot exited 0."""
        deadline = time.monotonic() + timeout
        last = None
        while True:
            states = self.health()
            if states != last:
                say(
                    "  "
                    + ", ".join(f"{n.removeprefix(PROJECT + '_')}={s}" for n, s in states.items())
                )
                last = states
            # "running": a job without a healthcheck (reservation-expiry, checkout-reconciler).
            waiting = [n for n, s in states.items() if s not in ("healthy", "exited(0)", "running")]
            failed = [n for n, s in states.items() if s.startswith("exited(") and s != "exited(0)"]
            if failed:
                raise RuntimeError(f"containers failed: {failed}\n{self.logs_of(failed)}")
            if not waiting:
                return states
            if time.monotonic() > deadline:
                raise RuntimeError(
                    f"not healthy after {timeout:.0f}s: {waiting}\n{self.logs_of(waiting)}"
                )
            time.sleep(2)

    def logs(self, name: str) -> str:
        result = podman("logs", name, check=False)
        return result.stdout + result.stderr

    def logs_of(self, names: list[str]) -> str:
        return "\n".join(f"--- {name}\n{self.logs(name)[-3000:]}" for name in names)

    def exec(self, service: str, *args: str) -> str:
        result = podman("exec", f"{PROJECT}_{service}_1", *args, check=False)
        if result.returncode != 0:
            raise RuntimeError(
                f"podman exec {service} {args} failed:\n{result.stdout}{result.stderr}"
            )
        return result.stdout

    # --- teardown ----------------------------------------------------------------------

    def leftovers(self) -> dict[str, list[str]]:
        """What of this project still exists in podman."""
        label = ["--filter", f"label={PROJECT_LABEL}"]
        found = {
            "containers": self.containers(),
            "pods": podman(
                "pod", "ps", "-q", "--filter", f"name={PROJECT}", check=False
            ).stdout.split(),
            "networks": podman("network", "ls", "-q", *label, check=False).stdout.split(),
            "volumes": podman("volume", "ls", "-q", *label, check=False).stdout.split(),
        }
        return {kind: names for kind, names in found.items() if names}

    def remove(self) -> dict[str, list[str]]:
        """Stops and removes every container, pod, network and volume of the project."""
        if self.removed:
            return self.leftovers()
        self._stop_checking.set()
        if (WORK_DIR / ".env").exists():
            try:
                self.compose("down", "-v", "-t", "10", check=False, timeout=300)
            except subprocess.TimeoutExpired:
                say("podman-compose down timed out; removing by label")
        # Whatever `down` left (a failed `up`, scaled replicas): by the project's label.
        left = self.leftovers()
        if left.get("containers"):
            podman("rm", "-f", "-t", "5", *left["containers"], check=False)
        if left.get("pods"):
            podman("pod", "rm", "-f", *left["pods"], check=False)
        if left.get("networks"):
            podman("network", "rm", "-f", *left["networks"], check=False)
        if left.get("volumes"):
            podman("volume", "rm", "-f", *left["volumes"], check=False)
        self.removed = True
        left = self.leftovers()
        say(f"removed the stack {PROJECT}" + (f"; LEFT: {left}" if left else ", nothing left"))
        return left

    def remove_at_exit(self) -> None:
        """Removed at exit too, and when the run is terminated (SIGTERM: a CI timeout)."""
        atexit.register(self.remove)

        def interrupted(*_):
            # As Ctrl-C: pytest stops the session and runs every finally and finalizer.
            raise KeyboardInterrupt("SIGTERM")

        signal.signal(signal.SIGTERM, interrupted)
