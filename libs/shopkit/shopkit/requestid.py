"""X-Request-ID: accepted from the gateway (or made up), kept for the request, echoed back."""

import logging
import re
import time
import uuid
from contextvars import ContextVar

REQUEST_ID_HEADER = "X-Request-ID"
# Read from the WSGI environ directly: building request.headers (every header's name
# converted) for one value cost more than the rest of this middleware.
_REQUEST_ID_META = "HTTP_X_REQUEST_ID"
_current_request_id: ContextVar[str] = ContextVar("request_id", default="-")
# Only ids that are safe to log and to forward; anything else is replaced.
_VALID_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")

access_logger = logging.getLogger("shopkit.access")


def current_request_id() -> str:
    """The id of the request being served ('-' outside a request)."""
    return _current_request_id.get()


def bind_request_id(value: str | None):
    """Bind an id (for commands and worker threads); returns the token to reset it."""
    return _current_request_id.set(value if value and _VALID_ID.match(value) else uuid.uuid4().hex)


class RequestIdMiddleware:
    """Binds the request id, echoes it, and writes one access log line per request."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        token = bind_request_id(request.META.get(_REQUEST_ID_META))
        request.request_id = current_request_id()
        started = time.monotonic()
        try:
            response = self.get_response(request)
            response[REQUEST_ID_HEADER] = request.request_id
            access_logger.info(
                "%s %s %s",
                request.method,
                request.path,
                response.status_code,
                extra={
                    "method": request.method,
                    "path": request.path,
                    "status": response.status_code,
                    "duration_ms": round((time.monotonic() - started) * 1000, 1),
                },
            )
            return response
        finally:
            _current_request_id.reset(token)
