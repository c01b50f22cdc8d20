"""The base of every fake neighbour service: a real HTTP server in the test process.

A subclass lists its `routes` (method, path pattern, service, operation) and defines
one method per operation, `operation(body, **path_parameters) -> (status, body)`,
implementing the contract of docs/internal-api.md on in-memory state. The base
serves them on a free port of 127.0.0.1 like a real service would: 404 for an
unknown path, 403 without the service credential, JSON in and out (for a GET the
`body` is its query parameters). It records every call, and can be told to fail:
a whole service down (503), or one operation answering 503 for the next N calls.
tests/support/contracts.py checks each fake against the real internal API.
"""

import json
import re
import threading
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, urlsplit

from tests.support.answers import answer_json


def problem(status: int, code: str, **extra) -> tuple[int, dict]:
    """A problem answer shaped like shopkit's (the fields callers read)."""
    return status, {"type": f"urn:tienda:problem:{code}", "status": status, "code": code, **extra}


class FakeService:
    routes: list[tuple[str, str, str, str]] = []  # (method, path regex, service, operation)

    def __init__(self, service_token: str):
        self.service_token = service_token
        self.lock = threading.Lock()
        self.calls: list[tuple[str, str]] = []  # (service, operation)
        self.requests: list[str] = []  # every path asked for, query string included
        self.down: set[str] = set()
        self.failures: Counter = Counter()  # (service, operation) -> next N calls answer 503
        self._routes = [
            (method, re.compile(pattern), service, operation)
            for method, pattern, service, operation in self.routes
        ]
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler_class())
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )
        self.thread.start()
        self.running = True

    def stop(self) -> None:
        """The process is gone: connections are refused from now on."""
        if self.running:
            self.server.shutdown()
            self.server.server_close()
            self.running = False

    close = stop

    def count(self, service=None, operation=None) -> int:
        return sum(
            1
            for s, o in self.calls
            if (service is None or s == service) and (operation is None or o == operation)
        )

    def forget_requests(self) -> None:
        with self.lock:
            self.requests.clear()

    def _dispatch(self, method: str, target: str, headers, raw_body: bytes) -> tuple[int, dict]:
        url = urlsplit(target)
        with self.lock:
            self.requests.append(target)
        for route_method, pattern, service, operation in self._routes:
            match = pattern.match(url.path)
            if route_method != method or not match:
                continue
            if headers.get("X-Service-Token") != self.service_token:
                return problem(403, "permission_denied")
            with self.lock:
                self.calls.append((service, operation))
                if service in self.down:
                    return problem(503, "service_unavailable")
                if self.failures[(service, operation)] > 0:
                    self.failures[(service, operation)] -= 1
                    return problem(503, "service_unavailable")
                if method == "GET":
                    body = dict(parse_qsl(url.query, keep_blank_values=True))
                else:
                    body = json.loads(raw_body) if raw_body else {}
                return getattr(self, operation)(body, **match.groupdict())
        return problem(404, "not_found")

    def _handler_class(self):
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def _answer(self):
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                status, body = fake._dispatch(self.command, self.path, self.headers, raw)
                answer_json(self, json.dumps(body).encode(), status)

            do_GET = do_POST = _answer

            def log_message(self, *args):
                pass

        return Handler
