"""The service client against a real local HTTP server (the neighbour)."""

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from shopkit.client import ServiceClient
from shopkit.errors import ServiceUnavailable
from shopkit.requestid import bind_request_id


class Neighbour:
    """Answers from a script of statuses, recording what it received."""

    def __init__(self):
        self.statuses = []
        self.received = []
        neighbour = self

        class Handler(BaseHTTPRequestHandler):
            def _answer(self):
                length = int(self.headers.get("Content-Length") or 0)
                neighbour.received.append(
                    {
                        "method": self.command,
                        "path": self.path,
                        "headers": dict(self.headers),
                        "body": self.rfile.read(length),
                    }
                )
                status = neighbour.statuses.pop(0) if neighbour.statuses else 200
                body = json.dumps({"status": status}).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            do_GET = do_POST = _answer

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


@pytest.fixture
def neighbour():
    server = Neighbour()
    yield server
    server.server.shutdown()


def test_forwards_request_id_and_service_credential(neighbour, settings):
    bind_request_id("req-42")
    response = ServiceClient("catalog", neighbour.url).get("/internal/x/")
    assert response.status_code == 200
    headers = neighbour.received[0]["headers"]
    assert headers["X-Request-ID"] == "req-42"
    assert headers["X-Service-Token"] == settings.SERVICE_TOKEN


def test_idempotent_calls_are_retried_after_a_5xx(neighbour):
    neighbour.statuses = [503, 502, 200]
    client = ServiceClient("catalog", neighbour.url, retries=2, backoff=0)
    assert client.get("/x/").status_code == 200
    assert len(neighbour.received) == 3


def test_posts_are_not_retried_unless_marked_idempotent(neighbour):
    neighbour.statuses = [503, 200]
    client = ServiceClient("catalog", neighbour.url, retries=2, backoff=0)
    with pytest.raises(ServiceUnavailable):
        client.post("/x/", json={})
    assert len(neighbour.received) == 1
    neighbour.statuses = [503, 200]
    assert client.post("/x/", json={}, idempotent=True).status_code == 200


def test_client_errors_are_returned_to_the_caller(neighbour):
    neighbour.statuses = [409]
    assert (
        ServiceClient("catalog", neighbour.url, backoff=0).post("/x/", json={}).status_code == 409
    )
    assert len(neighbour.received) == 1


def test_unreachable_neighbour_is_a_503_problem():
    client = ServiceClient(
        "catalog", "http://127.0.0.1:9", retries=1, backoff=0, connect_timeout=0.5
    )
    with pytest.raises(ServiceUnavailable) as caught:
        client.get("/x/")
    assert caught.value.status == 503
    assert caught.value.code == "service_unavailable"
    assert "catalog" in caught.value.detail


def test_read_timeout_is_enforced():
    import socket

    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(1)  # accepts the connection, never answers
    try:
        client = ServiceClient(
            "cart", f"http://127.0.0.1:{silent.getsockname()[1]}", retries=0, read_timeout=0.3
        )
        with pytest.raises(ServiceUnavailable):
            client.get("/x/")
    finally:
        silent.close()


def test_service_calls_ignore_proxy_variables(monkeypatch, neighbour):
    """Neighbours are called directly, whatever HTTP(S)_PROXY says (and no ~/.netrc)."""
    monkeypatch.setenv("HTTP_PROXY", "http://127.0.0.1:9")
    monkeypatch.setenv("http_proxy", "http://127.0.0.1:9")
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    client = ServiceClient("catalog", neighbour.url, retries=0)
    assert client.get("/internal/x/").status_code == 200  # the proxy would refuse it
    assert neighbour.received[0]["path"] == "/internal/x/"


def test_a_json_body_and_query_parameters(neighbour):
    client = ServiceClient("catalog", neighbour.url)
    response = client.post("/x/", json={"lines": [1, 2]}, params={"ids": "1,2"})
    assert response.json() == {"status": 200}
    assert response.headers["content-type"] == "application/json"
    second = client.get("/y/", params={"ids": "3"})
    assert second.status_code == 200
    first, again = neighbour.received
    assert (first["method"], first["path"]) == ("POST", "/x/?ids=1%2C2")
    assert json.loads(first["body"]) == {"lines": [1, 2]}
    assert first["headers"]["Content-Type"] == "application/json"
    assert (again["method"], again["path"], again["body"]) == ("GET", "/y/?ids=3", b"")
