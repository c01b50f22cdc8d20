"""A client generated from each published schema type-checks and walks the storefront.

The four schemas are fetched through the gateway, openapi-python-client generates a
package from each into var/ (never committed), mypy --strict checks those packages
together with tests/system/storefront_walk.py, and the walk then runs against the
shop: register, sign in, browse, guest cart and merge, cart, checkout, orders, cancel.
Everything runs offline (the generator and mypy are pinned in requirements-dev.txt).
"""

import importlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import requests

from tests.support.processes import REPO_DIR, SERVICES
from tests.system.shopping import STAFF_PASSWORD, shop_shipping

WALK_MODULE = Path(__file__).with_name("storefront_walk.py")
GENERATOR_CONFIG = "post_hooks: []\n"  # no formatter run over generated code


@pytest.fixture(scope="module")
def generated_clients(shop, gateway):
    """{service: package directory}, generated from the schemas the gateway serves."""
    root = shop.log_dir / "clients"
    shutil.rmtree(root, ignore_errors=True)
    root.mkdir(parents=True)
    config = root / "openapi-python-client.yaml"
    config.write_text(GENERATOR_CONFIG)
    packages = {}
    for service in SERVICES:
        response = requests.get(f"{gateway.url}/api/v1/{service}/schema/?format=json", timeout=30)
        assert response.status_code == 200, response.text
        schema_file = root / f"{service}.json"
        schema_file.write_bytes(response.content)
        package = root / f"tienda_{service}_client"
        generated = subprocess.run(
            [
                sys.executable,
                "-m",
                "openapi_python_client",
                "generate",
                "--path",
                str(schema_file),
                "--meta",
                "none",
                "--output-path",
                str(package),
                "--config",
                str(config),
            ],
            capture_output=True,
            text=True,
            timeout=300,
        )
        # A schema piece the generator could not use would be missing from the client.
        assert generated.returncode == 0, generated.stdout + generated.stderr
        assert "Warning" not in generated.stdout + generated.stderr, generated.stdout
        packages[service] = package
    return packages


def test_the_generated_clients_type_check_with_the_walk(generated_clients, shop):
    root = shop.log_dir / "clients"
    checked = subprocess.run(
        [
            sys.executable,
            "-m",
            "mypy",
            "--strict",
            "--cache-dir",
            str(root / ".mypy_cache"),
            *(str(package) for package in generated_clients.values()),
            str(WALK_MODULE),
        ],
        capture_output=True,
        text=True,
        timeout=600,
        cwd=REPO_DIR,
        env={**os.environ, "MYPYPATH": str(root)},
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr


def test_the_generated_clients_walk_the_storefront(generated_clients, gateway, staff, shop):
    sys.path.insert(0, str(shop.log_dir / "clients"))
    try:
        storefront_walk = importlib.import_module("tests.system.storefront_walk")
        with shop_shipping(staff["orders"]):  # so the walk quotes and picks a method
            result = storefront_walk.walk(
                gateway.url,
                staff_email="catalog@tienda.local",
                staff_password=STAFF_PASSWORD,
                order_staff_email="orders@tienda.local",
                order_staff_password=STAFF_PASSWORD,
            )
    finally:
        sys.path.remove(str(shop.log_dir / "clients"))

    # What the walk did is what the databases hold: one order, paid, cancelled and
    # refunded, stock back.
    assert shop.query("auth", "SELECT id FROM auth_user WHERE id = %s", result.user_id)
    assert shop.query(
        "ecommerce",
        "SELECT status, payment_status, user_id, shipping_method_code"
        " FROM orders_order WHERE id = %s",
        result.order_id,
    ) == [("cancelled", "refunded", result.user_id, "standard")]
    assert result.shipping_method == "standard"  # the cheapest for 1.2 kg of kettle and mugs
    assert shop.query(
        "ecommerce",
        "SELECT provider, status, amount = refunded_amount FROM orders_payment WHERE order_id = %s",
        result.order_id,
    ) == [("manual", "succeeded", 1)]
    assert shop.query(
        "ecommerce", "SELECT COUNT(*) FROM orders_order WHERE user_id = %s", result.user_id
    ) == [(1,)]
    stock = shop.query(
        "ecommerce",
        "SELECT stock FROM catalog_product WHERE id IN (%s, %s)",
        *result.product_ids,
    )
    assert stock == [(10,), (10,)]
