"""The gateway's micro-cache of anonymous catalogue reads, through the real nginx.

Anonymous GETs of products and categories are answered from nginx's cache for
GATEWAY_CATALOG_CACHE_SECONDS; anything that identifies the client (a token, a
cookie, a cart token) and every write go to the catalog itself; only 200s are
stored; 0 turns the cache off.
"""

import http.client
import http.server
import json
import threading
import time

import pytest
import requests

from gateway_nginx.render import SERVICES
from tests.support.answers import answer_json
from tests.system.gateway import GatewayProcess
from tests.system.logs import json_lines
from tests.system.shopping import ShopUser, create_product, token_buyer, token_staff

CACHE_SECONDS = 2
PRODUCTS = "/api/v1/catalog/products/"


def _gateway(shop, name: str, seconds: int):
    running = GatewayProcess(
        shop.upstreams(),
        log_dir=shop.log_dir,
        name=name,
        catalog_cache_seconds=seconds,
    )
    running.start()
    return running


@pytest.fixture(scope="module")
def cached(shop):
    running = _gateway(shop, "gateway-cache", CACHE_SECONDS)
    yield running
    running.stop()


@pytest.fixture(scope="module")
def uncached(shop):
    running = _gateway(shop, "gateway-nocache", 0)
    yield running
    running.stop()


@pytest.fixture(scope="module")
def manager(cached):
    return token_staff(
        cached.url, ["catalog.add_product", "catalog.change_product", "catalog.view_product"]
    )


def get(url: str, **headers) -> requests.Response:
    return requests.get(url, headers=headers, timeout=10)


def test_anonymous_reads_are_answered_from_the_cache(cached, manager):
    product = create_product(manager, stock=3)
    for path in (
        f"{PRODUCTS}{product['id']}/",
        f"{PRODUCTS}?page_size=7",
        "/api/v1/catalog/categories/",
    ):
        first, second = get(cached.url + path), get(cached.url + path)
        assert first.status_code == second.status_code == 200
        assert first.headers["X-Cache-Status"] == "MISS"
        assert second.headers["X-Cache-Status"] == "HIT"
        assert first.content == second.content
        # Every answer, cached or not, carries its own request id.
        assert first.headers["X-Request-ID"] != second.headers["X-Request-ID"]
        if path.startswith(PRODUCTS):
            assert second.headers["ETag"] == first.headers["ETag"]
    # A conditional GET of a cached answer is a 304 from nginx.
    url = f"{cached.url}{PRODUCTS}{product['id']}/"
    again = get(url, **{"If-None-Match": get(url).headers["ETag"]})
    assert again.status_code == 304 and again.headers["X-Cache-Status"] == "HIT"


def test_signed_in_and_identified_requests_never_come_from_the_cache(cached, manager):
    hidden = create_product(manager, stock=1, is_active=False)
    url = f"{cached.url}{PRODUCTS}{hidden['id']}/"
    customer = token_buyer(cached.url)
    assert get(url).status_code == 404  # anonymous: an inactive product does not exist
    for _ in range(3):
        staff_answer = manager.get(f"{PRODUCTS}{hidden['id']}/")
        assert staff_answer.status_code == 200 and staff_answer.json()["is_active"] is False
        assert staff_answer.headers["X-Cache-Status"] == "BYPASS"
        customer_answer = customer.get(f"{PRODUCTS}?page_size=5")
        assert customer_answer.headers["X-Cache-Status"] == "BYPASS"
    listing = f"{cached.url}{PRODUCTS}?page_size=3"
    get(listing)
    assert get(listing).headers["X-Cache-Status"] == "HIT"
    assert get(listing, Cookie="tienda_session=x").headers["X-Cache-Status"] == "BYPASS"
    assert get(listing, **{"X-Cart-Token": "abc"}).headers["X-Cache-Status"] == "BYPASS"
    # A staff list (inactive products included) is never what an anonymous read gets.
    staff_skus = {p["sku"] for p in manager.get(f"{PRODUCTS}?page_size=100").json()["results"]}
    anonymous_skus = {
        p["sku"] for p in get(f"{cached.url}{PRODUCTS}?page_size=100").json()["results"]
    }
    assert hidden["sku"] in staff_skus and hidden["sku"] not in anonymous_skus


def test_the_scheme_the_client_used_is_part_of_the_key(cached, manager):
    # Behind a proxy that ends TLS (X-Forwarded-Proto: https), the catalog's links are
    # https; the same page read over plain HTTP must not get them, nor the reverse.
    for _ in range(2):  # a second page
        create_product(manager, stock=1)
    url = f"{cached.url}{PRODUCTS}?page_size=1&page=1"
    plain = [get(url) for _ in range(2)]
    secure = [get(url, **{"X-Forwarded-Proto": "https"}) for _ in range(2)]
    assert [a.headers["X-Cache-Status"] for a in plain] == ["MISS", "HIT"]
    assert [a.headers["X-Cache-Status"] for a in secure] == ["MISS", "HIT"]
    assert plain[1].json()["next"].startswith("http://")
    assert secure[1].json()["next"].startswith("https://")


def test_errors_are_never_stored(cached):
    for path in (f"{PRODUCTS}99999999/", f"{PRODUCTS}?min_price=abc"):
        answers = [get(cached.url + path) for _ in range(3)]
        assert {answer.status_code for answer in answers} <= {404, 400}
        assert [answer.headers["X-Cache-Status"] for answer in answers] == ["MISS"] * 3


def test_a_price_change_is_visible_within_the_configured_time(cached, manager):
    product = create_product(manager, stock=5, price="10.00")
    url = f"{cached.url}{PRODUCTS}{product['id']}/"
    assert get(url).json()["price"] == "10.00"
    assert get(url).headers["X-Cache-Status"] == "HIT"
    changed_at = time.monotonic()
    manager.patch(f"{PRODUCTS}{product['id']}/", json={"price": "12.50"}, expect=200)
    # The staff's own read is never cached: the new price at once.
    assert manager.get(f"{PRODUCTS}{product['id']}/").json()["price"] == "12.50"
    seen = None
    while time.monotonic() - changed_at < CACHE_SECONDS + 3:
        if get(url).json()["price"] == "12.50":
            seen = time.monotonic() - changed_at
            break
        time.sleep(0.1)
    assert seen is not None and seen <= CACHE_SECONDS + 1.5, seen


def test_a_read_after_a_quiet_while_is_never_an_old_answer(cached, manager):
    # An expired entry is answered stale while one request refreshes it, but only
    # within the catalog's stale-while-revalidate time (1 s): the first read after a
    # quiet while (here the only one) waits for the fresh answer.
    product = create_product(manager, stock=5, price="10.00")
    url = f"{cached.url}{PRODUCTS}{product['id']}/"
    first = get(url)
    assert first.json()["price"] == "10.00"
    assert first.headers["Cache-Control"] == "stale-while-revalidate=1"
    manager.patch(f"{PRODUCTS}{product['id']}/", json={"price": "12.50"}, expect=200)
    # Valid CACHE_SECONDS (counted in whole seconds: up to one more), then 1 s of stale.
    time.sleep(CACHE_SECONDS + 1 + 1 + 0.5)
    answer = get(url)
    assert answer.json()["price"] == "12.50"
    assert answer.headers["X-Cache-Status"] == "EXPIRED"


def test_an_expired_entry_is_revalidated_with_its_etag(cached, manager, shop):
    # An unchanged product's expired entry is refreshed by a conditional request: the
    # catalog answers 304 (no body built or sent) and the entry is fresh again.
    product = create_product(manager, stock=5, price="10.00")
    path = f"{PRODUCTS}{product['id']}/"
    first = get(cached.url + path)
    assert first.headers["X-Cache-Status"] == "MISS"
    # nginx counts validity in whole seconds: the entry expires within CACHE_SECONDS + 1.
    deadline = time.monotonic() + CACHE_SECONDS + 2
    while (stale := get(cached.url + path)).headers["X-Cache-Status"] == "HIT":
        assert time.monotonic() < deadline, "the entry never expired"
        time.sleep(0.05)
    # Answered at once from the expired entry; the refresh runs behind it.
    assert stale.headers["X-Cache-Status"] in {"STALE", "UPDATING", "REVALIDATED"}
    assert stale.content == first.content
    deadline = time.monotonic() + 5
    while get(cached.url + path).headers["X-Cache-Status"] != "HIT":
        assert time.monotonic() < deadline, "the entry never became fresh again"
        time.sleep(0.05)
    statuses = [
        line["status"]
        for line in json_lines(shop.services["catalog"].log_text())
        if line.get("logger") == "shopkit.access" and line.get("path") == path
    ]
    assert statuses == [200, 304], statuses


def test_the_cache_can_be_turned_off(uncached, manager):
    product = create_product(manager, stock=5, price="10.00")
    url = f"{uncached.url}{PRODUCTS}{product['id']}/"
    first = get(url)
    assert first.status_code == 200 and "X-Cache-Status" not in first.headers
    manager_here = ShopUser(uncached.url, manager.session.headers["Authorization"].split()[1])
    manager_here.patch(f"{PRODUCTS}{product['id']}/", json={"price": "11.00"}, expect=200)
    assert get(url).json()["price"] == "11.00"
    assert "proxy_cache" not in uncached.conf_path.read_text()


class SlowCatalogStandIn:
    """The catalog's product page, answered after `delay` seconds: a refresh that takes
    long. A neighbour of the gateway under test, in this process (test code only)."""

    def __init__(self):
        self.delay = 0.0
        self.price = "10.00"
        self.requests: list[str] = []
        standin = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self):
                standin.requests.append(self.headers.get("If-None-Match") or "")
                time.sleep(standin.delay)
                answer_json(
                    self,
                    json.dumps({"id": 1, "price": standin.price}).encode(),
                    # As the catalog's anonymous reads, with room for the slow refresh.
                    headers={"Cache-Control": "stale-while-revalidate=10"},
                )

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.address = f"127.0.0.1:{self.server.server_port}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


def test_a_refresh_holds_no_client_connection(tmp_path):
    # nginx reads a connection's next request only once the background refresh that
    # connection's last request started has finished. The cache lives in a tier of
    # its own, so the refresh holds the tier's connection, never the client's: the
    # client's next request on the same connection is answered at once.
    catalog = SlowCatalogStandIn()
    upstreams = dict.fromkeys(SERVICES, catalog.address)
    try:
        with GatewayProcess(upstreams, log_dir=tmp_path, catalog_cache_seconds=1) as gateway:
            client = http.client.HTTPConnection("127.0.0.1", gateway.port, timeout=10)

            def read():
                started = time.monotonic()
                client.request("GET", f"{PRODUCTS}1/")
                answer = client.getresponse()
                body = json.loads(answer.read())
                return answer.getheader("X-Cache-Status"), body, time.monotonic() - started

            assert read()[0] == "MISS"
            catalog.delay, catalog.price = 3.0, "12.50"  # every refresh takes 3 s now
            deadline = time.monotonic() + 4
            while (answer := read())[0] == "HIT":
                assert time.monotonic() < deadline, "the entry never expired"
                time.sleep(0.05)
            # This request started the refresh and got the stale answer at once...
            assert answer[0] == "STALE" and answer[1]["price"] == "10.00"
            # ...and the same connection's next requests are answered while it runs.
            for _ in range(3):
                status, body, seconds = read()
                assert status == "UPDATING" and body["price"] == "10.00"
                assert seconds < 1.0, seconds
            assert catalog.requests.count("") == 2  # the first read, the one refresh
            deadline = time.monotonic() + 6
            while read()[1]["price"] != "12.50":
                assert time.monotonic() < deadline, "the refresh never landed"
                time.sleep(0.1)
            client.close()
    finally:
        catalog.close()
