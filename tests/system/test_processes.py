"""Every service boots under gunicorn on MariaDB and reports its health honestly."""

import json
import time

import MySQLdb  # noqa: F401  (the system tests need the real driver)
import pytest
import requests

from tests.support.processes import SERVICES, ServiceProcess


@pytest.mark.parametrize("service", SERVICES)
def test_service_is_live_and_ready(shop, service):
    base = shop.url(service)
    health = requests.get(f"{base}/{service}/health/", timeout=5)
    assert health.status_code == 200
    assert health.json() == {"status": "ok", "service": service}
    ready = requests.get(f"{base}/{service}/ready/", timeout=5)
    assert ready.status_code == 200
    assert ready.json()["databases"] == {"default": "ok", "ecommerce": "ok"}
    assert ready.headers["X-Request-ID"]


@pytest.mark.parametrize("service", SERVICES)
def test_openapi_schema_and_docs_are_served(shop, service):
    base = shop.url(service)
    schema = requests.get(f"{base}/api/v1/{service}/schema/?format=json", timeout=10)
    assert schema.status_code == 200
    assert schema.json()["openapi"].startswith("3.")
    docs = requests.get(f"{base}/api/v1/{service}/docs/", timeout=5)
    assert docs.status_code == 200
    assert "swagger-ui" in docs.text
    # Swagger UI's assets come from the service itself, not from a CDN.
    assert "cdn." not in docs.text
    asset = requests.get(
        f"{base}/{service}/static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui.css", timeout=5
    )
    assert asset.status_code == 200


def test_ready_is_503_when_the_database_is_unreachable(shop, tmp_path):
    env = {**shop.env, "ECOMMERCE_DATABASE_URL": "mysql://root@127.0.0.1:9/nowhere"}
    broken = ServiceProcess("catalog", env=env, log_dir=tmp_path)
    try:
        with pytest.raises(RuntimeError, match="not ready"):
            broken.start(timeout=8)
        response = requests.get(f"{broken.url}/catalog/ready/", timeout=10)
        assert response.status_code == 503
        assert response.json()["databases"]["ecommerce"].startswith("unavailable")
        assert response.json()["databases"]["default"] == "ok"
        assert requests.get(f"{broken.url}/catalog/health/", timeout=5).status_code == 200
    finally:
        broken.stop()


def test_request_logs_are_json_lines_with_the_request_id(shop):
    requests.get(
        f"{shop.url('cart')}/cart/health/", headers={"X-Request-ID": "trace-me-1"}, timeout=5
    )
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        lines = [
            json.loads(line)
            for line in shop.services["cart"].log_text().splitlines()
            if line.startswith("{")
        ]
        hits = [line for line in lines if line.get("request_id") == "trace-me-1"]
        if hits:
            assert hits[0]["service"] == "cart"
            assert hits[0]["path"] == "/cart/health/"
            assert hits[0]["status"] == 200
            return
        time.sleep(0.2)
    pytest.fail("no JSON log line carried the request id")
