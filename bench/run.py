#!/usr/bin/env python3
"""Load benchmark through the gateway (`make bench`; see bench/README.md).

Starts a fresh local stack of its own (four gunicorns, the bench-only hello and
DRF baseline sites, nginx; fresh MariaDB databases, or SQLite with --sqlite),
seeds it, then drives each path with wrk (a load generator in C, so it is not
the bottleneck) for a fixed time and reports, per path: requests/s, p50/p95/p99,
the ratio to the bare Django "hello" view of the same run, the CPU milliseconds
per request of the server processes (read from /proc; MariaDB's from its
per-user statistics) and the SQL statements per request. Loopback only; every
run is bounded in time. Results: bench/results/latest.json and latest.md.
"""

import argparse
import datetime
import json
import os
import platform
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import requests

REPO_DIR = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO_DIR), str(REPO_DIR / "scripts")]

from dev_secrets import ensure_key_pair, random_secret  # noqa: E402

from gateway_nginx.render import SERVICES, GatewayConfig, find_nginx, write_config  # noqa: E402
from shopkit.processes import (  # noqa: E402
    MySQLServer,
    PrefixedOutput,
    Process,
    ProcessGroup,
    bind_environment,
    free_port,
    gunicorn_argv,
    manage_argv,
    nginx_argv,
    project_dir,
    ready_url,
    run_to_end,
    service_environment,
    service_process,
)

BENCH_DIR = REPO_DIR / "bench"
BENCH_VAR = REPO_DIR / "var" / "bench"
RESULTS_DIR = BENCH_DIR / "results"
WRK_DIR = BENCH_DIR / "wrk"
# TIENDA_SYSTEM_TEST_ID=name: databases and a MariaDB user of this run's own.
RUN_ID = os.environ.get("TIENDA_SYSTEM_TEST_ID", "")
if RUN_ID and not RUN_ID.isidentifier():
    raise SystemExit("TIENDA_SYSTEM_TEST_ID must be letters, digits and underscores")
SUFFIX = f"_{RUN_ID}" if RUN_ID else ""
DATABASES = {"auth": f"tienda_bench{SUFFIX}_auth", "ecommerce": f"tienda_bench{SUFFIX}_ecommerce"}
# The services connect as this user, so MariaDB's per-user statistics count
# exactly their statements and CPU even when other clients share the server.
DB_USER = f"tienda_bench{SUFFIX}"[:80]
CUSTOMER_PASSWORD = "tienda-demo-2026"
CLK_TCK = os.sysconf("SC_CLK_TCK")
# The gateway's limits would measure nginx refusing: lifted for the benchmark only.
UNLIMITED = {
    "login_rate": "100000r/s",
    "login_burst": 100000,
    "register_rate": "100000r/s",
    "register_burst": 100000,
    "checkout_rate": "100000r/s",
    "checkout_burst": 100000,
}
SEARCH_WORDS = ("blue", "kettlebell", "navy jacket", "premium", "sierra tent", "warranty")


class MariaDB:
    """The bench's databases and user on TEST_MYSQL_URL, and that user's statistics."""

    def __init__(self, url: str):
        self.server = MySQLServer.from_url(url)
        self.connection = self.server.connect(autocommit=True)
        self.password = random_secret()[:32]
        self.stats = False

    def recreate(self) -> dict[str, str]:
        """Fresh databases, a fresh user owning them; the URLs the services use."""
        cursor = self.connection.cursor()
        for name in DATABASES.values():
            cursor.execute(f"DROP DATABASE IF EXISTS `{name}`")
            cursor.execute(
                f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci"
            )
        cursor.execute(f"DROP USER IF EXISTS '{DB_USER}'@'%%'", [])
        cursor.execute(f"CREATE USER '{DB_USER}'@'%%' IDENTIFIED BY %s", [self.password])
        for name in DATABASES.values():
            cursor.execute(f"GRANT ALL ON `{name}`.* TO '{DB_USER}'@'%%'", [])
        try:  # per-user statistics (MariaDB's userstat); without them no SQL counts
            cursor.execute("SET GLOBAL userstat = 1")
            self.stats = True
        except Exception:  # MySQL has no userstat, or the user is not root
            self.stats = False
        return {
            f"{alias.upper()}_DATABASE_URL": self.server.url(
                name, user=DB_USER, password=self.password
            )
            for alias, name in DATABASES.items()
        }

    def snapshot(self) -> dict | None:
        """Statements and CPU seconds of the bench user so far (None without statistics)."""
        if not self.stats:
            return None
        cursor = self.connection.cursor()
        cursor.execute(
            "SELECT SELECT_COMMANDS + UPDATE_COMMANDS + OTHER_COMMANDS, CPU_TIME "
            "FROM information_schema.USER_STATISTICS WHERE USER = %s",
            [DB_USER],
        )
        row = cursor.fetchone()
        return {"statements": int(row[0]), "cpu_s": float(row[1])} if row else None

    def drop_user(self) -> None:
        self.connection.cursor().execute(f"DROP USER IF EXISTS '{DB_USER}'@'%'")


def sqlite_databases() -> dict[str, str]:
    return {
        "AUTH_DATABASE_URL": f"sqlite:///{BENCH_VAR / (DATABASES['auth'] + '.sqlite3')}",
        "ECOMMERCE_DATABASE_URL": f"sqlite:///{BENCH_VAR / (DATABASES['ecommerce'] + '.sqlite3')}",
    }


def _session_processes(session_ids: dict[str, int]):
    """(name, /proc entry, stat fields after the command) of every live process of a session."""
    by_session = {sid: name for name, sid in session_ids.items()}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        # After the command: state ppid pgrp session ...
        name = by_session.get(int(fields[3]))
        if name is not None:
            yield name, entry, fields


def process_tree_cpu(session_ids: dict[str, int]) -> dict[str, float]:
    """CPU seconds (user + system) of every live process, summed per named session."""
    totals = dict.fromkeys(session_ids, 0.0)
    for name, _, fields in _session_processes(session_ids):
        totals[name] += (int(fields[11]) + int(fields[12])) / CLK_TCK  # utime, stime
    return totals


def worker_rss_mb(session_ids: dict[str, int]) -> dict[str, float]:
    """The largest resident set of a process of each named session (gunicorn workers)."""
    largest = dict.fromkeys(session_ids, 0.0)
    for name, entry, _ in _session_processes(session_ids):
        try:
            status = (entry / "status").read_text()
        except OSError:
            continue
        for line in status.splitlines():
            if line.startswith("VmRSS:"):
                largest[name] = max(largest[name], int(line.split()[1]) / 1024)
    return {name: round(mb, 1) for name, mb in largest.items()}


class Stack:
    """The shop as `make run` starts it, on free ports, plus the two baseline sites."""

    def __init__(self, *, sqlite: bool, products: int, customers: int, output: PrefixedOutput):
        self.output = output
        self.customers = customers
        self.products = products
        self.group = ProcessGroup()
        self.ports = {service: free_port() for service in SERVICES}
        self.hello_port = free_port()
        self.drf_port = free_port()
        self.gateway_port = free_port()
        self.url = f"http://127.0.0.1:{self.gateway_port}"
        self.superuser_password = random_secret()
        shutil.rmtree(BENCH_VAR, ignore_errors=True)
        BENCH_VAR.mkdir(parents=True)
        private_key, public_key = ensure_key_pair(BENCH_VAR / "keys")
        mysql_url = os.environ.get("TEST_MYSQL_URL", "mysql://root@127.0.0.1:3306")
        self.mariadb = None if sqlite else MariaDB(mysql_url)
        databases = sqlite_databases() if sqlite else self.mariadb.recreate()
        self.database = (
            "SQLite (var/bench/*.sqlite3)"
            if sqlite
            else f"MariaDB/MySQL {self.mariadb.server.address} ({', '.join(DATABASES.values())})"
        )
        base = {
            **os.environ,
            **databases,
            "DJANGO_DEBUG": "0",
            "DJANGO_SECRET_KEY": random_secret(),
            "SERVICE_TOKEN": random_secret(),
            "JWT_PRIVATE_KEY": str(private_key),
            "JWT_PUBLIC_KEY": str(public_key),
            "DJANGO_SUPERUSER_PASSWORD": self.superuser_password,
            "VAR_DIR": str(BENCH_VAR),
            "LOG_LEVEL": "INFO",  # as deployed: one access line per request
        }
        self.env = service_environment(base, self.ports)

    def log(self, name: str) -> Path:
        return BENCH_VAR / f"{name}.log"

    def prepare(self) -> None:
        for service in SERVICES:
            self._step(service, "migrate_all")
        self._step(
            "auth",
            "seed_users",
            "--dev",
            "--customers",
            str(self.customers),
            "--customer-password",
            CUSTOMER_PASSWORD,
        )
        self._step("catalog", "seed_catalog", "--products", str(self.products))

    def _step(self, service: str, *args: str) -> None:
        step = Process(
            service,
            manage_argv(*args),
            cwd=project_dir(service),
            env=self.env,
            log=self.log(service),
        )
        code = run_to_end(step)
        if code != 0:
            raise RuntimeError(
                f"{service}: manage.py {' '.join(args)} failed; see {self.log(service)}"
            )

    def start(self) -> None:
        for service in SERVICES:
            self.group.start(
                service_process(
                    service, port=self.ports[service], env=self.env, log=self.log(service)
                )
            )
        for name, port in (("hello", self.hello_port), ("drf", self.drf_port)):
            baseline = Process(
                name,
                gunicorn_argv(f"{name}_site.wsgi"),
                cwd=BENCH_DIR / f"{name}_site",
                env=bind_environment(self.env, port),
                log=self.log(name),
            )
            self.group.start(baseline)
        config = GatewayConfig.for_mode(
            "local",
            listen=[f"127.0.0.1:{self.gateway_port}"],
            upstreams={s: f"127.0.0.1:{p}" for s, p in self.ports.items()},
            routes={
                "/bench/": f"127.0.0.1:{self.hello_port}",
                "/drf/": f"127.0.0.1:{self.drf_port}",
            },
            **UNLIMITED,
        )
        conf = write_config(config, BENCH_VAR / "gateway" / "nginx.conf")
        nginx = find_nginx()
        if nginx is None:
            raise RuntimeError("nginx is not installed (scripts/system-packages.sh as root)")
        gateway = Process(
            "gateway", nginx_argv(nginx, conf), cwd=REPO_DIR, env=self.env, log=self.log("gateway")
        )
        self.group.start(gateway)
        for service in SERVICES:
            self.group.wait_until_answers(ready_url(service, self.ports[service]), timeout=90)
        self.group.wait_until_answers(f"{self.url}/bench/hello/", timeout=90)
        self.group.wait_until_answers(f"{self.url}/drf/products/", timeout=90)

    def sessions(self) -> dict[str, int]:
        """Each server's session id (every child leads its own session)."""
        return {process.name: process.pid for process in self.group.processes}

    def stop(self) -> None:
        self.group.stop()
        if self.mariadb is not None:
            self.mariadb.drop_user()


@dataclass
class Path_:
    """One measured path: wrk with a Lua script and its environment."""

    name: str
    label: str
    script: str
    env: dict
    connections: int | None = None  # default: --connections
    per: str = "request"  # "order": CPU and SQL per order made (the checkout)
    notes: list[str] = field(default_factory=list)


def run_wrk(stack: Stack, path: Path_, *, seconds: float, threads: int, connections: int) -> dict:
    out = BENCH_VAR / f"wrk-{path.name}.json"
    out.unlink(missing_ok=True)
    conns = path.connections or connections
    argv = [
        "wrk",
        f"-t{min(threads, conns)}",
        f"-c{conns}",
        f"-d{max(1, round(seconds))}s",
        "--timeout",
        "10s",
        "-s",
        str(WRK_DIR / path.script),
        f"{stack.url}/",
    ]
    subprocess.run(
        argv,
        env={**os.environ, **path.env, "BENCH_OUT": str(out)},
        check=True,
        stdout=subprocess.DEVNULL,
        timeout=seconds + 60,
    )
    return json.loads(out.read_text())


def wait_until_idle(sessions: dict[str, int], *, timeout: float = 10.0) -> None:
    """Wait until the servers have finished what wrk left running.

    wrk stops at its deadline with requests still in flight and closes their
    connections, but the servers finish them: a checkout left running by the
    warm-up would meet the measured run's first checkout of the same customer
    (409 checkout_in_progress, or a 400 empty cart when it took the next add's
    unit too). So the next run starts once the servers have used (almost) no CPU
    for two 0.1 s windows in a row.
    """
    deadline = time.monotonic() + timeout
    quiet = 0
    last = sum(process_tree_cpu(sessions).values())
    while quiet < 2 and time.monotonic() < deadline:
        time.sleep(0.1)
        now = sum(process_tree_cpu(sessions).values())
        quiet = quiet + 1 if now - last < 0.005 else 0
        last = now


def measure(stack: Stack, path: Path_, args) -> dict:
    sessions = stack.sessions()
    if args.warmup:
        run_wrk(
            stack, path, seconds=args.warmup, threads=args.threads, connections=args.connections
        )
    wait_until_idle(sessions)
    cpu_before = process_tree_cpu(sessions)
    db_before = stack.mariadb.snapshot() if stack.mariadb else None
    figures = run_wrk(
        stack, path, seconds=args.seconds, threads=args.threads, connections=args.connections
    )
    cpu_after = process_tree_cpu(sessions)
    db_after = stack.mariadb.snapshot() if stack.mariadb else None
    good = figures["requests"] - figures["bad_status"] - figures["socket_errors"]
    units = figures.get("orders", good) if path.per == "order" else good
    if units < 1:
        raise RuntimeError(f"{path.name}: no good answers; see var/bench/*.log")
    seconds = figures["duration_us"] / 1e6
    cpu = {name: cpu_after[name] - cpu_before[name] for name in cpu_before}
    result = {
        "label": path.label,
        "requests": figures["requests"],
        "errors": figures["bad_status"] + figures["socket_errors"],
        "rps": round(good / seconds, 1),
        "p50_ms": round(figures["p50_us"] / 1000, 2),
        "p95_ms": round(figures["p95_us"] / 1000, 2),
        "p99_ms": round(figures["p99_us"] / 1000, 2),
        "per": path.per,
        "cpu_ms_by_process": {
            name: round(value * 1000 / units, 3) for name, value in cpu.items() if value
        },
    }
    servers_cpu = sum(cpu.values())
    if db_before and db_after:
        result["sql_per_unit"] = round(
            (db_after["statements"] - db_before["statements"]) / units, 2
        )
        db_cpu = db_after["cpu_s"] - db_before["cpu_s"]
        result["cpu_ms_by_process"]["mariadb"] = round(db_cpu * 1000 / units, 3)
        servers_cpu += db_cpu
    result["cpu_ms_per_unit"] = round(servers_cpu * 1000 / units, 3)
    if path.per == "order":
        result["orders"] = figures["orders"]
        result["orders_per_s"] = round(figures["orders"] / seconds, 1)
        result["failures"] = figures["failures"]
        if figures.get("failed"):
            result["failed"] = figures["failed"].split()
    wait_until_idle(sessions)  # what this run left in flight is not the next one's
    return result


class Workload:
    """Tokens, carts and stock the paths need, made through the gateway."""

    def __init__(self, stack: Stack, *, checkout_clients: int):
        self.url = stack.url
        staff = self._token("admin@tienda.local", stack.superuser_password)
        products = requests.get(
            f"{self.url}/api/v1/catalog/products/?page_size=100&in_stock=true", timeout=30
        ).json()["results"]
        self.product_ids = [product["id"] for product in products]
        # One product and one customer per checkout client (no lock contention
        # between them on one stock row or one cart), with stock that will not run out.
        self.checkout_products = self.product_ids[:checkout_clients]
        for product_id in self.checkout_products:
            response = requests.patch(
                f"{self.url}/api/v1/catalog/products/{product_id}/",
                json={"stock": 1_000_000},
                headers={"Authorization": f"Bearer {staff}"},
                timeout=10,
            )
            response.raise_for_status()
        self.checkout_tokens = [
            self._token(f"customer{index + 2}@example.com", CUSTOMER_PASSWORD)
            for index in range(checkout_clients)
        ]
        # The browsing customer: signed in, with 3 lines in the cart.
        self.reader = self._token("customer1@example.com", CUSTOMER_PASSWORD)
        headers = {"Authorization": f"Bearer {self.reader}"}
        requests.delete(f"{self.url}/api/v1/cart/", headers=headers, timeout=10)
        for product_id in self.product_ids[checkout_clients : checkout_clients + 3]:
            added = requests.post(
                f"{self.url}/api/v1/cart/items/",
                json={"product_id": product_id, "quantity": 1},
                headers=headers,
                timeout=10,
            )
            added.raise_for_status()

    def _token(self, email: str, password: str) -> str:
        response = requests.post(
            f"{self.url}/api/v1/auth/token/",
            json={"email": email, "password": password},
            timeout=10,
        )
        response.raise_for_status()
        return response.json()["access"]

    def paths(self) -> list[Path_]:
        def rotate(paths, token=""):
            return {"BENCH_PATHS": " ".join(paths), "BENCH_TOKEN": token}

        pages = [f"/api/v1/catalog/products/?page_size=20&page={n}" for n in range(1, 11)]
        details = [f"/api/v1/catalog/products/{pk}/" for pk in self.product_ids]
        drf_pages = [f"/drf/products/?page={n}" for n in range(1, 11)]
        drf_details = [f"/drf/products/{pk}/" for pk in self.product_ids]
        searches = [
            "/api/v1/catalog/products/?page_size=20&search=" + requests.utils.quote(word)
            for word in SEARCH_WORDS
        ]
        reader = self.reader
        return [
            Path_("hello", "bare Django hello (baseline)", "rotate.lua", rotate(["/bench/hello/"])),
            Path_("drf_list", "plain DRF list (baseline 2)", "rotate.lua", rotate(drf_pages)),
            Path_("drf_detail", "plain DRF detail (baseline 2)", "rotate.lua", rotate(drf_details)),
            Path_(
                "product_list",
                "products/ (20 per page, signed in)",
                "rotate.lua",
                rotate(pages, reader),
            ),
            Path_(
                "product_detail",
                "products/{id}/ (signed in)",
                "rotate.lua",
                rotate(details, reader),
            ),
            Path_(
                "category_list",
                "categories/ (signed in)",
                "rotate.lua",
                rotate(["/api/v1/catalog/categories/"], reader),
            ),
            Path_(
                "search", "products/?search= (signed in)", "rotate.lua", rotate(searches, reader)
            ),
            Path_(
                "product_list_anon",
                "products/ anonymous (gateway cache)",
                "rotate.lua",
                rotate(pages),
            ),
            Path_(
                "product_detail_anon",
                "products/{id}/ anonymous (gateway cache)",
                "rotate.lua",
                rotate(details),
            ),
            Path_(
                "cart_read",
                "cart/ (3 lines, signed in)",
                "rotate.lua",
                rotate(["/api/v1/cart/"], reader),
            ),
            # One connection per customer; each order is preceded by its add-to-cart,
            # and CPU and SQL are counted per order, the add-to-cart included.
            Path_(
                "checkout",
                "checkout (orders/, with its add-to-cart)",
                "checkout.lua",
                {
                    "BENCH_TOKENS": " ".join(self.checkout_tokens),
                    "BENCH_PRODUCTS": " ".join(str(pk) for pk in self.checkout_products),
                },
                connections=len(self.checkout_tokens),
                per="order",
            ),
        ]


def with_ratios(results: dict[str, dict]) -> dict[str, dict]:
    """Each path's req/s (orders/s) and p50 as shares of the same round's hello."""
    hello = results["hello"]
    for result in results.values():
        rate = result["orders_per_s"] if result["per"] == "order" else result["rps"]
        result["rps_ratio"] = round(rate / hello["rps"], 3)
        result["p50_ratio"] = round(result["p50_ms"] / hello["p50_ms"], 3)
    return results


def combine_rounds(rounds: list[dict[str, dict]]) -> dict[str, dict]:
    """Per path, the round with the median ratio to its own hello, plus every round's
    ratio and CPU figure (`--rounds`: a machine whose speed drifts between runs moves
    hello and the paths together within a round, not across rounds)."""
    if len(rounds) == 1:
        return rounds[0]
    combined = {}
    for name in rounds[0]:
        runs = sorted((one[name] for one in rounds), key=lambda result: result["rps_ratio"])
        median = dict(runs[(len(runs) - 1) // 2])
        in_order = [one[name] for one in rounds]
        median["rounds"] = len(rounds)
        median["rps_ratio_rounds"] = [result["rps_ratio"] for result in in_order]
        median["cpu_ms_per_unit_rounds"] = [result["cpu_ms_per_unit"] for result in in_order]
        median["p99_ms_rounds"] = [result["p99_ms"] for result in in_order]
        combined[name] = median
    return combined


def _spread(result: dict, key: str, shape: str = "g") -> str:
    """The figure `key`, with its range over the rounds when there were several."""
    value = format(result[key], shape)
    values = result.get(f"{key}_rounds")
    if not values or min(values) == max(values):
        return value
    return f"{value} ({format(min(values), shape)}-{format(max(values), shape)})"


def markdown(report: dict) -> str:
    rounds = report.get("rounds", 1)
    of_rounds = (
        f" The median of {rounds} rounds (each path's ratio to its own round's hello), "
        "with the range over the rounds in brackets."
        if rounds > 1
        else ""
    )
    lines = [
        f"Tienda bench, {report['finished_at']}: wrk {report['wrk']}, {report['seconds']} s "
        f"per path after {report['warmup']} s warm-up; {report['products']} products; "
        f"{report['database']}; gunicorn {report['gunicorn']}; {report['machine']}.{of_rounds}",
        "",
        "| path | req/s | vs hello | p50 ms | p95 ms | p99 ms | errors | CPU ms | SQL |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for result in report["results"].values():
        per = " /order" if result["per"] == "order" else ""
        rps = (
            f"{result['orders_per_s']} orders/s" if result["per"] == "order" else str(result["rps"])
        )
        lines.append(
            f"| {result['label']} | {rps} "
            f"| {_spread(result, 'rps_ratio', '.3f' if result['per'] == 'order' else '.2f')} "
            f"| {result['p50_ms']} | {result['p95_ms']} "
            f"| {_spread(result, 'p99_ms')} | {result['errors']} "
            f"| {_spread(result, 'cpu_ms_per_unit')}{per} "
            f"| {result.get('sql_per_unit', '-')}{per} |"
        )
    lines += ["", "Worker RSS after the run (MB, largest process per server): "]
    lines.append(", ".join(f"{name} {mb}" for name, mb in report["rss_mb"].items()))
    return "\n".join(lines) + "\n"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--products", type=int, default=2000, help="catalogue size (2000)")
    parser.add_argument("--seconds", type=float, default=10.0, help="measured time per path (10)")
    parser.add_argument("--warmup", type=float, default=2.0, help="unmeasured time per path (2)")
    parser.add_argument("--threads", type=int, default=2, help="wrk threads (2)")
    parser.add_argument("--connections", type=int, default=16, help="wrk connections (16)")
    parser.add_argument("--checkout-clients", type=int, default=2, help="customers (2)")
    parser.add_argument("--only", help="comma-separated path names (hello is always run)")
    parser.add_argument("--sqlite", action="store_true", help="SQLite files instead of MariaDB")
    parser.add_argument(
        "--rounds",
        type=int,
        default=1,
        help="run every path this many times, hello first in each round; report the median (1)",
    )
    args = parser.parse_args(argv)
    if not (
        1 <= args.threads <= 8
        and 1 <= args.connections <= 256
        and 1 <= args.checkout_clients <= 16
        and 0 < args.seconds <= 60
        and 0 <= args.warmup <= 30
        and 1 <= args.products <= 200_000
        and 1 <= args.rounds <= 9
    ):
        parser.error(
            "bounded runs only: 1-8 threads, 1-256 connections, at most 60 s per path, "
            "30 s warm-up, 200,000 products, 9 rounds"
        )
    if shutil.which("wrk") is None:
        parser.error("wrk is not installed (scripts/system-packages.sh as root)")

    output = PrefixedOutput()
    started = time.monotonic()
    stack = Stack(
        sqlite=args.sqlite,
        products=args.products,
        customers=args.checkout_clients + 1,
        output=output,
    )
    output.say(f"bench: preparing a fresh stack on {stack.database} (logs in var/bench/)")
    rounds: list[dict[str, dict]] = []
    try:
        stack.prepare()
        stack.start()
        workload = Workload(stack, checkout_clients=args.checkout_clients)
        wanted = set(args.only.split(",")) | {"hello"} if args.only else None
        for number in range(1, args.rounds + 1):
            results = {}
            for path in workload.paths():
                if wanted is not None and path.name not in wanted:
                    continue
                results[path.name] = measure(stack, path, args)
                output.say(f"bench: {path.name}: {results[path.name]}")
            rounds.append(with_ratios(results))
            if args.rounds > 1:
                output.say(f"bench: round {number} of {args.rounds} done")
        rss = worker_rss_mb(stack.sessions())
    except (RuntimeError, requests.RequestException, subprocess.SubprocessError) as exc:
        output.say(f"bench failed: {exc}")
        return 1
    except KeyboardInterrupt:  # Ctrl-C: the stack is stopped below, then we are done
        output.say("bench: interrupted")
        return 130
    finally:
        stack.stop()

    results = combine_rounds(rounds)
    wrk_version = subprocess.run(
        ["wrk", "--version"], capture_output=True, text=True, check=False
    ).stdout.split(" [")[0]
    report = {
        "finished_at": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "wrk": f"{wrk_version.split(' ', 1)[-1]} -t{args.threads} -c{args.connections}",
        "seconds": args.seconds,
        "warmup": args.warmup,
        "rounds": args.rounds,
        "products": args.products,
        "database": stack.database,
        "gunicorn": "gthread, {} workers x {} threads per service".format(
            os.environ.get("WEB_CONCURRENCY", "2"), os.environ.get("GUNICORN_THREADS", "4")
        ),
        "machine": f"{os.cpu_count()} CPUs, Python {platform.python_version()}, "
        f"load average {os.getloadavg()[0]:.1f} at the end, wrk on the same machine",
        "wall_seconds": round(time.monotonic() - started, 1),
        "rss_mb": rss,
        "results": results,
    }
    RESULTS_DIR.mkdir(exist_ok=True)
    stem = f"latest-{args.products}"
    (RESULTS_DIR / f"{stem}.json").write_text(json.dumps(report, indent=2) + "\n")
    table = markdown(report)
    (RESULTS_DIR / f"{stem}.md").write_text(table)
    print(table)
    output.say(f"bench: done in {report['wall_seconds']} s; bench/results/{stem}.json and .md")
    return 0


if __name__ == "__main__":
    sys.exit(main())
