"""The service client against a real local HTTP server (the neighbour)."""

import contextlib
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from shopkit.client import ServiceClient
from shopkit.errors import ServiceUnavailable
from shopkit.requestid import bind_request_id
from tests.support.answers import answer_json


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


# --- HTTP/1.1 spoken by the client itself: kept connections and their failure modes ---


class ScriptedServer:
    """A raw HTTP/1.1 server: `answer(request, connection_number, request_number)` returns
    the bytes to send back (or None: close the connection without answering); `close_after`
    says whether to close the connection after that answer. Records every request."""

    def __init__(self, answer, *, close_after=lambda request, n: False):
        import socket

        self.answer = answer
        self.close_after = close_after
        self.requests = []  # (connection number, method, target, headers, body)
        self.connections = 0
        self.lock = threading.Lock()
        self.listener = socket.socket()
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(16)
        self.url = f"http://127.0.0.1:{self.listener.getsockname()[1]}"
        self.open_sockets = []
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while True:
            try:
                sock, _ = self.listener.accept()
            except OSError:
                return
            with self.lock:
                self.connections += 1
                number = self.connections
                self.open_sockets.append(sock)
            threading.Thread(target=self._serve, args=(sock, number), daemon=True).start()

    def _serve(self, sock, number):
        reader = sock.makefile("rb")
        try:
            while True:
                line = reader.readline()
                if not line:
                    return
                method, target, _ = line.decode().split(" ", 2)
                headers = {}
                while (header := reader.readline()) not in (b"\r\n", b""):
                    name, _, value = header.decode().partition(":")
                    headers[name.strip().lower()] = value.strip()
                body = reader.read(int(headers.get("content-length", 0)))
                with self.lock:
                    self.requests.append((number, method, target, headers, body))
                    count = len(self.requests)
                reply = self.answer(method, number, count)
                if reply is None:
                    return
                sock.sendall(reply)
                if self.close_after(method, count):
                    return
        except OSError:
            return
        finally:
            reader.close()
            sock.close()

    def stop(self):
        self.listener.close()
        with self.lock:
            for sock in self.open_sockets:
                with contextlib.suppress(OSError):
                    sock.close()


def ok(body=b'{"ok": true}', *headers):
    head = "".join(f"{h}\r\n" for h in headers)
    return (
        f"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n{head}"
        f"Content-Length: {len(body)}\r\n\r\n"
    ).encode() + body


@pytest.fixture
def scripted():
    servers = []

    def start(answer, **options):
        server = ScriptedServer(answer, **options)
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()


def test_a_kept_connection_is_reused_between_calls(scripted):
    server = scripted(lambda method, connection, n: ok())
    client = ServiceClient("catalog", server.url, backoff=0)
    for _ in range(5):
        assert client.get("/x/").json() == {"ok": True}
    assert client.post("/y/", json={"a": 1}).status_code == 200
    assert server.connections == 1
    assert [request[1] for request in server.requests] == ["GET"] * 5 + ["POST"]


def test_a_connection_the_neighbour_closed_while_idle_is_replaced_before_use(scripted):
    """The neighbour closes every connection after its answer (keep-alive timeout,
    restart): the next call sees that and sends on a new connection, a POST included,
    which therefore reaches the neighbour exactly once."""
    server = scripted(lambda method, connection, n: ok(), close_after=lambda method, n: True)
    client = ServiceClient("catalog", server.url, retries=0, backoff=0)
    assert client.get("/x/").status_code == 200
    time.sleep(0.05)  # the close reaches the client
    assert client.post("/y/", json={}).status_code == 200
    time.sleep(0.05)
    assert client.post("/y/", json={}).status_code == 200
    assert server.connections == 3
    assert [request[1] for request in server.requests] == ["GET", "POST", "POST"]


def test_a_get_on_a_connection_closed_as_it_is_sent_goes_again_once_on_a_new_one(scripted):
    # The second request (on the kept connection) is read and the connection closed
    # without an answer: what a neighbour closing an idle connection at that very moment
    # looks like. A GET may be sent again (it changes nothing); it costs no retry.
    server = scripted(lambda method, connection, n: None if n == 2 else ok())
    client = ServiceClient("catalog", server.url, retries=0, backoff=0)
    assert client.get("/x/").status_code == 200
    assert client.get("/x/").status_code == 200
    assert [(r[0], r[1]) for r in server.requests] == [(1, "GET"), (1, "GET"), (2, "GET")]


def test_a_post_that_may_have_reached_the_neighbour_is_never_sent_again(scripted):
    server = scripted(lambda method, connection, n: None if n == 2 else ok())
    client = ServiceClient("catalog", server.url, retries=2, backoff=0)
    assert client.get("/x/").status_code == 200
    with pytest.raises(ServiceUnavailable):
        client.post("/reserve/", json={"reference": "T-1"})
    assert [r[1] for r in server.requests] == ["GET", "POST"]  # sent once
    # Marked idempotent (keyed by a reference), it is sent again on a new connection.
    server.answer = lambda method, connection, n: None if n == 4 else ok()
    assert client.get("/x/").status_code == 200
    assert client.post("/reserve/", json={}, idempotent=True).status_code == 200
    assert [r[1] for r in server.requests] == ["GET", "POST", "GET", "POST", "POST"]


def test_a_connection_that_took_none_of_a_post_is_replaced_and_the_post_sent(monkeypatch):
    """A kept connection that refuses the request's first bytes (reset by the
    neighbour) took nothing: the POST goes on a new connection, once."""
    from shopkit import client as client_module

    server = ScriptedServer(lambda method, connection, n: ok())
    try:
        client = ServiceClient("catalog", server.url, retries=0, backoff=0)
        assert client.get("/x/").status_code == 200
        kept = client._idle[-1]
        # Not noticed while idle (closed in the instant between the check and the send).
        monkeypatch.setattr(client_module._Connection, "closed_by_peer", lambda self: False)

        class RefusingSocket:
            def __init__(self, sock):
                self._sock = sock

            def send(self, data):
                raise ConnectionResetError(104, "Connection reset by peer")

            def __getattr__(self, name):
                return getattr(self._sock, name)

        monkeypatch.setattr(kept, "sock", RefusingSocket(kept.sock))
        assert client.post("/y/", json={"n": 1}).status_code == 200
        assert [(r[0], r[1]) for r in server.requests] == [(1, "GET"), (2, "POST")]
    finally:
        server.stop()


def test_connection_close_is_honoured_and_http_1_0_answers_end_with_the_connection(scripted):
    replies = {
        1: b"HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 2\r\n\r\n{}",
        2: b'HTTP/1.0 200 OK\r\nContent-Type: application/json\r\n\r\n{"to": "the end"}',
        3: ok(),
    }
    server = scripted(
        lambda method, connection, n: replies[n], close_after=lambda method, n: n in (1, 2)
    )
    client = ServiceClient("catalog", server.url, retries=0)
    assert client.get("/a/").json() == {}
    assert client.get("/b/").json() == {"to": "the end"}
    assert client.get("/c/").json() == {"ok": True}
    assert server.connections == 3


def test_chunked_answers_interim_answers_and_bodiless_ones_are_read(scripted):
    replies = {
        1: b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
        b'5;ext=1\r\n{"a":\r\n3\r\n 1}\r\n0\r\nTrailer: x\r\n\r\n',
        2: b"HTTP/1.1 100 Continue\r\n\r\n" + ok(b'{"b": 2}'),
        3: b"HTTP/1.1 204 No Content\r\n\r\n",
        4: b"HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\n",  # HEAD: no body follows
        5: ok(b'{"c": 3}'),
    }
    server = scripted(lambda method, connection, n: replies[n])
    client = ServiceClient("catalog", server.url, retries=0)
    assert client.get("/a/").json() == {"a": 1}
    assert client.get("/b/").json() == {"b": 2}
    assert client.request("DELETE", "/c/").content == b""
    assert client.request("HEAD", "/d/").content == b""
    assert client.get("/e/").json() == {"c": 3}
    assert server.connections == 1  # every answer was framed: one connection throughout


def test_an_answer_cut_short_is_a_failure_never_a_short_body(scripted):
    server = scripted(
        lambda method, connection, n: b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n{}",
        close_after=lambda method, n: True,
    )
    client = ServiceClient("catalog", server.url, retries=1, backoff=0)
    with pytest.raises(ServiceUnavailable):
        client.get("/x/")
    assert len(server.requests) == 2  # a GET: retried, then given up
    chunked = scripted(
        lambda method, connection, n: (
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n10\r\nonly a part"
        ),
        close_after=lambda method, n: True,
    )
    with pytest.raises(ServiceUnavailable):
        ServiceClient("catalog", chunked.url, retries=0).post("/y/", json={})
    assert len(chunked.requests) == 1


def test_garbage_instead_of_an_answer_is_a_failure(scripted):
    server = scripted(
        lambda method, connection, n: b"SSH-2.0-OpenSSH\r\n\r\n", close_after=lambda m, n: True
    )
    with pytest.raises(ServiceUnavailable):
        ServiceClient("catalog", server.url, retries=0).get("/x/")


def test_answer_headers_are_case_insensitive_and_repeated_ones_joined(scripted):
    server = scripted(
        lambda method, connection, n: ok(b"{}", "X-Request-ID: abc", "Vary: Accept", "vary: Cookie")
    )
    response = ServiceClient("catalog", server.url).get("/x/")
    assert response.headers["x-request-id"] == response.headers["X-REQUEST-ID"] == "abc"
    assert response.headers.get("VARY") == "Accept, Cookie"
    assert "content-length" in response.headers and "Retry-After" not in response.headers
    assert response.headers.get("Retry-After") is None
    assert set(response.headers) >= {"Content-Type", "X-Request-ID"}


def test_a_target_cannot_split_the_request_line(scripted):
    server = scripted(lambda method, connection, n: ok())
    client = ServiceClient("catalog", server.url)
    client.get("/x/ HTTP/1.1\r\nX-Evil: 1\r\n\r\nGET /y/é")
    ((_, _, target, headers, _),) = server.requests
    assert target == "/x/%20HTTP/1.1%0D%0AX-Evil:%201%0D%0A%0D%0AGET%20/y/%C3%A9"
    assert "x-evil" not in headers


def test_the_request_names_its_host_and_a_post_its_length(scripted):
    server = scripted(lambda method, connection, n: ok())
    client = ServiceClient("catalog", server.url + "/prefix")
    client.post("/x/")
    client.get("/y/", params={"ids": "1,2"})
    (_, _, first_target, first, body), (_, _, second_target, second, _) = server.requests
    assert first["host"] == server.url.removeprefix("http://")
    assert (first_target, first["content-length"], body) == ("/prefix/x/", "0", b"")
    assert second_target == "/prefix/y/?ids=1%2C2" and "content-length" not in second
    assert first["accept"] == "application/json"


def test_close_drops_kept_connections_and_the_client_goes_on(scripted):
    server = scripted(lambda method, connection, n: ok())
    client = ServiceClient("catalog", server.url)
    client.get("/x/")
    client.close()
    assert client._idle == []
    client.get("/x/")
    assert server.connections == 2


def test_threads_share_a_few_kept_connections(neighbour_keeping_alive):
    from concurrent.futures import ThreadPoolExecutor

    from shopkit.client import POOL_SIZE

    client = ServiceClient("catalog", neighbour_keeping_alive.url)

    def calls(thread):
        bind_request_id(f"thread-{thread}")
        statuses = []
        for n in range(40):
            response = client.get(f"/x/?t={thread}&n={n}")
            statuses.append((response.status_code, response.json()["request_id"]))
        return statuses

    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(calls, range(8)))
    for thread, statuses in enumerate(results):
        assert statuses == [(200, f"thread-{thread}")] * 40  # each answer is its own call's
    assert neighbour_keeping_alive.connections <= 8
    assert len(client._idle) <= POOL_SIZE


@pytest.fixture
def neighbour_keeping_alive():
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keeps connections alive

        def do_GET(self):
            answer_json(self, json.dumps({"request_id": self.headers["X-Request-ID"]}).encode())

        def log_message(self, *args):
            pass

    class Server(ThreadingHTTPServer):
        daemon_threads = True
        connections = 0

        def process_request(self, request, client_address):
            self.connections += 1
            super().process_request(request, client_address)

    server = Server(("127.0.0.1", 0), Handler)
    server.url = f"http://127.0.0.1:{server.server_port}"
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server
    server.shutdown()
    server.server_close()


def test_a_neighbour_answering_too_slowly_on_a_kept_connection_times_out(scripted):
    def answer(method, connection, n):
        if n == 2:
            time.sleep(1.5)
        return ok()

    server = scripted(answer)
    client = ServiceClient("catalog", server.url, retries=0, read_timeout=0.2)
    assert client.get("/x/").status_code == 200
    started = time.monotonic()
    with pytest.raises(ServiceUnavailable):
        client.get("/x/")
    assert time.monotonic() - started < 1.0  # the read timeout, not the neighbour's 1.5 s
    assert client._idle == []  # the timed-out connection is not kept


def test_failed_attempts_are_counted_and_logged(neighbour, caplog):
    from shopkit.metrics import SERVICE_CALLS

    def count(outcome):
        return SERVICE_CALLS.labels("catalog", "catalog", "GET", outcome)._value.get()

    before_failed, before_ok = count("failed"), count("ok")
    neighbour.statuses = [502, 200]
    with caplog.at_level("WARNING", logger="shopkit.client"):
        assert ServiceClient("catalog", neighbour.url, backoff=0).get("/x/").status_code == 200
    assert (count("failed"), count("ok")) == (before_failed + 1, before_ok + 1)
    (warning,) = caplog.records
    assert (warning.failure, warning.attempt, warning.target) == ("HTTP 502", 1, "catalog")
