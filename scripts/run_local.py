#!/usr/bin/env python3
"""`make run`: the whole shop on http://localhost:8080, in the foreground.

1. var/dev.env once: random secrets, DJANGO_DEBUG=0, a JWT key pair in var/keys/;
2. `manage.py migrate_all` for the four services (both databases);
3. demo data once (var/.seeded): seed_users, seed_catalog, then seed_orders
   through the gateway once everything answers;
4. four gunicorns (127.0.0.1:8000-8003), the jobs (reservation expiry, checkout
   reconciliation, the mail sender: .eml files under var/mail/ unless EMAIL_URL is
   set) and nginx (rendered into var/gateway/) with every log line prefixed by its
   process;
5. Ctrl-C (SIGINT) or SIGTERM stops every child, waits for them, exits 0.

SQLite files under var/ unless AUTH_DATABASE_URL / ECOMMERCE_DATABASE_URL are
set. A second run reuses the secrets, the keys, the databases and the data.
Processes are started and stopped by shopkit.processes, as in the bench and tests.
"""

import argparse
import hashlib
import json
import os
import signal
import subprocess
import sys
import threading
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
from shopkit.processes import (  # noqa: E402
    Interrupted,
    NotReady,
    PrefixedOutput,
    Process,
    ProcessGroup,
    free_port,
    job_processes,
    manage_argv,
    nginx_argv,
    port_is_free,
    project_dir,
    ready_url,
    run_to_end,
    service_environment,
    service_process,
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
    step_process = Process(
        service, manage_argv(*args), cwd=project_dir(service), env=env, sink=output
    )
    code = run_to_end(step_process, stop=stop)
    if stop.is_set():
        return
    if code == 0:
        marker.record(step)
    else:
        output.say(f"seeding step {args[0]} failed (code {code}); it will be retried next run")


def mail_target(env: dict) -> str:
    """Where the emails go, for the banner (never the URL's password)."""
    url = env.get("EMAIL_URL", "")
    if not url:
        return f"written as .eml files under {VAR_DIR / 'mail'}/ (EMAIL_URL unset)"
    scheme, _, rest = url.partition("://")
    if scheme == "file":
        return f"written as .eml files under {rest or VAR_DIR / 'mail'}/"
    if scheme == "console":
        return "printed by the mail job (EMAIL_URL=console://)"
    return f"sent through {scheme}://{rest.rpartition('@')[2]}"


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
  emails        {mail_target(env)}
Ctrl-C stops everything.
"""


def parse_args(argv):
    parser = argparse.ArgumentParser(description="Run the shop locally (what `make run` does).")
    parser.add_argument("--no-seed", action="store_true", help="skip the demo data")
    parser.add_argument(
        "--free-ports",
        action="store_true",
        help="free ports instead of 8000-8003 and 8080 (a second run beside the first)",
    )
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    output = PrefixedOutput(colour=sys.stdout.isatty() and not os.environ.get("NO_COLOR"))
    nginx = find_nginx()
    if nginx is None:
        output.say(
            "nginx is not installed. As root: scripts/system-packages.sh "
            "(or apt-get install nginx-light), then `make run` again."
        )
        return 1
    if args.free_ports:
        ports = {service: free_port() for service in SERVICES}
        gateway_port = free_port()
    else:
        ports, gateway_port = dict(SERVICE_PORTS), LOCAL_GATEWAY_PORT
    busy = [p for p in [*ports.values(), gateway_port] if not port_is_free(p)]
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
        migrate = Process(
            service,
            manage_argv("migrate_all", "--verbosity", "1"),
            cwd=project_dir(service),
            env=env,
            sink=output,
        )
        code = run_to_end(migrate, stop=stopping)
        if stopping.is_set():  # Ctrl-C: the migration was stopped, not failed
            output.say("stopped")
            return 0
        if code != 0:
            output.say(f"migrating {service} failed (code {code})")
            return 1

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

    group = ProcessGroup()
    gateway_url = f"http://localhost:{gateway_port}"
    seed_url = f"http://127.0.0.1:{gateway_port}"  # nginx listens on IPv4 loopback
    try:
        for service in SERVICES:
            group.start(service_process(service, port=ports[service], env=env, sink=output))
        for job in job_processes(env, sink=output):
            group.start(job, essential=False)
        config = GatewayConfig.for_mode(
            "local",
            listen=[f"127.0.0.1:{gateway_port}"],
            upstreams={service: f"127.0.0.1:{port}" for service, port in ports.items()},
        )
        conf = write_config(config, VAR_DIR / "gateway" / "nginx.conf")
        check = subprocess.run(  # noqa: S603 (our own fixed command)
            [*nginx_argv(nginx, conf), "-t", "-q"], capture_output=True, text=True
        )
        if check.returncode != 0:
            output.say(f"the rendered gateway config is invalid:\n{check.stderr}")
            return 1
        group.start(Process("gateway", nginx_argv(nginx, conf), cwd=REPO_DIR, env=env, sink=output))

        for service in SERVICES:
            group.wait_until_answers(ready_url(service, ports[service]), timeout=90, stop=stopping)
        group.wait_until_answers(f"{seed_url}/health", timeout=90, stop=stopping)

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
                output.say(f"{dead.name} exited (code {dead.exit_code()}); stopping everything")
                return 1
            stopping.wait(0.5)
        output.say("stopping...")
        return 0
    except (Interrupted, KeyboardInterrupt):
        return 0
    except NotReady as exc:
        output.say(f"could not start: {exc}")
        return 1
    finally:
        group.stop()
        output.say("stopped")


if __name__ == "__main__":
    sys.exit(main())
