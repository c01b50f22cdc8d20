#!/usr/bin/env python3
"""Load benchmark through the gateway (`make bench`; see bench/README.md).

Starts a fresh local stack of its own (four gunicorns, the bench-only hello
site, nginx; fresh MariaDB databases tienda_bench_auth / tienda_bench_ecommerce,
or SQLite with --sqlite), seeds it, then drives each path with N threads for a
fixed time and reports requests/s and latency percentiles, each as a ratio to
the bare Django "hello" view served the same way in the same run. Loopback
only; every loop is bounded in time. Results: bench/results/latest.json and
latest.md.
"""

import argparse
import datetime
import json
import os
import platform
import shutil
import socket
import statistics
import sys
import threading
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import requests

REPO_DIR = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO_DIR), str(REPO_DIR / "scripts")]

from dev_secrets import ensure_key_pair, random_secret  # noqa: E402
from run_local import (  # noqa: E402
    Output,
    ProcessGroup,
    bind_environment,
    gunicorn_argv,
    manage_argv,
    run_step,
    service_environment,
    wait_until_ok,
)

from gateway_nginx.render import SERVICES, GatewayConfig, find_nginx, write_config  # noqa: E402

BENCH_VAR = REPO_DIR / "var" / "bench"
RESULTS_DIR = REPO_DIR / "bench" / "results"
HELLO_DIR = REPO_DIR / "bench" / "hello_site"
DATABASES = {"auth": "tienda_bench_auth", "ecommerce": "tienda_bench_ecommerce"}
PRODUCTS = 300
CUSTOMER_PASSWORD = "tienda-demo-2026"
SHIPPING_ADDRESS = {
    "full_name": "Bench Buyer",
    "line1": "Calle Mayor 1",
    "city": "Madrid",
    "postal_code": "28013",
    "country": "ES",
}
# The gateway's limits would measure nginx refusing: lifted for the benchmark only.
UNLIMITED = {
    "login_rate": "100000r/s",
    "login_burst": 100000,
    "register_rate": "100000r/s",
    "register_burst": 100000,
    "checkout_rate": "100000r/s",
    "checkout_burst": 100000,
}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def recreate_mysql_databases(url: str) -> dict[str, str]:
    """Fresh tienda_bench_* databases; the URLs the services use."""
    import MySQLdb

    server = url.split("://", 1)[1].rstrip("/")
    credentials, _, hostport = server.rpartition("@")
    user, _, password = credentials.partition(":")
    host, _, port = hostport.partition(":")
    connection = MySQLdb.connect(
        host=host, port=int(port or 3306), user=user or "root", passwd=password
    )
    try:
        cursor = connection.cursor()
        for name in DATABASES.values():
            cursor.execute(f"DROP DATABASE IF EXISTS `{name}`")
            cursor.execute(
                f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci"
            )
    finally:
        connection.close()
    return {
        "AUTH_DATABASE_URL": f"{url.rstrip('/')}/{DATABASES['auth']}",
        "ECOMMERCE_DATABASE_URL": f"{url.rstrip('/')}/{DATABASES['ecommerce']}",
    }


def sqlite_databases() -> dict[str, str]:
    for name in DATABASES.values():
        for suffix in ("", "-wal", "-shm"):
            (BENCH_VAR / f"{name}.sqlite3{suffix}").unlink(missing_ok=True)
    return {
        "AUTH_DATABASE_URL": f"sqlite:///{BENCH_VAR / (DATABASES['auth'] + '.sqlite3')}",
        "ECOMMERCE_DATABASE_URL": f"sqlite:///{BENCH_VAR / (DATABASES['ecommerce'] + '.sqlite3')}",
    }


class Stack:
    """The shop as `make run` starts it, on free ports, plus the hello site."""

    def __init__(self, *, sqlite: bool, customers: int, output: Output):
        self.output = output
        self.customers = customers
        self.group = ProcessGroup(output)
        self.ports = {service: free_port() for service in SERVICES}
        self.hello_port = free_port()
        self.gateway_port = free_port()
        self.url = f"http://127.0.0.1:{self.gateway_port}"
        self.superuser_password = random_secret()
        shutil.rmtree(BENCH_VAR, ignore_errors=True)
        BENCH_VAR.mkdir(parents=True)
        private_key, public_key = ensure_key_pair(BENCH_VAR / "keys")
        mysql_url = os.environ.get("TEST_MYSQL_URL", "mysql://root@127.0.0.1:3306")
        databases = sqlite_databases() if sqlite else recreate_mysql_databases(mysql_url)
        self.database = (
            "SQLite (var/bench/*.sqlite3)"
            if sqlite
            else f"MariaDB/MySQL {mysql_url.split('@')[-1]} ({', '.join(DATABASES.values())})"
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
        self._step("catalog", "seed_catalog", "--products", str(PRODUCTS))

    def _step(self, service: str, *args: str) -> None:
        code = run_step(
            service,
            manage_argv(*args),
            cwd=REPO_DIR / f"{service}_site",
            env=self.env,
            output=self.output,
            log=self.log(service),
        )
        if code != 0:
            raise RuntimeError(
                f"{service}: manage.py {' '.join(args)} failed; see {self.log(service)}"
            )

    def start(self) -> None:
        for service in SERVICES:
            self.group.start(
                service,
                gunicorn_argv(f"{service}_site.wsgi"),
                cwd=REPO_DIR / f"{service}_site",
                env=bind_environment(self.env, self.ports[service]),
                log=self.log(service),
            )
        self.group.start(
            "hello",
            gunicorn_argv("hello_site.wsgi"),
            cwd=HELLO_DIR,
            env=bind_environment(self.env, self.hello_port),
            log=self.log("hello"),
        )
        config = GatewayConfig.for_mode(
            "local",
            listen=[f"127.0.0.1:{self.gateway_port}"],
            upstreams={s: f"127.0.0.1:{p}" for s, p in self.ports.items()},
            routes={"/bench/": f"127.0.0.1:{self.hello_port}"},
            **UNLIMITED,
        )
        conf = write_config(config, BENCH_VAR / "gateway" / "nginx.conf")
        nginx = find_nginx()
        if nginx is None:
            raise RuntimeError("nginx is not installed (scripts/system-packages.sh as root)")
        self.group.start(
            "gateway",
            [nginx, "-p", f"{conf.parent}/", "-c", str(conf)],
            cwd=REPO_DIR,
            env=self.env,
            log=self.log("gateway"),
        )
        for service in SERVICES:
            wait_until_ok(
                f"http://127.0.0.1:{self.ports[service]}/{service}/ready/", group=self.group
            )
        wait_until_ok(f"{self.url}/bench/hello/", group=self.group)

    def stop(self) -> None:
        self.group.stop()


@dataclass
class Scenario:
    """One measured request per iteration; `before` runs first, unmeasured."""

    name: str
    label: str
    expect: int
    request: object  # (session, worker, iteration) -> Response
    before: object = None  # (session, worker, iteration) -> None


def run_scenario(scenario: Scenario, sessions, *, seconds: float) -> dict:
    """N threads loop for `seconds`; latencies of the answers with the expected status."""
    latencies = [[] for _ in sessions]
    failures = [0 for _ in sessions]
    start = threading.Barrier(len(sessions) + 1)
    deadline = [0.0]

    def worker(index: int) -> None:
        session = sessions[index]
        start.wait()
        iteration = 0
        while time.monotonic() < deadline[0]:
            if scenario.before:
                scenario.before(session, index, iteration)
            began = time.perf_counter()
            try:
                response = scenario.request(session, index, iteration)
                ok = response.status_code == scenario.expect
            except requests.RequestException:
                ok = False
            if ok:
                latencies[index].append(time.perf_counter() - began)
            else:
                failures[index] += 1
            iteration += 1

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(len(sessions))]
    for thread in threads:
        thread.start()
    deadline[0] = time.monotonic() + seconds
    began = time.monotonic()
    start.wait()
    for thread in threads:
        thread.join(timeout=seconds + 60)
    elapsed = time.monotonic() - began
    merged = sorted(x for per_worker in latencies for x in per_worker)
    if len(merged) < 2:
        raise RuntimeError(f"{scenario.name}: {len(merged)} good answers; see var/bench/*.log")
    cuts = statistics.quantiles(merged, n=100, method="inclusive")
    return {
        "label": scenario.label,
        "requests": len(merged),
        "errors": sum(failures),
        "rps": round(len(merged) / elapsed, 1),
        "p50_ms": round(cuts[49] * 1000, 2),
        "p95_ms": round(cuts[94] * 1000, 2),
        "p99_ms": round(cuts[98] * 1000, 2),
    }


class Workload:
    """Tokens, carts and stock the scenarios need, made through the gateway."""

    def __init__(self, stack: Stack, threads: int):
        self.url = stack.url
        self.sessions = [requests.Session() for _ in range(threads)]
        staff = self._token("admin@tienda.local", stack.superuser_password)
        products = requests.get(
            f"{self.url}/api/v1/catalog/products/?page_size=100&in_stock=true", timeout=10
        ).json()["results"]
        self.product_ids = [product["id"] for product in products]
        # One product per worker for checkouts (no lock contention between workers
        # on one stock row), with stock that will not run out.
        self.checkout_products = self.product_ids[:threads]
        for product_id in self.checkout_products:
            response = requests.patch(
                f"{self.url}/api/v1/catalog/products/{product_id}/",
                json={"stock": 1_000_000},
                headers={"Authorization": f"Bearer {staff}"},
                timeout=10,
            )
            response.raise_for_status()
        for index, session in enumerate(self.sessions):
            token = self._token(f"customer{index + 1}@example.com", CUSTOMER_PASSWORD)
            session.headers["Authorization"] = f"Bearer {token}"
            session.delete(f"{self.url}/api/v1/cart/", timeout=10)
            for product_id in self.product_ids[threads : threads + 3]:
                added = session.post(
                    f"{self.url}/api/v1/cart/items/",
                    json={"product_id": product_id, "quantity": 1},
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

    def scenarios(self) -> list[Scenario]:
        url = self.url
        ids = self.product_ids

        def hello(session, worker, i):
            return session.get(f"{url}/bench/hello/", timeout=10)

        def product_list(session, worker, i):
            return session.get(
                f"{url}/api/v1/catalog/products/?page_size=20&page={i % 10 + 1}", timeout=10
            )

        def product_detail(session, worker, i):
            return session.get(
                f"{url}/api/v1/catalog/products/{ids[(i * 7 + worker) % len(ids)]}/", timeout=10
            )

        def cart_read(session, worker, i):
            return session.get(f"{url}/api/v1/cart/", timeout=10)

        def add_to_cart(session, worker, i):
            session.post(
                f"{url}/api/v1/cart/items/",
                json={"product_id": self.checkout_products[worker], "quantity": 1},
                timeout=10,
            )

        def checkout(session, worker, i):
            return session.post(
                f"{url}/api/v1/orders/",
                json={"shipping_address": SHIPPING_ADDRESS},
                headers={"Idempotency-Key": uuid.uuid4().hex},
                timeout=30,
            )

        return [
            Scenario("hello", "bare Django hello (baseline)", 200, hello),
            Scenario("product_list", "GET products/ (20 per page)", 200, product_list),
            Scenario("product_detail", "GET products/{id}/", 200, product_detail),
            Scenario("cart_read", "GET cart/ (3 lines)", 200, cart_read),
            # Each checkout first adds a line to the cart (not timed): the cart
            # of the 3 lines above is checked out on the first round.
            Scenario("checkout", "POST orders/ (checkout)", 201, checkout, before=add_to_cart),
        ]


def markdown(report: dict) -> str:
    lines = [
        f"Tienda bench, {report['finished_at']}: {report['threads']} threads, "
        f"{report['seconds']} s per path after {report['warmup']} s warm-up; "
        f"{report['database']}; gunicorn {report['gunicorn']}; {report['machine']}.",
        "",
        "| path | req/s | p50 ms | p95 ms | p99 ms | errors | req/s vs hello | p50 vs hello |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for result in report["results"].values():
        lines.append(
            f"| {result['label']} | {result['rps']} | {result['p50_ms']} | {result['p95_ms']} "
            f"| {result['p99_ms']} | {result['errors']} | {result['rps_ratio']:.2f} "
            f"| {result['p50_ratio']:.2f} |"
        )
    return "\n".join(lines) + "\n"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--threads", type=int, default=8, help="concurrent clients (8)")
    parser.add_argument("--seconds", type=float, default=10.0, help="measured time per path (10)")
    parser.add_argument("--warmup", type=float, default=2.0, help="unmeasured time per path (2)")
    parser.add_argument("--sqlite", action="store_true", help="SQLite files instead of MariaDB")
    args = parser.parse_args(argv)
    if not (1 <= args.threads <= 64 and 0 < args.seconds <= 60 and 0 <= args.warmup <= 30):
        parser.error("bounded runs only: 1-64 threads, at most 60 s per path, 30 s warm-up")

    output = Output()
    started = time.monotonic()
    stack = Stack(sqlite=args.sqlite, customers=args.threads, output=output)
    output.say(f"bench: preparing a fresh stack on {stack.database} (logs in var/bench/)")
    try:
        stack.prepare()
        stack.start()
        workload = Workload(stack, args.threads)
        results = {}
        for scenario in workload.scenarios():
            if args.warmup:
                run_scenario(scenario, workload.sessions, seconds=args.warmup)
            results[scenario.name] = run_scenario(scenario, workload.sessions, seconds=args.seconds)
            output.say(f"bench: {scenario.name}: {results[scenario.name]}")
    except (RuntimeError, requests.RequestException) as exc:
        output.say(f"bench failed: {exc}")
        return 1
    finally:
        stack.stop()

    hello = results["hello"]
    for result in results.values():
        result["rps_ratio"] = round(result["rps"] / hello["rps"], 3)
        result["p50_ratio"] = round(result["p50_ms"] / hello["p50_ms"], 3)
    report = {
        "finished_at": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "threads": args.threads,
        "seconds": args.seconds,
        "warmup": args.warmup,
        "database": stack.database,
        "gunicorn": "gthread, {} workers x {} threads per service".format(
            os.environ.get("WEB_CONCURRENCY", "2"), os.environ.get("GUNICORN_THREADS", "4")
        ),
        "machine": f"{os.cpu_count()} CPUs, Python {platform.python_version()}, "
        "load generator on the same machine",
        "wall_seconds": round(time.monotonic() - started, 1),
        "results": results,
    }
    RESULTS_DIR.mkdir(exist_ok=True)
    (RESULTS_DIR / "latest.json").write_text(json.dumps(report, indent=2) + "\n")
    table = markdown(report)
    (RESULTS_DIR / "latest.md").write_text(table)
    print(table)
    output.say(
        f"bench: done in {report['wall_seconds']} s; bench/results/latest.json and latest.md"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
