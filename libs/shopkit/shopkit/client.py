"""The one HTTP client for calls between services.

- explicit connect/read timeouts on every call;
- retries (with a short backoff) only for idempotent calls: GET/HEAD/PUT/DELETE,
  or a POST the caller marks `idempotent=True` (e.g. keyed by a reference);
- the current X-Request-ID and the service credential are sent along;
- a neighbour that cannot be reached, times out or answers 5xx becomes
  `ServiceUnavailable` (a 503 problem response); 4xx answers are returned to
  the caller, which knows what they mean.
"""

import logging
import threading
import time

import requests
from django.conf import settings

from shopkit.errors import ServiceUnavailable
from shopkit.metrics import observe_service_call
from shopkit.permissions import SERVICE_TOKEN_HEADER
from shopkit.requestid import REQUEST_ID_HEADER, current_request_id

logger = logging.getLogger("shopkit.client")

IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE"})


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
        self.timeout = (connect_timeout, read_timeout)
        self.retries = retries
        self.backoff = backoff
        self._local = threading.local()  # a requests.Session per thread (keep-alive pool)

    @property
    def session(self) -> requests.Session:
        if not hasattr(self._local, "session"):
            session = requests.Session()
            # Calls between services go straight to the neighbour: no proxy variables
            # or ~/.netrc looked up on every call (a sixth of the client's CPU per call).
            session.trust_env = False
            self._local.session = session
        return self._local.session

    def request(
        self, method, path, *, json=None, params=None, idempotent=None
    ) -> requests.Response:
        """Send one call; returns the response (< 500) or raises ServiceUnavailable."""
        method = method.upper()
        if idempotent is None:
            idempotent = method in IDEMPOTENT_METHODS
        attempts = 1 + (self.retries if idempotent else 0)
        url = self.base_url + path
        headers = {
            REQUEST_ID_HEADER: current_request_id(),
            SERVICE_TOKEN_HEADER: settings.SERVICE_TOKEN,
            "Accept": "application/json",
        }
        failure = None
        for attempt in range(1, attempts + 1):
            started = time.monotonic()
            try:
                response = self.session.request(
                    method, url, json=json, params=params, headers=headers, timeout=self.timeout
                )
            except requests.RequestException as exc:
                failure = f"{type(exc).__name__}: {exc}"
            else:
                if response.status_code < 500:
                    outcome = "ok" if response.status_code < 400 else "client_error"
                    observe_service_call(self.service, method, outcome, time.monotonic() - started)
                    logger.debug(
                        "service call",
                        extra={
                            "target": self.service,
                            "method": method,
                            "url": url,
                            "status": response.status_code,
                            "duration_ms": round((time.monotonic() - started) * 1000, 1),
                        },
                    )
                    return response
                failure = f"HTTP {response.status_code}"
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

    def get(self, path, **kwargs):
        return self.request("GET", path, **kwargs)

    def post(self, path, **kwargs):
        return self.request("POST", path, **kwargs)


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
        _clients.clear()
