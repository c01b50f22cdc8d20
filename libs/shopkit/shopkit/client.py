"""The one HTTP client for calls between services.

- explicit connect/read timeouts on every call;
- retries (with a short backoff) only for idempotent calls: GET/HEAD/PUT/DELETE,
  or a POST the caller marks `idempotent=True` (e.g. keyed by a reference);
- the current X-Request-ID and the service credential are sent along;
- a neighbour that cannot be reached, times out or answers 5xx becomes
  `ServiceUnavailable` (a 503 problem response); 4xx answers are returned to
  the caller, which knows what they mean.

It speaks HTTP/1.1 itself, over sockets kept alive between calls (a few per
neighbour and process, shared by the worker's threads, each used by one call at a
time). Every call between services paid for layers it never used: requests' session
merging (0.60 → 0.29 ms when it went), then urllib3's pool, URL and header objects and
http.client's e-mail header parser, 0.37 ms of CPU per call, where writing the request
in one piece and reading the answer's lines costs about a fifth of that
(bench/README.md, sixth pass). What it reads is what any HTTP/1.1 server may answer:
a body framed by Content-Length or chunked, or ended by the connection's close;
interim 1xx answers skipped; none after HEAD, 204 and 304; `Connection: close`
honoured. No proxy variable or ~/.netrc is ever read: neighbours are called directly.

A kept connection the neighbour has closed (its keep-alive timeout, a restart) is
noticed before it is used (it reads as ready: the end of the stream) and replaced.
If it is closed just as a request goes out, the request is sent again, once, on a
new connection, only when that cannot do anything twice: the call is idempotent, or
the closed connection took none of the request's bytes. A POST that may have reached
the neighbour is never sent again unless it was marked idempotent.
"""

import json as jsonlib
import logging
import re
import select
import socket
import ssl
import threading
import time
from collections.abc import Mapping
from urllib.parse import quote, urlencode, urlsplit

from django.conf import settings

from shopkit.errors import ServiceUnavailable
from shopkit.metrics import observe_service_call
from shopkit.permissions import SERVICE_TOKEN_HEADER
from shopkit.requestid import REQUEST_ID_HEADER, current_request_id

logger = logging.getLogger("shopkit.client")

IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE"})
# Methods whose request carries a length even without a body (as http.client sends).
_BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})
# Connections kept per neighbour and process (gunicorn runs 4 threads per worker);
# a burst beyond that opens extra ones and closes them after use.
POOL_SIZE = 10
USER_AGENT = "tienda-shopkit"
# Limits of what a neighbour may answer: a line, the number of header lines.
MAX_LINE = 65536
MAX_HEADERS = 100
# A request target may hold only visible ASCII; anything else is percent-encoded
# (as urllib3 did), so no path or parameter can split the request line.
_UNSAFE_IN_TARGET = re.compile(r"[^\x21-\x7e]")
_TARGET_SAFE = "!#$%&'()*+,/:;=?@[]~"
# A header value must not end the line it is on.
_UNSAFE_IN_VALUE = re.compile(r"[\x00-\x1f\x7f]")


class ServiceResponse:
    """A neighbour's answer: the part of requests' Response that callers use."""

    __slots__ = ("content", "headers", "status_code")

    def __init__(self, status_code: int, headers, content: bytes):
        self.status_code = status_code
        self.headers = headers  # case-insensitive
        self.content = content

    @property
    def text(self) -> str:
        return self.content.decode("utf-8", errors="replace")

    def json(self):
        """The body parsed as JSON; ValueError when it is not JSON."""
        return jsonlib.loads(self.content)


class ResponseHeaders(Mapping):
    """An answer's headers, looked up whatever the case; repeated ones joined by ", "."""

    __slots__ = ("_by_lower_name",)

    def __init__(self, by_lower_name: dict[str, tuple[str, str]]):
        self._by_lower_name = by_lower_name  # {lower name: (name as sent, value)}

    def __getitem__(self, name: str) -> str:
        return self._by_lower_name[name.lower()][1]

    def __contains__(self, name) -> bool:
        return isinstance(name, str) and name.lower() in self._by_lower_name

    def __iter__(self):
        return (name for name, _ in self._by_lower_name.values())

    def __len__(self) -> int:
        return len(self._by_lower_name)

    def __repr__(self) -> str:
        return f"ResponseHeaders({dict(self.items())!r})"


class _Failed(Exception):
    """An attempt got no usable answer (the message goes to the log)."""


class _ClosedBeforeAnswer(_Failed):
    """A kept connection was found closed by the neighbour before any answer came.

    `request_sent` is False when the connection took none of the request's bytes,
    so the neighbour cannot have seen it."""

    def __init__(self, request_sent: bool):
        super().__init__("the kept connection was closed by the neighbour before it answered")
        self.request_sent = request_sent


class _Connection:
    """A socket to the neighbour and its buffered reader; used by one call at a time."""

    __slots__ = ("generation", "poll", "reader", "sock")

    def __init__(self, sock: socket.socket, generation: int):
        self.sock = sock
        self.reader = sock.makefile("rb")
        self.generation = generation
        self.poll = select.poll()
        self.poll.register(sock, select.POLLIN)

    def closed_by_peer(self) -> bool:
        """An idle connection that reads as ready was closed (or spoken to out of turn)."""
        try:
            return bool(self.poll.poll(0))
        except (OSError, ValueError):
            return True

    def close(self) -> None:
        try:
            self.reader.close()
        finally:
            self.sock.close()


class ServiceClient:
    def __init__(
        self,
        service: str,
        base_url: str,
        *,
        connect_timeout: float = 2.0,
        read_timeout: float = 5.0,
        retries: int = 2,
        backoff: float = 0.1,
    ):
        self.service = service
        self.base_url = base_url.rstrip("/")
        self.connect_timeout = connect_timeout
        self.read_timeout = read_timeout
        self.retries = retries
        self.backoff = backoff
        parts = urlsplit(self.base_url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(
                f"A service URL must be http(s)://host[:port][/path], not {base_url!r}"
            )
        self._prefix = parts.path  # a base URL may carry a path
        self._address = (parts.hostname, parts.port or (443 if parts.scheme == "https" else 80))
        self._tls = ssl.create_default_context() if parts.scheme == "https" else None
        self._host_line = f"Host: {parts.netloc.rpartition('@')[2]}\r\n"
        self._idle: list[_Connection] = []  # kept-alive connections, the latest used last
        self._lock = threading.Lock()
        self._generation = 0  # close() forgets every connection of earlier generations

    def request(self, method, path, *, json=None, params=None, idempotent=None) -> ServiceResponse:
        """Send one call; returns the response (< 500) or raises ServiceUnavailable."""
        method = method.upper()
        if idempotent is None:
            idempotent = method in IDEMPOTENT_METHODS
        attempts = 1 + (self.retries if idempotent else 0)
        target = self._prefix + path
        if params:
            target += ("&" if "?" in target else "?") + urlencode(params)
        if _UNSAFE_IN_TARGET.search(target):
            target = quote(target, safe=_TARGET_SAFE)
        url = self.base_url + path
        request_id, token = current_request_id(), settings.SERVICE_TOKEN
        if _UNSAFE_IN_VALUE.search(token):  # the request id is checked where it is bound
            raise ValueError("SERVICE_TOKEN must not hold control characters")
        head = (
            f"{method} {target} HTTP/1.1\r\n{self._host_line}"
            f"{REQUEST_ID_HEADER}: {request_id}\r\n{SERVICE_TOKEN_HEADER}: {token}\r\n"
            f"Accept: application/json\r\nUser-Agent: {USER_AGENT}\r\n"
        )
        body = b""
        if json is not None:
            body = jsonlib.dumps(json).encode()
            head += f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n"
        elif method in _BODY_METHODS:
            head += "Content-Length: 0\r\n"
        message = (head + "\r\n").encode("latin-1") + body
        failure = None
        for attempt in range(1, attempts + 1):
            started = time.monotonic()
            try:
                status, headers, content = self._exchange(method, message, idempotent)
            except (OSError, _Failed) as exc:
                failure = _describe(exc)
            else:
                if status < 500:
                    seconds = time.monotonic() - started
                    outcome = "ok" if status < 400 else "client_error"
                    observe_service_call(self.service, method, outcome, seconds)
                    if logger.isEnabledFor(logging.DEBUG):
                        logger.debug(
                            "service call",
                            extra={
                                "target": self.service,
                                "method": method,
                                "url": url,
                                "status": status,
                                "duration_ms": round(seconds * 1000, 1),
                            },
                        )
                    return ServiceResponse(status, headers, content)
                failure = f"HTTP {status}"
            observe_service_call(self.service, method, "failed", time.monotonic() - started)
            logger.warning(
                "service call failed",
                extra={
                    "target": self.service,
                    "method": method,
                    "url": url,
                    "attempt": attempt,
                    "failure": failure,
                },
            )
            if attempt < attempts:
                time.sleep(self.backoff * attempt)
        raise ServiceUnavailable(
            f"The {self.service} service is unavailable; nothing was changed, retry later.",
            extra={"service": self.service},
        )

    def close(self) -> None:
        """Close the kept-alive connections (those in use are closed when their call ends)."""
        with self._lock:
            self._generation += 1
            idle, self._idle = self._idle, []
        for connection in idle:
            connection.close()

    def get(self, path, **kwargs):
        return self.request("GET", path, **kwargs)

    def post(self, path, **kwargs):
        return self.request("POST", path, **kwargs)

    # --- one attempt ------------------------------------------------------------------

    def _exchange(self, method: str, message: bytes, idempotent: bool):
        """(status, headers, body) of one attempt; OSError or _Failed when it got none."""
        connection, reused = self._kept_connection()
        try:
            try:
                answer = self._send_and_read(connection, method, message, reused)
            except _ClosedBeforeAnswer as closed:
                # Closed as the request went out: once more on a new connection, only
                # when that cannot do anything twice.
                if closed.request_sent and not idempotent:
                    raise
                connection.close()
                connection = self._new_connection()
                answer = self._send_and_read(connection, method, message, reused=False)
        except BaseException:
            connection.close()
            raise
        status, headers, body, keep_alive = answer
        if keep_alive:
            self._release(connection)
        else:
            connection.close()
        return status, headers, body

    def _kept_connection(self) -> tuple[_Connection, bool]:
        """An idle kept-alive connection still open (True), or a new one (False)."""
        while True:
            with self._lock:
                connection = self._idle.pop() if self._idle else None
            if connection is None:
                return self._new_connection(), False
            if not connection.closed_by_peer():
                return connection, True
            connection.close()

    def _new_connection(self) -> _Connection:
        try:
            sock = socket.create_connection(self._address, timeout=self.connect_timeout)
        except TimeoutError as exc:
            raise _Failed(f"connect timeout after {self.connect_timeout}s") from exc
        try:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            if self._tls is not None:
                sock = self._tls.wrap_socket(sock, server_hostname=self._address[0])
            sock.settimeout(self.read_timeout)
            return _Connection(sock, self._generation)
        except BaseException:
            sock.close()
            raise

    def _release(self, connection: _Connection) -> None:
        with self._lock:
            if connection.generation == self._generation and len(self._idle) < POOL_SIZE:
                self._idle.append(connection)
                return
        connection.close()

    def _send_and_read(self, connection: _Connection, method: str, message: bytes, reused: bool):
        try:
            sent = connection.sock.send(message)
        except (BrokenPipeError, ConnectionResetError):
            if reused:  # nothing of this request was taken
                raise _ClosedBeforeAnswer(request_sent=False) from None
            raise
        if sent < len(message):
            connection.sock.sendall(memoryview(message)[sent:])
        return _read_answer(connection.reader, method, reused)


def _read_answer(reader, method: str, reused: bool):
    """(status, headers, body, whether the connection may be used again)."""
    try:
        while True:
            line = reader.readline(MAX_LINE + 1)
            if not line:
                if reused:
                    raise _ClosedBeforeAnswer(request_sent=True)
                raise _Failed("the connection was closed before an answer")
            version, status = _status_line(line)
            by_lower_name = _header_lines(reader)
            if not 100 <= status < 200:
                break
            # An interim answer (100 Continue, 103 Early Hints): the real one follows.
    except ConnectionResetError:
        if reused:
            raise _ClosedBeforeAnswer(request_sent=True) from None
        raise
    headers = ResponseHeaders(by_lower_name)
    connection_tokens = by_lower_name.get("connection", ("", ""))[1].lower()
    if version == b"HTTP/1.1":
        keep_alive = "close" not in connection_tokens
    else:
        keep_alive = "keep-alive" in connection_tokens
    if method == "HEAD" or status in (204, 304):
        return status, headers, b"", keep_alive
    transfer_encoding = by_lower_name.get("transfer-encoding")
    if transfer_encoding is not None:
        if transfer_encoding[1].lower().rsplit(",", 1)[-1].strip() != "chunked":
            # Framed by the close of the connection (RFC 9112 6.3).
            return status, headers, _read_to_end(reader), False
        return status, headers, _read_chunked(reader), keep_alive
    length = by_lower_name.get("content-length")
    if length is None:
        return status, headers, _read_to_end(reader), False
    values = {value.strip() for value in length[1].split(",")}
    if len(values) != 1 or not (size := values.pop()).isdigit() or not size.isascii():
        raise _Failed(f"a bad Content-Length: {length[1]!r}")
    body = reader.read(int(size))
    if len(body) < int(size):
        raise _Failed(f"the answer was cut short ({len(body)} of {size} bytes)")
    return status, headers, body, keep_alive


def _status_line(line: bytes) -> tuple[bytes, int]:
    parts = line.split(None, 2)
    if (
        len(line) > MAX_LINE
        or len(parts) < 2
        or not parts[0].startswith(b"HTTP/1.")
        or len(parts[1]) != 3
        or not parts[1].isdigit()
    ):
        raise _Failed(f"not an HTTP/1 answer: {line[:80]!r}")
    return parts[0], int(parts[1])


def _header_lines(reader) -> dict[str, tuple[str, str]]:
    by_lower_name: dict[str, tuple[str, str]] = {}
    last = None
    for _ in range(MAX_HEADERS + 1):
        line = reader.readline(MAX_LINE + 1)
        if line == b"\r\n" or line == b"\n":
            return by_lower_name
        if not line.endswith(b"\n") or len(line) > MAX_LINE:
            raise _Failed("the answer's headers were cut short or too long")
        text = line.decode("latin-1")
        if text[0] in " \t":  # an obsolete folded line continues the previous value
            if last is None:
                raise _Failed("a folded header line without a header")
            name, value = by_lower_name[last]
            by_lower_name[last] = (name, f"{value} {text.strip()}")
            continue
        name, colon, value = text.partition(":")
        name = name.strip()
        if not colon or not name:
            raise _Failed(f"a bad header line: {line[:80]!r}")
        last = name.lower()
        value = value.strip()
        if last in by_lower_name:
            value = f"{by_lower_name[last][1]}, {value}"
        by_lower_name[last] = (name, value)
    raise _Failed(f"more than {MAX_HEADERS} header lines")


def _read_chunked(reader) -> bytes:
    chunks = []
    while True:
        line = reader.readline(MAX_LINE + 1)
        if not line.endswith(b"\n"):
            raise _Failed("the chunked answer was cut short")
        try:
            size = int(line.split(b";", 1)[0].strip(), 16)
        except ValueError:
            raise _Failed(f"a bad chunk size: {line[:80]!r}") from None
        if size == 0:
            break
        chunk = reader.read(size + 2)
        if len(chunk) < size + 2 or not chunk.endswith(b"\r\n"):
            raise _Failed("the chunked answer was cut short")
        chunks.append(chunk[:size])
    for _ in range(MAX_HEADERS + 1):  # trailers, ignored
        line = reader.readline(MAX_LINE + 1)
        if line == b"\r\n" or line == b"\n":
            return b"".join(chunks)
        if not line.endswith(b"\n"):
            raise _Failed("the chunked answer was cut short")
    raise _Failed(f"more than {MAX_HEADERS} trailer lines")


def _read_to_end(reader) -> bytes:
    return reader.read()


def _describe(exc: BaseException) -> str:
    if isinstance(exc, _Failed):
        return str(exc)
    if isinstance(exc, TimeoutError):
        return "read timeout"
    return f"{type(exc).__name__}: {exc}"


_clients: dict[str, ServiceClient] = {}
_clients_lock = threading.Lock()


def service_client(service: str) -> ServiceClient:
    """The shared client for a neighbour (a name of shopkit.registry), from settings."""
    with _clients_lock:
        if service not in _clients:
            _clients[service] = ServiceClient(
                service,
                settings.SERVICE_URLS[service],
                connect_timeout=settings.SERVICE_CONNECT_TIMEOUT,
                read_timeout=settings.SERVICE_READ_TIMEOUT,
                retries=settings.SERVICE_RETRIES,
            )
        return _clients[service]


def reset_service_clients():
    """Forget cached clients (tests that change SERVICE_URLS call this)."""
    with _clients_lock:
        for client in _clients.values():
            client.close()
        _clients.clear()
