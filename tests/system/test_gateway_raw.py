"""Hostile and malformed requests sent raw over a socket: every error is a JSON problem.

Through the real gateway in front of the real services (the `gateway` and `shop`
fixtures) and straight to a service's port (gunicorn's own answers). Each request
is written byte for byte, since HTTP client libraries refuse to send most of them.
"""

import json
import os
import socket
import time
from dataclasses import dataclass

import pytest
import requests

from shopkit.processes import REPO_DIR, Process, bind_environment, free_port, gunicorn_argv
from tests.support.processes import SERVICES
from tests.system.gateway import GatewayProcess

PROBLEM = "application/problem+json"
# Every request asks the server to close once it has answered: raw_exchange reads
# until then. (Half-closing our side instead would look like a client giving up.)
HOST = b"Host: localhost\r\nConnection: close\r\n"


@dataclass
class RawAnswer:
    status: int
    headers: dict[str, str]  # lower-case names
    body: bytes  # as sent (still chunked when Transfer-Encoding is chunked)

    def problem(self) -> dict:
        return json.loads(self.body)


def raw_exchange(port: int, request: bytes, timeout: float = 10.0) -> bytes:
    """Send `request` as is and read until the server closes the connection."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        sock.sendall(request)
        received = b""
        while chunk := sock.recv(65536):
            received += chunk
    return received


def parse_answer(received: bytes) -> RawAnswer:
    head, separator, body = received.partition(b"\r\n\r\n")
    assert separator, f"no complete header in {received[:300]!r}"
    status_line, *header_lines = head.decode("latin-1").split("\r\n")
    headers = {}
    for line in header_lines:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    return RawAnswer(int(status_line.split(" ")[1]), headers, body)


def assert_raw_problem(answer: RawAnswer, status: int, code: str) -> dict:
    assert answer.status == status, answer
    assert answer.headers["content-type"] == PROBLEM, answer
    body = answer.problem()
    assert body["type"] == f"urn:tienda:problem:{code}"
    assert body["status"] == status
    assert body["code"] == code
    assert body["title"] and body["detail"]
    assert int(answer.headers["content-length"]) == len(answer.body)
    return body


def request_line(target: bytes, *headers: bytes, method: bytes = b"GET") -> bytes:
    return method + b" " + target + b" HTTP/1.1\r\n" + HOST + b"".join(headers) + b"\r\n"


MALFORMED_AT_THE_GATEWAY = {
    # The request line itself.
    "garbage request line": (b"GARBAGE\r\n\r\n", 400, "bad_request"),
    "method with a bad byte": (b"G@T / HTTP/1.1\r\n" + HOST + b"\r\n", 400, "bad_request"),
    "unknown HTTP version": (
        b"GET / HTTP/9.9\r\n" + HOST + b"\r\n",
        505,
        "http_version_not_supported",
    ),
    # Percent-encoding nginx cannot decode: these made nginx's own HTML 500 before.
    "%00 in the path": (request_line(b"/api/v1/catalog/%00/"), 400, "bad_request"),
    "%zz in the path": (request_line(b"/api/v1/catalog/products/%zz"), 400, "bad_request"),
    "a lone % in the path": (request_line(b"/api/v1/catalog/%"), 400, "bad_request"),
    "%00 on a POST": (
        request_line(b"/api/v1/orders/%00", b"Content-Length: 2\r\n", method=b"POST") + b"{}",
        400,
        "bad_request",
    ),
    "a 20,000-character URI": (
        request_line(b"/api/v1/catalog/products/?q=" + b"a" * 20_000),
        414,
        "uri_too_long",
    ),
    # Headers.
    "a 20,000-byte header": (
        request_line(b"/api/v1/catalog/products/", b"X-Big: " + b"a" * 20_000 + b"\r\n"),
        431,
        "headers_too_large",
    ),
    "a NUL byte in a header": (
        request_line(b"/api/v1/catalog/products/", b"X-Nul: a\x00b\r\n"),
        400,
        "bad_request",
    ),
    "a space in a header name": (
        request_line(b"/api/v1/catalog/products/", b"X Bad: 1\r\n"),
        400,
        "bad_request",
    ),
    "no Host header": (
        b"GET /api/v1/catalog/products/ HTTP/1.1\r\nConnection: close\r\n\r\n",
        400,
        "bad_request",
    ),
    "two Host headers": (request_line(b"/", b"Host: other\r\n"), 400, "bad_request"),
    # Bodies.
    "a Content-Length that is no number": (
        request_line(b"/api/v1/orders/", b"Content-Length: abc\r\n", method=b"POST"),
        400,
        "bad_request",
    ),
    "Content-Length and chunked at once": (
        request_line(
            b"/api/v1/orders/",
            b"Content-Length: 5\r\nTransfer-Encoding: chunked\r\n",
            method=b"POST",
        )
        + b"0\r\n\r\n",
        400,
        "bad_request",
    ),
    "an unknown transfer coding": (
        request_line(b"/api/v1/orders/", b"Transfer-Encoding: gzip\r\n", method=b"POST"),
        501,
        "not_implemented",
    ),
    "TRACE": (
        request_line(b"/api/v1/catalog/products/", method=b"TRACE"),
        405,
        "method_not_allowed",
    ),
    "an error page's own address": (request_line(b"/_gateway_problem/500"), 404, "not_found"),
    # A service receives the raw path, so it must be the one nginx routed by: these
    # were routed to auth as "/catalog/admin/../../api/v1/auth/me/" (Django's HTML 404).
    "encoded dot segments crossing services": (
        request_line(b"/catalog/admin/..%2F..%2Fapi/v1/auth/me/"),
        400,
        "bad_request",
    ),
    "dot segments out of /internal/": (
        request_line(b"/internal/catalog/../../api/v1/catalog/products/"),
        400,
        "bad_request",
    ),
    "encoded dot segments into /internal/": (
        request_line(b"/api/v1/catalog/%2e%2e/%2e%2e/internal/catalog/"),
        400,
        "bad_request",
    ),
    "an encoded slash": (request_line(b"/api/v1/catalog/products%2F1/"), 400, "bad_request"),
    "a doubled slash": (request_line(b"//api/v1/catalog/products/"), 400, "bad_request"),
}


@pytest.mark.parametrize("name", MALFORMED_AT_THE_GATEWAY)
def test_malformed_requests_get_a_problem_from_the_gateway(gateway, name):
    request, status, code = MALFORMED_AT_THE_GATEWAY[name]
    answer = parse_answer(raw_exchange(gateway.port, request))
    assert_raw_problem(answer, status, code)
    assert answer.headers["x-request-id"]


def test_head_of_a_malformed_request_is_a_problem_without_a_body(gateway):
    answer = parse_answer(raw_exchange(gateway.port, request_line(b"/%zz", method=b"HEAD")))
    assert answer.status == 400
    assert answer.headers["content-type"] == PROBLEM
    assert answer.body == b""


def test_http_0_9_is_closed_without_an_html_page(gateway):
    # No status line and no headers exist in HTTP/0.9: no problem document fits.
    assert raw_exchange(gateway.port, b"GET /api/v1/catalog/products/\r\n") == b""


# --- What gunicorn answers itself --------------------------------------------------

# nginx passes these on; gunicorn refuses them before Django sees them.
GUNICORN_REFUSES = {
    "a control byte in a header value": (
        request_line(b"/api/v1/catalog/products/", b"X-Control: a\x01b\r\n"),
        400,
        "bad_request",
    ),
    "a request line over gunicorn's limit": (
        request_line(b"/api/v1/catalog/products/?q=" + b"a" * 5_000),
        414,
        "uri_too_long",
    ),
    "more headers than gunicorn takes": (
        request_line(b"/api/v1/catalog/products/", *(b"X-H%d: 1\r\n" % n for n in range(150))),
        431,
        "headers_too_large",
    ),
}


@pytest.mark.parametrize("name", GUNICORN_REFUSES)
def test_gunicorns_own_refusals_are_problems_through_the_gateway(gateway, name):
    request, status, code = GUNICORN_REFUSES[name]
    answer = parse_answer(raw_exchange(gateway.port, request))
    assert_raw_problem(answer, status, code)
    assert answer.headers["x-request-id"]


@pytest.mark.parametrize("service", SERVICES)
@pytest.mark.parametrize("name", GUNICORN_REFUSES)
def test_gunicorns_own_refusals_are_problems_on_a_service_port(shop, service, name):
    request, status, code = GUNICORN_REFUSES[name]
    answer = parse_answer(raw_exchange(shop.services[service].port, request))
    assert_raw_problem(answer, status, code)
    assert answer.headers["connection"] == "close"


def test_a_services_own_problem_passes_the_gateway_untouched(gateway, shop):
    # A 400 of the service itself (invalid JSON) is not replaced by the gateway's.
    request = (
        request_line(
            b"/api/v1/auth/token/",
            b"Content-Type: application/json\r\nContent-Length: 5\r\n",
            method=b"POST",
        )
        + b"{nope"
    )
    through_gateway = parse_answer(raw_exchange(gateway.port, request))
    direct = parse_answer(raw_exchange(shop.services["auth"].port, request))
    assert through_gateway.status == direct.status == 400
    assert through_gateway.headers["content-type"] == direct.headers["content-type"] == PROBLEM
    assert through_gateway.problem() == direct.problem()
    assert through_gateway.problem()["code"] != "bad_request"  # not the gateway's own


# --- A service killed in the middle of its answer ----------------------------------


@pytest.fixture(scope="module")
def dying_gateway(tmp_path_factory):
    """The gateway in front of a gunicorn (shopkit's config) whose worker dies mid-answer."""
    log_dir = tmp_path_factory.mktemp("dying")
    port = free_port()
    env = {**os.environ, "WEB_CONCURRENCY": "1", "PYTHONPATH": str(REPO_DIR)}
    env.pop("DJANGO_SETTINGS_MODULE", None)
    server = Process(
        "dying",
        gunicorn_argv("tests.system.dying_app:application"),
        cwd=REPO_DIR,
        env=bind_environment(env, port),
        log=log_dir / "dying.log",
    )
    gateway = GatewayProcess(dict.fromkeys(SERVICES, f"127.0.0.1:{port}"), log_dir=log_dir)
    try:
        server.start()
        wait_for_port(port, server)
        gateway.start()
        yield gateway
    finally:
        gateway.stop()
        server.stop()


def wait_for_port(port: int, process: Process, timeout: float = 30.0) -> None:
    """Its every answer dies: readiness is a listening port, not a 200."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert process.running(), "the dying app's gunicorn exited"
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"nothing listens on {port}")


def dechunk(body: bytes) -> tuple[bytes, bool]:
    """The data of a chunked body, and whether its last (zero-size) chunk arrived."""
    data = b""
    while body:
        size_line, separator, rest = body.partition(b"\r\n")
        if not separator:
            return data, False
        size = int(size_line.split(b";")[0], 16)
        if size == 0:
            return data, True
        data, body = data + rest[:size], rest[size + 2 :]
    return data, False


@pytest.mark.parametrize("encoding", [b"", b"Accept-Encoding: gzip\r\n"])
def test_a_chunked_answer_cut_by_a_dying_service_never_looks_complete(dying_gateway, encoding):
    answer = parse_answer(
        raw_exchange(dying_gateway.port, request_line(b"/api/v1/cart/", encoding))
    )
    # The status was already on its way when the service died: what matters is that
    # the client can tell the answer is broken. nginx never sends the last chunk of
    # a truncated answer, and closes the connection (raw_exchange read to the end).
    assert answer.status == 200
    assert answer.headers["transfer-encoding"] == "chunked"
    data, complete = dechunk(answer.body)
    assert not complete
    assert data  # some of it did arrive
    with pytest.raises(requests.exceptions.ChunkedEncodingError):
        requests.get(f"{dying_gateway.url}/api/v1/cart/", timeout=10).json()


def test_an_answer_with_a_length_cut_by_a_dying_service_is_short(dying_gateway):
    answer = parse_answer(
        raw_exchange(dying_gateway.port, request_line(b"/api/v1/cart/with-length/"))
    )
    assert answer.status == 200
    assert len(answer.body) < int(answer.headers["content-length"])
    # requests reports a body shorter than its Content-Length like a broken chunk.
    with pytest.raises(requests.exceptions.ChunkedEncodingError):
        requests.get(
            f"{dying_gateway.url}/api/v1/cart/with-length/",
            headers={"Accept-Encoding": "identity"},
            timeout=10,
        )


def test_a_service_dying_before_its_answer_is_a_502_problem(dying_gateway):
    answer = parse_answer(
        raw_exchange(dying_gateway.port, request_line(b"/api/v1/cart/before-headers/"))
    )
    body = assert_raw_problem(answer, 502, "bad_gateway")
    assert "cart" in body["detail"]


# Odd requests nginx lets through: whoever answers (nginx, gunicorn or the
# service), the answer is JSON and never a 5xx.
PASSED_ON = {
    "raw non-ASCII bytes in the path": request_line(b"/api/v1/catalog/products/caf\xe9/"),
    "raw non-ASCII bytes in the query": request_line(b"/api/v1/catalog/products/?search=\xff\xfe"),
    "bad percent-encoding in the query": request_line(b"/api/v1/catalog/products/?search=%zz%"),
    "an encoded NUL in the query": request_line(b"/api/v1/catalog/products/?search=%00"),
    "an overlong UTF-8 dot": request_line(b"/api/v1/catalog/products/%C0%AE%C0%AE/"),
    "an absolute-form target": request_line(b"http://elsewhere/api/v1/catalog/products/"),
    "an unknown Expect": request_line(b"/api/v1/catalog/products/", b"Expect: magic\r\n"),
    "a header value of 7,000 bytes": request_line(
        b"/api/v1/catalog/products/", b"X-Long: " + b"a" * 7_000 + b"\r\n"
    ),
    "a thousand query parameters": request_line(
        b"/api/v1/catalog/products/?" + b"&".join(b"p%d=1" % n for n in range(1000))
    ),
}


@pytest.mark.parametrize("name", PASSED_ON)
def test_odd_requests_passed_on_get_json_and_no_5xx(gateway, name):
    answer = parse_answer(raw_exchange(gateway.port, PASSED_ON[name]))
    assert answer.status < 500, answer
    assert answer.headers["content-type"] in ("application/json", PROBLEM), answer
