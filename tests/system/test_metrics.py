"""Prometheus metrics at /<svc>/metrics: scraped from the real gunicorns (two worker
processes each, so the numbers are the sum of both), never served through the gateway.
"""

import pytest
import requests

from tests.support.processes import SERVICES
from tests.system.metrics import scrape, value
from tests.system.shopping import create_product, token_buyer, token_staff


@pytest.fixture(scope="module")
def checkouts(open_gateway):
    """One order placed and one refused (out of stock) through the gateway."""
    manager = token_staff(
        open_gateway.url, ["catalog.add_product", "catalog.change_product", "catalog.view_product"]
    )
    product_id = create_product(manager, stock=1)["id"]
    first, second = token_buyer(open_gateway.url), token_buyer(open_gateway.url)
    first.add_to_cart(product_id, 1)
    second.add_to_cart(product_id, 1)
    assert first.checkout().status_code == 201
    refused = second.checkout()
    assert refused.status_code == 409 and refused.json()["code"] == "out_of_stock"
    return product_id


def test_orders_metrics_count_requests_checkouts_queries_and_neighbour_calls(shop, checkouts):
    samples = scrape(f"{shop.url('orders')}/orders/metrics")
    assert value(samples, "tienda_checkouts_total", outcome="created") >= 1
    assert value(samples, "tienda_checkouts_total", outcome="out_of_stock") >= 1
    # By route template, not by URL; statuses apart.
    route = {"service": "orders", "route": "/api/v1/orders/", "method": "POST"}
    assert value(samples, "tienda_http_requests_total", **route, status="201") >= 1
    assert value(samples, "tienda_http_requests_total", **route, status="409") >= 1
    assert value(samples, "tienda_http_request_duration_seconds_count", **route) >= 2
    assert value(samples, "tienda_http_request_duration_seconds_bucket", **route, le="+Inf") >= 2
    assert value(samples, "tienda_db_queries_total", service="orders", database="ecommerce") > 0
    for target in ("cart", "catalog"):
        assert value(samples, "tienda_service_calls_total", target=target, outcome="ok") > 0
        assert value(samples, "tienda_service_call_duration_seconds_count", target=target) > 0


def test_catalog_metrics_report_the_reservations_held_as_the_database_has_them(shop, checkouts):
    samples = scrape(f"{shop.url('catalog')}/catalog/metrics")
    [(held, units)] = shop.query(
        "ecommerce",
        "SELECT COUNT(DISTINCT r.id), COALESCE(SUM(l.quantity), 0) FROM catalog_reservation r "
        "LEFT JOIN catalog_reservationline l ON l.reservation_id = r.id "
        "WHERE r.state = 'reserved'",
    )
    assert value(samples, "tienda_reservations_held") == held
    assert value(samples, "tienda_reserved_units_held") == units


@pytest.mark.parametrize("service", SERVICES)
def test_every_service_serves_metrics_directly_but_never_through_the_gateway(
    shop, gateway, service
):
    requests.get(f"{shop.url(service)}/{service}/health/", timeout=10)
    samples = scrape(f"{shop.url(service)}/{service}/metrics")
    health = {"service": service, "route": f"/{service}/health/", "status": "200"}
    assert value(samples, "tienda_http_requests_total", **health) >= 1

    through_gateway = requests.get(f"{gateway.url}/{service}/metrics", timeout=10)
    assert through_gateway.status_code == 404
    assert "tienda_" not in through_gateway.text
    # Nor directly to anything that came through a proxy.
    proxied = requests.get(
        f"{shop.url(service)}/{service}/metrics", headers={"X-Forwarded-For": "1.2.3.4"}, timeout=10
    )
    assert proxied.status_code == 404
    assert proxied.headers["Content-Type"].startswith("application/problem+json")
