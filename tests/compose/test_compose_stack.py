"""docker-compose.yml proven by running it (`make test-compose`).

Base images from Debian packages (tests/compose/bases.py: MariaDB stands in for
MySQL, whose image cannot be pulled here), every image of the compose file built with
`podman build`, the whole stack started from the project's own docker-compose.yml by
podman-compose, every healthcheck waited for, then driven from outside through the
gateway's published port only: a customer's journey, the admin's sign-in page,
/internal/ refused, catalog scaled to two replicas that both answer. Everything is
removed at the end, also when a step fails.

Where podman cannot run, the tests are skipped and say why; with
TIENDA_REQUIRE_COMPOSE=1 (CI) that is a failure instead.
"""

import json
import os
import re
import time
import uuid
from decimal import Decimal

import pytest
import requests

from tests.compose.bases import BaseBuilds, podman
from tests.compose.stack import PROJECT, Stack, podman_unavailable, say

MAX_IMAGE_BYTES = 250 * 1024 * 1024
STAFF_PASSWORD = "tienda-staff-2026"  # auth's `seed_users --dev` demo staff
PASSWORD = "a-Long-unusual-passphrase-42"
ADDRESS = {
    "full_name": "Ana García",
    "line1": "Calle Mayor 1",
    "city": "Madrid",
    "postal_code": "28013",
    "country": "ES",
    "phone": "+34600000000",
}


@pytest.fixture(scope="module")
def stack():
    reason = podman_unavailable()
    if reason:
        if os.environ.get("TIENDA_REQUIRE_COMPOSE") == "1":
            pytest.fail(f"make test-compose cannot run: {reason}")
        say(f"SKIPPED: {reason}")
        pytest.skip(f"podman cannot run the compose stack here: {reason}")
    started = time.monotonic()
    say("base images from Debian packages: MariaDB stands in for MySQL (the mysql image")
    say("cannot be pulled here); Debian's Python 3.11, nginx 1.30 and Redis for the others")
    bases = BaseBuilds()
    for variable, image in bases.images.items():
        say(f"  {variable}={image}")
    running = Stack(bases)
    running.remove_at_exit()
    try:
        running.remove()  # a previous run's leftovers, if it was killed
        running.removed = False
        running.write_env_file()
        running.build()
        say(f"podman-compose up -d (project {PROJECT}, gateway on {running.url})")
        running.up()
        states = running.wait_healthy()
        say(f"all healthy after {time.monotonic() - started:.0f}s: {len(states)} containers")
        yield running
    finally:
        left = running.remove()
        say(f"make test-compose took {time.monotonic() - started:.0f}s")
    assert left == {}, f"the stack left {left}"


def _image_tags(stack: Stack) -> list[str]:
    return sorted({s["image"] for s in stack.config()["services"].values() if "build" in s})


def test_every_container_is_healthy_and_migrations_ran_once(stack):
    states = stack.health()
    names = {re.sub(rf"^{PROJECT}_(.+)_\d+$", r"\1", n): s for n, s in states.items()}
    for database in ("auth-db", "ecommerce-db", "redis", "auth", "catalog", "cart", "orders"):
        assert names[database] == "healthy", (database, states)
    assert names["gateway"] == "healthy", states
    for migration in ("migrate-auth", "migrate-catalog", "migrate-cart", "migrate"):
        assert names[migration] == "exited(0)", (migration, states)
    for job in ("reservation-expiry", "checkout-reconciler"):
        assert stack.inspect(f"{PROJECT}_{job}_1")["State"]["Status"] == "running", job
    # The services did not migrate themselves: the one-shots did, in order.
    assert "Applying" in stack.logs(f"{PROJECT}_migrate-auth_1")
    assert "Applying" not in stack.logs(f"{PROJECT}_catalog_1")
    # MySQL's contract held by the stand-in: the `tienda` user sees its database.
    databases = stack.exec(
        "auth-db", "sh", "-c", 'mysql -utienda -p"$MYSQL_PASSWORD" -N -e "SHOW DATABASES"'
    )
    assert "auth_db" in databases.split()


def test_images_are_small_non_root_and_without_compilers(stack):
    sizes = {}
    for image in _image_tags(stack):
        [info] = json.loads(podman("image", "inspect", image).stdout)
        sizes[image] = info["Size"]
        user = info["Config"].get("User") or "root"
        assert user not in ("", "root", "0"), (image, user)
        compilers = podman(
            "run", "--rm", "--entrypoint", "sh", image, "-c",
            "ls /usr/bin/gcc* /usr/bin/cc /usr/bin/c++ /usr/bin/make 2>/dev/null; true",
        ).stdout.split()  # fmt: skip
        assert compilers == [], (image, compilers)
    say("image sizes: " + ", ".join(f"{i} {s / 1e6:.0f} MB" for i, s in sizes.items()))
    assert {i: s for i, s in sizes.items() if s >= MAX_IMAGE_BYTES} == {}
    # The running processes too: no container of the shop runs as root.
    for service in ("auth", "catalog", "cart", "orders", "gateway"):
        assert stack.exec(service, "id", "-u").strip() != "0", service


def test_a_customer_journey_through_the_published_port(stack):
    url = stack.url
    assert requests.get(f"{url}/health", timeout=10).status_code == 200

    # Staff and products, as an operator seeds them (README: `compose run ... manage`).
    stack.exec("auth", "/app/scripts/docker-entrypoint.sh", "manage", "seed_users", "--dev")
    catalog = requests.Session()
    token = requests.post(
        f"{url}/api/v1/auth/token/",
        json={"email": "catalog@tienda.local", "password": STAFF_PASSWORD},
        timeout=30,
    )
    assert token.status_code == 200, token.text
    catalog.headers["Authorization"] = f"Bearer {token.json()['access']}"
    sku = f"CMP-{uuid.uuid4().hex[:8].upper()}"
    product = catalog.post(
        f"{url}/api/v1/catalog/products/",
        json={
            "sku": sku,
            "name": f"Compose lamp {sku}",
            "price": "40.00",
            "tax_rate": "0.21",
            "stock": 10,
        },
        timeout=30,
    )
    assert product.status_code == 201, product.text
    product = product.json()

    # Register and sign in.
    email = f"compose-{uuid.uuid4().hex[:8]}@example.com"
    registered = requests.post(
        f"{url}/api/v1/auth/register/",
        json={"email": email, "password": PASSWORD, "first_name": "Ana", "last_name": "García"},
        timeout=30,
    )
    assert registered.status_code == 201, registered.text
    signed_in = requests.post(
        f"{url}/api/v1/auth/token/", json={"email": email, "password": PASSWORD}, timeout=30
    )
    assert signed_in.status_code == 200, signed_in.text
    customer = requests.Session()
    customer.headers["Authorization"] = f"Bearer {signed_in.json()['access']}"

    # Browse.
    found = requests.get(f"{url}/api/v1/catalog/products/", params={"search": sku}, timeout=30)
    assert found.status_code == 200, found.text
    assert [p["id"] for p in found.json()["results"]] == [product["id"]]

    # Cart.
    added = customer.post(
        f"{url}/api/v1/cart/items/", json={"product_id": product["id"], "quantity": 2}, timeout=30
    )
    assert added.status_code == 201, added.text
    cart = customer.get(f"{url}/api/v1/cart/", timeout=30).json()
    assert [(i["product_id"], i["quantity"]) for i in cart["items"]] == [(product["id"], 2)]
    assert Decimal(cart["total"]) == Decimal("96.80")  # 2 x 40.00 + IVA 21 %

    # Checkout: the stock is reserved in the catalog.
    order = customer.post(
        f"{url}/api/v1/orders/",
        json={"shipping_address": ADDRESS},
        headers={"Idempotency-Key": uuid.uuid4().hex},
        timeout=60,
    )
    assert order.status_code == 201, order.text
    order = order.json()
    assert order["status"] == "pending"
    assert Decimal(order["total"]) == Decimal("96.80")
    assert customer.get(f"{url}/api/v1/cart/", timeout=30).json()["items"] == []
    stock = customer.get(f"{url}/api/v1/catalog/products/{product['id']}/", timeout=30)
    assert stock.json()["stock"] == 8

    # Cancel: the stock comes back.
    cancelled = customer.post(
        f"{url}/api/v1/orders/{order['id']}/cancel/", json={"note": "changed my mind"}, timeout=60
    )
    assert cancelled.status_code == 200, cancelled.text
    assert cancelled.json()["status"] == "cancelled"
    stock = customer.get(f"{url}/api/v1/catalog/products/{product['id']}/", timeout=30)
    assert stock.json()["stock"] == 10

    # The database says the same (the MySQL stand-in, read with the `tienda` user).
    rows = stack.exec(
        "ecommerce-db", "sh", "-c",
        'mysql -utienda -p"$MYSQL_PASSWORD" ecommerce_db -N -e '
        f"\"SELECT stock FROM catalog_product WHERE sku = '{sku}'\"",
    )  # fmt: skip
    assert rows.split() == ["10"]


def test_the_admin_sign_in_page_and_internal_refused(stack):
    for service in ("auth", "catalog", "cart", "orders"):
        page = requests.get(f"{stack.url}/{service}/admin/login/", timeout=30)
        assert page.status_code == 200, (service, page.status_code)
        assert 'name="password"' in page.text and "csrfmiddlewaretoken" in page.text
        # Its stylesheet comes from the image (collectstatic at build time, WhiteNoise).
        css = re.search(r'href="([^"]+\.css)"', page.text).group(1)
        assert requests.get(f"{stack.url}{css}", timeout=30).status_code == 200, css
    for path in ("/internal/catalog/products/?ids=1", "/internal/auth/users/1/", "/internal/"):
        refused = requests.get(f"{stack.url}{path}", timeout=30)
        assert refused.status_code == 404, (path, refused.status_code)


def test_catalog_scaled_to_two_replicas_both_answer(stack):
    stack.scale("catalog", 2)
    stack.wait_healthy()
    replicas = sorted(
        n for n in stack.containers(running=True) if re.match(rf"{PROJECT}_catalog_\d+$", n)
    )
    assert len(replicas) == 2, replicas
    # Signed in, so the gateway's micro-cache never answers: every read reaches a replica.
    token = requests.post(
        f"{stack.url}/api/v1/auth/token/",
        json={"email": "catalog@tienda.local", "password": STAFF_PASSWORD},
        timeout=30,
    ).json()["access"]
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {token}"
    answered = {name: set() for name in replicas}
    deadline = time.monotonic() + 60
    while not all(answered.values()) and time.monotonic() < deadline:
        request_ids = []
        for _ in range(20):
            response = session.get(f"{stack.url}/api/v1/catalog/products/", timeout=30)
            assert response.status_code == 200, response.text
            request_ids.append(response.headers["X-Request-ID"])
        time.sleep(1)
        for name in replicas:
            log = stack.logs(name)
            answered[name] |= {rid for rid in request_ids if rid in log}
    say("catalog replicas answered: " + ", ".join(f"{n} {len(r)}" for n, r in answered.items()))
    assert all(answered.values()), answered
    assert not answered[replicas[0]] & answered[replicas[1]]  # each request served once
