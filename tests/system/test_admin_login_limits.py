"""Issue 11.1 at the gateway: the POSTs of the four admin login forms share the API
sign-in's rate limit (one zone per client address); the login pages load freely."""

import time
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from tests.system.test_gateway import assert_gateway_problem

SERVICES = ("auth", "catalog", "cart", "orders")


def drain(config):
    per_second = int(config.login_rate.split("r/")[0])
    time.sleep(config.login_burst / per_second + 0.5)


@pytest.mark.parametrize("service", SERVICES)
def test_admin_login_posts_are_rate_limited(gateway, service):
    config = gateway.config
    attempts = config.login_burst + 20
    url = f"{gateway.url}/{service}/admin/login/"

    def post(_):
        return requests.post(url, data={"username": "x@example.com", "password": "x"}, timeout=10)

    with ThreadPoolExecutor(max_workers=16) as pool:
        responses = list(pool.map(post, range(attempts)))
    limited = [r for r in responses if r.status_code == 429]
    assert len(limited) >= attempts - config.login_burst - 5
    for response in limited:
        assert_gateway_problem(response, 429, "rate_limited")
    assert all(r.status_code < 500 for r in responses)
    drain(config)


def test_admin_login_pages_are_not_counted(gateway):
    statuses = {
        requests.get(f"{gateway.url}/catalog/admin/login/", timeout=5).status_code
        for _ in range(40)
    }
    assert statuses == {200}
