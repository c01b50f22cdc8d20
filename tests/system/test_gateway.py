"""The nginx gateway from outside: routing, request ids, limits and its own JSON errors.

Everything goes through the real nginx (rendered from gateway_nginx/) in front of
the real services (`gateway` and `shop` fixtures); a few tests run their own
nginx in front of a fake upstream to provoke timeouts and count connections.
"""

import re
import socket
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import requests
from requests.adapters import HTTPAdapter

from tests.support.answers import answer_json
from tests.support.problems import PROBLEM_CONTENT_TYPE, assert_problem
from tests.support.processes import SERVICES
from tests.support.tokens import mint_access_token
from tests.system.gateway import GatewayProcess
from tests.system.logs import lines_with_request_id, wait_for_log_line

NGINX_REQUEST_ID = re.compile(r"^[0-9a-f]{32}$")


def assert_gateway_problem(response, status: int, code: str) -> dict:
    """A problem document made by nginx itself, shaped like shopkit.errors.problem()."""
    body = assert_problem(response, status, code)
    assert response.headers["Content-Type"] == PROBLEM_CONTENT_TYPE  # no charset added
    assert response.headers["X-Request-ID"]
    return body


def test_health_is_answered_by_nginx_itself(gateway):
    response = requests.get(f"{gateway.url}/health", timeout=5)
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/json"
    assert response.json() == {"status": "ok", "service": "gateway"}
    assert NGINX_REQUEST_ID.match(response.headers["X-Request-ID"])
    # server_tokens off: no version in the Server header.
    assert response.headers["Server"] == "nginx"


@pytest.mark.parametrize("service", SERVICES)
def test_each_service_is_ready_and_documented_through_the_gateway(gateway, service):
    ready = requests.get(f"{gateway.url}/{service}/ready/", timeout=5)
    assert ready.status_code == 200
    assert ready.json()["service"] == service
    assert ready.json()["status"] == "ready"

    docs = requests.get(f"{gateway.url}/api/v1/{service}/docs/", timeout=5)
    assert docs.status_code == 200
    assert "swagger-ui" in docs.text
    schema = requests.get(f"{gateway.url}/api/v1/{service}/schema/?format=json", timeout=10)
    assert schema.status_code == 200
    assert schema.json()["openapi"].startswith("3.")
    # Swagger UI's own files come through the gateway from the service's static files.
    for asset in re.findall(r'(?:href|src)="(/[^"]+\.(?:css|js))"', docs.text):
        loaded = requests.get(f"{gateway.url}{asset}", timeout=5)
        assert loaded.status_code == 200, asset
        assert asset.startswith(f"/{service}/static/")


def test_admin_page_links_the_four_admins_and_api_docs(gateway):
    response = requests.get(f"{gateway.url}/admin/", timeout=5)
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("text/html")
    links = set(re.findall(r'href="([^"]+)"', response.text))
    for service in SERVICES:
        assert f"/{service}/admin/" in links
        assert f"/api/v1/{service}/docs/" in links
    for link in sorted(links):
        followed = requests.get(f"{gateway.url}{link}", timeout=10)
        assert followed.status_code == 200, link
        if link.endswith("/admin/"):
            # Not signed in: the admin's own login page, served through the gateway.
            assert followed.url.startswith(f"{gateway.url}{link}login/")
            assert "Log in" in followed.text

    moved = requests.get(f"{gateway.url}/admin", allow_redirects=False, timeout=5)
    assert moved.status_code == 301
    assert moved.headers["Location"] == "/admin/"


@pytest.mark.parametrize("service", SERVICES)
def test_admin_static_files_load_through_the_gateway(gateway, shop, service):
    login = requests.get(f"{gateway.url}/{service}/admin/login/", timeout=5)
    stylesheets = re.findall(r'<link rel="stylesheet" href="([^"]+)"', login.text)
    assert f"/{service}/static/admin/css/base.css" in stylesheets
    for path in stylesheets:
        through_gateway = requests.get(f"{gateway.url}{path}", timeout=5)
        direct = requests.get(f"{shop.url(service)}{path}", timeout=5)
        assert through_gateway.status_code == 200, path
        assert through_gateway.headers["Content-Type"].startswith("text/css")
        assert through_gateway.content == direct.content


def test_request_id_is_made_when_absent_and_reaches_the_service(gateway, shop):
    response = requests.get(f"{gateway.url}/catalog/health/", timeout=5)
    assert response.status_code == 200
    request_id = response.headers["X-Request-ID"]
    assert NGINX_REQUEST_ID.match(request_id)
    service_line = wait_for_log_line(
        shop.services["catalog"].log_text, lambda line: line.get("request_id") == request_id
    )
    assert service_line is not None, "the service did not log the gateway's request id"
    assert service_line["path"] == "/catalog/health/"
    gateway_line = wait_for_log_line(
        gateway.log_text, lambda line: line.get("request_id") == request_id
    )
    assert gateway_line["service"] == "gateway"
    assert gateway_line["status"] == 200
    assert gateway_line["upstream"] == f"127.0.0.1:{shop.services['catalog'].port}"


def test_request_id_sent_by_the_client_is_echoed_once_and_logged(gateway, shop):
    request_id = f"system-gw-{uuid.uuid4().hex}"
    response = requests.get(
        f"{gateway.url}/api/v1/catalog/products/",
        headers={"X-Request-ID": request_id},
        timeout=5,
    )
    assert response.status_code == 200
    assert response.raw.headers.getlist("X-Request-ID") == [request_id]
    line = wait_for_log_line(
        shop.services["catalog"].log_text, lambda line: line.get("request_id") == request_id
    )
    assert line is not None
    assert line["path"] == "/api/v1/catalog/products/"
    assert line["status"] == 200


def test_unsafe_request_id_is_replaced_before_it_reaches_a_log(gateway, shop):
    response = requests.get(
        f"{gateway.url}/cart/health/", headers={"X-Request-ID": "no spaces; please"}, timeout=5
    )
    replaced = response.headers["X-Request-ID"]
    assert NGINX_REQUEST_ID.match(replaced)
    assert wait_for_log_line(
        shop.services["cart"].log_text, lambda line: line.get("request_id") == replaced
    )


def test_request_id_is_on_the_gateways_own_errors_too(gateway):
    request_id = f"system-gw-{uuid.uuid4().hex}"
    response = requests.get(
        f"{gateway.url}/no/such/place", headers={"X-Request-ID": request_id}, timeout=5
    )
    assert_gateway_problem(response, 404, "not_found")
    assert response.headers["X-Request-ID"] == request_id


def test_body_over_one_mebibyte_is_refused_with_a_413_problem(gateway, shop):
    request_id = f"system-gw-{uuid.uuid4().hex}"
    response = requests.post(
        f"{gateway.url}/api/v1/catalog/products/",
        data=b"{" + b" " * (2 * 1024 * 1024) + b"}",
        headers={"Content-Type": "application/json", "X-Request-ID": request_id},
        timeout=10,
    )
    body = assert_gateway_problem(response, 413, "request_too_large")
    assert "1m" in body["detail"]
    assert response.headers["X-Request-ID"] == request_id
    # A request sent after it and seen in the catalog's log: the log has caught up.
    marker = f"system-gw-{uuid.uuid4().hex}"
    # (With a cookie: never answered from the gateway's micro-cache, so it reaches catalog.)
    requests.get(
        f"{gateway.url}/api/v1/catalog/products/",
        headers={"X-Request-ID": marker, "Cookie": "marker=1"},
        timeout=10,
    )
    assert wait_for_log_line(
        shop.services["catalog"].log_text, lambda line: line.get("request_id") == marker
    )
    assert lines_with_request_id(shop.services["catalog"].log_text, request_id) == []


class SourceAddressAdapter(HTTPAdapter):
    """Connections from another loopback address (the whole 127.0.0.0/8 is local)."""

    def __init__(self, address: str):
        self.address = address
        super().__init__()

    def init_poolmanager(self, *args, **kwargs):
        super().init_poolmanager(*args, source_address=(self.address, 0), **kwargs)


def test_login_burst_is_limited_with_429_problems(gateway):
    config = gateway.config
    attempts = config.login_burst + 20
    # nginx limits per client address: flooding from an address of its own leaves
    # 127.0.0.1's allowance whole for the tests that sign in after this one.
    flooder = requests.Session()
    flooder.mount("http://", SourceAddressAdapter("127.0.0.2"))

    def sign_in(_):
        return flooder.post(f"{gateway.url}/api/v1/auth/token/", json={}, timeout=10)

    with ThreadPoolExecutor(max_workers=16) as pool:
        responses = list(pool.map(sign_in, range(attempts)))
    limited = [r for r in responses if r.status_code == 429]
    # The burst beyond the allowance is refused by nginx, never reaching auth.
    assert len(limited) >= attempts - config.login_burst - 5
    for response in limited:
        body = assert_gateway_problem(response, 429, "rate_limited")
        assert body["retry_after"] == 1
        assert response.headers["Retry-After"] == "1"
    assert all(r.status_code < 500 for r in responses)
    assert any(r.status_code == 400 for r in responses)  # those auth answered itself
    # The limit was the flooder's alone.
    assert (
        requests.post(f"{gateway.url}/api/v1/auth/token/", json={}, timeout=10).status_code == 400
    )


def test_gets_on_limited_paths_are_not_counted(gateway):
    statuses = {
        requests.get(f"{gateway.url}/api/v1/orders/", timeout=5).status_code for _ in range(40)
    }
    assert 429 not in statuses


@pytest.mark.parametrize(
    "path",
    [
        "/internal/catalog/products/?ids=1",
        "/internal/cart/users/1/",
        "/internal/auth/users/1/addresses/1/",
        "/internal/orders/",
    ],
)
def test_internal_paths_are_never_routed(gateway, shop, path):
    credential = {"X-Service-Token": shop.env["SERVICE_TOKEN"]}
    response = requests.get(f"{gateway.url}{path}", headers=credential, timeout=5)
    assert_gateway_problem(response, 404, "not_found")


def test_internal_path_exists_behind_the_gateway(shop):
    # The 404 above is the gateway's refusal: the service itself answers that path.
    direct = requests.get(f"{shop.url('catalog')}/internal/catalog/products/?ids=1", timeout=5)
    assert direct.status_code == 403


@pytest.mark.parametrize("path", ["/", "/nope", "/api/v2/catalog/products/", "/static/x.css"])
def test_paths_of_no_service_get_a_json_404(gateway, path):
    response = requests.get(f"{gateway.url}{path}", allow_redirects=False, timeout=5)
    if path == "/":
        assert response.status_code == 302
        assert response.headers["Location"] == "/admin/"
    else:
        assert_gateway_problem(response, 404, "not_found")


def test_service_errors_pass_through_untouched(gateway, shop):
    for method, path in [
        ("GET", "/api/v1/catalog/products/999999999/"),
        ("POST", "/api/v1/orders/"),  # no token: the service's own 401
        ("GET", "/api/v1/auth/me/"),
    ]:
        through_gateway = requests.request(method, f"{gateway.url}{path}", json={}, timeout=5)
        direct = requests.request(
            method, f"{shop.url(path.split('/')[3])}{path}", json={}, timeout=5
        )
        assert through_gateway.status_code == direct.status_code, path
        assert through_gateway.status_code in (401, 404)
        assert through_gateway.json() == direct.json()
        assert through_gateway.headers["Content-Type"] == direct.headers["Content-Type"]


def test_forwarded_host_and_scheme_reach_the_service(gateway):
    # The services build absolute links (pagination) from X-Forwarded-Host/-Proto.
    token = mint_access_token(
        user_id=900001, is_staff=True, perms=["catalog.add_category", "catalog.view_category"]
    )
    headers = {"Authorization": f"Bearer {token}"}
    suffix = uuid.uuid4().hex[:8]
    for name in ("Forwarded A", "Forwarded B"):
        created = requests.post(
            f"{gateway.url}/api/v1/catalog/categories/",
            json={"name": f"{name} {suffix}", "slug": f"{name.lower().replace(' ', '-')}-{suffix}"},
            headers=headers,
            timeout=5,
        )
        assert created.status_code == 201, created.text
    page = requests.get(f"{gateway.url}/api/v1/catalog/categories/?page_size=1", timeout=5)
    assert page.status_code == 200
    assert page.json()["next"].startswith(f"{gateway.url}/api/v1/catalog/categories/")


def test_json_is_gzipped(gateway):
    response = requests.get(
        f"{gateway.url}/api/v1/catalog/schema/?format=json",
        headers={"Accept-Encoding": "gzip"},
        timeout=10,
    )
    assert response.status_code == 200
    assert response.headers["Content-Encoding"] == "gzip"
    assert response.json()["openapi"].startswith("3.")


def test_a_stopped_service_is_a_json_problem_and_the_others_still_answer(gateway, shop):
    cart = shop.services["cart"]
    cart.stop()
    try:
        response = requests.get(f"{gateway.url}/api/v1/cart/", timeout=10)
        code = {502: "bad_gateway", 503: "service_unavailable"}.get(response.status_code)
        assert code, response.status_code
        body = assert_gateway_problem(response, response.status_code, code)
        assert "cart" in body["detail"]
        assert response.headers["Retry-After"] == "5"
        assert requests.get(f"{gateway.url}/catalog/ready/", timeout=5).status_code == 200
    finally:
        cart.start()
    assert requests.get(f"{gateway.url}/cart/ready/", timeout=5).status_code == 200


# --- A gateway in front of fake upstreams -------------------------------------------


class _CountingHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive
    connections = 0
    lock = threading.Lock()

    def setup(self):
        super().setup()
        with _CountingHandler.lock:
            _CountingHandler.connections += 1

    def do_GET(self):
        answer_json(self, b'{"ok": true}')

    def log_message(self, *args):
        pass


def _all_upstreams(address: str) -> dict[str, str]:
    return dict.fromkeys(SERVICES, address)


def test_upstream_connections_are_kept_alive(tmp_path):
    server = ThreadingHTTPServer(("127.0.0.1", 0), _CountingHandler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    gateway = GatewayProcess(_all_upstreams(f"127.0.0.1:{server.server_port}"), log_dir=tmp_path)
    gateway.start()
    try:
        _CountingHandler.connections = 0
        with requests.Session() as session:
            for _ in range(30):
                assert session.get(f"{gateway.url}/api/v1/catalog/x", timeout=5).status_code == 200
        # One connection per nginx worker at most, instead of one per request.
        assert 1 <= _CountingHandler.connections <= 4
    finally:
        gateway.stop()
        server.shutdown()
        server.server_close()


def test_upstream_timeout_is_a_json_504(tmp_path):
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(16)  # accepts connections (the kernel does) and never answers
    gateway = GatewayProcess(
        _all_upstreams(f"127.0.0.1:{silent.getsockname()[1]}"), log_dir=tmp_path, read_timeout="1s"
    )
    gateway.start()
    try:
        started = time.monotonic()
        response = requests.get(f"{gateway.url}/api/v1/catalog/products/", timeout=10)
        body = assert_gateway_problem(response, 504, "gateway_timeout")
        assert "catalog" in body["detail"]
        assert time.monotonic() - started < 5
    finally:
        gateway.stop()
        silent.close()
