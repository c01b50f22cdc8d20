"""Two replicas of every service behind the gateway, as Kubernetes or
`docker compose up --scale` would run them: two independent gunicorns per service
(natively, on MariaDB), the throttle counters and cache in Redis, and the gateway
rendered with two servers per upstream. What must still hold across replicas:
exactly the stock is sold, one order per Idempotency-Key, and a sign-in lockout
made on one replica is seen by the other.
"""

import uuid

import pytest
import redis
import requests

from tests.support.databases import drop_databases
from tests.support.environment import RUN_ID, RUN_SUFFIX
from tests.support.processes import SERVICES
from tests.support.redis_db import delete_keys, redis_url
from tests.support.shop import start_shop
from tests.system.conftest import SYSTEM_LOG_DIR
from tests.system.gateway import UNLIMITED_RATES, GatewayProcess
from tests.system.metrics import scrape, value
from tests.system.shopping import (
    ADDRESS,
    create_product,
    in_parallel,
    product_stock,
    token_buyer,
    token_staff,
)

REPLICAS = 2
REDIS_DATABASE = 13  # the replica tests' own number
PASSWORD = "Orchard-Violin-77"


@pytest.fixture(scope="module")
def redis_prefix():
    prefix = f"replicas-{RUN_ID or 'run'}-{uuid.uuid4().hex[:8]}"
    yield prefix
    delete_keys(REDIS_DATABASE, prefix)


@pytest.fixture(scope="module")
def replicated(redis_prefix):
    """The shop with two gunicorns per service, sharing Redis, and a gateway over both."""
    databases = {
        "auth": f"tienda_replicas{RUN_SUFFIX}_auth",
        "ecommerce": f"tienda_replicas{RUN_SUFFIX}_ecommerce",
    }
    env = {
        "CACHE_URL": f"{redis_url(REDIS_DATABASE)}?key_prefix={redis_prefix}",
        # Two processes per service on a small machine: one worker each is enough.
        "WEB_CONCURRENCY": "1",
    }
    shop = start_shop(databases, SYSTEM_LOG_DIR / "replicas", replicas=REPLICAS, env=env)
    gateway = GatewayProcess(
        shop.upstreams(),
        log_dir=shop.log_dir,
        name="gateway-replicas",
        **UNLIMITED_RATES,
    )
    try:
        gateway.start()
        yield shop, gateway
    finally:
        gateway.stop()
        shop.stop()
        drop_databases(databases.values())


def served(process, route: str, method: str = "GET", **labels) -> float:
    samples = scrape(f"{process.url}/{process.service}/metrics")
    return value(samples, "tienda_http_requests_total", route=route, method=method, **labels)


def test_the_gateway_spreads_requests_over_both_replicas(replicated):
    shop, gateway = replicated
    assert [len(processes) for processes in shop.replicas.values()] == [REPLICAS] * 4
    # Signed in, as a customer browses: anonymous reads may be answered by the
    # gateway's micro-cache, and each of these must reach a replica.
    customer = token_buyer(gateway.url)
    for _ in range(20):
        assert customer.session.get(f"{gateway.url}/api/v1/catalog/products/", timeout=10).ok
    counts = [served(p, "/api/v1/catalog/products/") for p in shop.replicas["catalog"]]
    assert sum(counts) == 20
    assert all(count >= 5 for count in counts), counts


def test_fifty_customers_for_five_units_across_replicas(replicated):
    shop, gateway = replicated
    manager = token_staff(
        gateway.url, ["catalog.add_product", "catalog.change_product", "catalog.view_product"]
    )
    product_id = create_product(manager, stock=5)["id"]
    buyers = [token_buyer(gateway.url) for _ in range(50)]
    for buyer in buyers:
        buyer.add_to_cart(product_id, 1)

    responses = in_parallel([buyer.checkout for buyer in buyers])

    statuses = [response.status_code for response in responses]
    assert statuses.count(201) == 5, statuses
    assert statuses.count(409) == 45, statuses
    assert {r.json()["code"] for r in responses if r.status_code == 409} == {"out_of_stock"}
    assert product_stock(gateway.url, product_id) == 0
    assert shop.query(
        "ecommerce",
        "SELECT COUNT(*), SUM(quantity) FROM orders_orderline WHERE product_id = %s",
        product_id,
    ) == [(5, 5)]
    assert shop.query(
        "ecommerce", "SELECT stock FROM catalog_product WHERE id = %s", product_id
    ) == [(0,)]
    # Both orders replicas took checkouts (and so both catalog replicas reserved).
    for process in shop.replicas["orders"]:
        assert served(process, "/api/v1/orders/", "POST") > 0, process.log_path


def test_the_same_key_ten_times_across_replicas_is_one_order(replicated):
    shop, gateway = replicated
    manager = token_staff(
        gateway.url, ["catalog.add_product", "catalog.change_product", "catalog.view_product"]
    )
    product_id = create_product(manager, stock=10)["id"]
    buyer = token_buyer(gateway.url)
    buyer.add_to_cart(product_id, 2)
    key = uuid.uuid4().hex

    responses = in_parallel([lambda: buyer.checkout(key)] * 10)

    statuses = [response.status_code for response in responses]
    assert set(statuses) <= {201, 409}, statuses
    assert 201 in statuses
    assert {r.json()["code"] for r in responses if r.status_code == 409} <= {"checkout_in_progress"}
    order_ids = {r.json()["id"] for r in responses if r.status_code == 201}
    assert len(order_ids) == 1
    # A retry sent straight to either replica gets the same order back.
    for process in shop.replicas["orders"]:
        retry = requests.post(
            f"{process.url}/api/v1/orders/",
            json={"shipping_address": ADDRESS},
            headers={
                "Authorization": buyer.session.headers["Authorization"],
                "Idempotency-Key": key,
            },
            timeout=30,
        )
        assert (retry.status_code, retry.json()["id"]) == (201, next(iter(order_ids)))
        assert retry.headers["Idempotent-Replayed"] == "true"
    assert product_stock(gateway.url, product_id) == 8
    assert shop.query(
        "ecommerce", "SELECT COUNT(*) FROM orders_order WHERE user_id = %s", buyer.user_id
    ) == [(1,)]
    assert shop.query(
        "ecommerce", "SELECT COUNT(*) FROM orders_idempotencykey WHERE user_id = %s", buyer.user_id
    ) == [(1,)]


def test_a_sign_in_lockout_made_through_one_replica_holds_on_every_replica(replicated):
    shop, gateway = replicated
    email = f"replica-{uuid.uuid4().hex[:8]}@example.com"
    registered = requests.post(
        f"{gateway.url}/api/v1/auth/register/",
        json={"email": email, "password": PASSWORD, "first_name": "Rita", "last_name": "Plica"},
        timeout=30,
    )
    assert registered.status_code == 201, registered.text
    first, second = shop.replicas["auth"]

    # Five failures, all on the first replica (THROTTLE_LOGIN_EMAIL_RATE: 5/min).
    for _ in range(5):
        response = requests.post(
            f"{first.url}/api/v1/auth/token/",
            json={"email": email, "password": "wrong"},
            timeout=30,
        )
        assert response.status_code == 401, response.text

    # The other replica refuses even the right password, and so does the gateway.
    for base in (second.url, first.url, gateway.url):
        response = requests.post(
            f"{base}/api/v1/auth/token/", json={"email": email, "password": PASSWORD}, timeout=30
        )
        assert response.status_code == 429, (base, response.text)
        assert response.json()["code"] == "throttled"
    assert served(second, "/api/v1/auth/token/", "POST", status="429") >= 1
    [(user_id,)] = shop.query("auth", "SELECT id FROM auth_user WHERE email = %s", email)
    assert shop.query(
        "auth", "SELECT COUNT(*) FROM token_blacklist_outstandingtoken WHERE user_id = %s", user_id
    ) == [(0,)]
    # The counter lives in Redis, where both replicas read it.
    client = redis.Redis.from_url(redis_url(REDIS_DATABASE))
    assert any(b"login_email" in key for key in client.scan_iter("*throttle*"))


@pytest.mark.parametrize("service", SERVICES)
def test_every_replica_is_ready(replicated, service):
    shop, _ = replicated
    for process in shop.replicas[service]:
        assert requests.get(f"{process.url}/{service}/ready/", timeout=10).status_code == 200
