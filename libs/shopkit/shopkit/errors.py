"""One application error type, one error shape (RFC 9457 problem details).

Services raise `ApplicationError` (with a code from their own error-code enum);
`problem_exception_handler` turns it, DRF's exceptions, Django's validation
errors, 404s, database outages and unexpected exceptions into one JSON shape:

    {"type": "urn:tienda:problem:out_of_stock", "title": "Conflict", "status": 409,
     "detail": "...", "code": "out_of_stock", "errors": {...}, ...extension members}
"""

import logging
from http import HTTPStatus

from django.core.exceptions import PermissionDenied, RequestDataTooBig
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import DatabaseError, IntegrityError, InterfaceError, OperationalError
from django.http import Http404, JsonResponse
from django.views import defaults
from rest_framework import exceptions as drf_exceptions
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler
from rest_framework.views import set_rollback

from shopkit.registry import SERVICES

logger = logging.getLogger("shopkit.errors")

PROBLEM_CONTENT_TYPE = "application/problem+json"
PROBLEM_TYPE_PREFIX = "urn:tienda:problem:"


class ApplicationError(Exception):
    """A business rule said no. Carries everything the problem response needs.

    `extra` becomes extension members of the problem document (for example the
    short lines of an out-of-stock answer); `headers` are added to the response
    (for example Retry-After).
    """

    status = 400
    code = "invalid"

    def __init__(self, detail, *, code=None, status=None, errors=None, extra=None, headers=None):
        super().__init__(detail)
        self.detail = str(detail)
        if code is not None:
            self.code = str(code)
        if status is not None:
            self.status = status
        self.errors = errors
        self.extra = extra or {}
        self.headers = headers or {}


class ServiceUnavailable(ApplicationError):
    """A neighbour service (or a database) did not answer in time."""

    status = 503
    code = "service_unavailable"


def problem(status, *, code, detail, errors=None, extra=None, title=None):
    """The problem document as a dict."""
    body = {
        "type": PROBLEM_TYPE_PREFIX + code,
        "title": title or HTTPStatus(status).phrase,
        "status": status,
        "detail": detail,
        "code": code,
    }
    if errors:
        body["errors"] = errors
    if extra:
        body.update({k: v for k, v in extra.items() if k not in body})
    return body


def problem_response(status, *, code, detail, errors=None, extra=None, headers=None):
    return Response(
        problem(status, code=code, detail=detail, errors=errors, extra=extra),
        status=status,
        headers=headers,
        content_type=PROBLEM_CONTENT_TYPE,
    )


def _first_message(detail):
    """A human sentence out of DRF's nested error detail."""
    if isinstance(detail, dict):
        if "detail" in detail:
            return _first_message(detail["detail"])
        for value in detail.values():
            return _first_message(value)
        return ""
    if isinstance(detail, list):
        return _first_message(detail[0]) if detail else ""
    return str(detail)


def _field_errors(detail):
    """DRF validation detail as {field: [messages]}; non-field errors under non_field_errors."""
    if isinstance(detail, dict):
        return {
            str(field): messages if isinstance(messages, (list, dict)) else [messages]
            for field, messages in detail.items()
        }
    if isinstance(detail, list):
        return {"non_field_errors": detail}
    return {"non_field_errors": [detail]}


def _code_of(exc):
    if isinstance(exc.detail, dict) and "code" in exc.detail:
        return str(exc.detail["code"])  # simplejwt's {"detail", "code", "messages"} shape
    codes = exc.get_codes()
    if isinstance(codes, str):
        return codes
    return exc.default_code


def problem_exception_handler(exc, context):
    """DRF's EXCEPTION_HANDLER: every error leaves a service in the same shape."""
    if isinstance(exc, ApplicationError):
        set_rollback()
        return problem_response(
            exc.status,
            code=exc.code,
            detail=exc.detail,
            errors=exc.errors,
            extra=exc.extra,
            headers=exc.headers,
        )
    if isinstance(exc, RequestDataTooBig):
        set_rollback()
        return _body_too_large_response()
    if isinstance(exc, DjangoValidationError):
        errors = (
            exc.message_dict if hasattr(exc, "error_dict") else {"non_field_errors": exc.messages}
        )
        exc = drf_exceptions.ValidationError(errors)
    elif isinstance(exc, Http404):
        exc = drf_exceptions.NotFound()
    elif isinstance(exc, PermissionDenied):
        exc = drf_exceptions.PermissionDenied()

    # DRF's own handler sets WWW-Authenticate and Retry-After and rolls back the
    # atomic block; we only replace its body.
    response = drf_exception_handler(exc, context)
    if response is not None:
        if isinstance(exc, drf_exceptions.ValidationError):
            return problem_response(
                400,
                code="invalid",
                detail="The request has invalid fields."
                if isinstance(exc.detail, dict)
                else _first_message(exc.detail),
                errors=_field_errors(exc.detail),
                headers=dict(response.items()),
            )
        extra = {}
        if isinstance(exc, drf_exceptions.Throttled) and exc.wait is not None:
            extra["retry_after"] = int(exc.wait)
        return problem_response(
            response.status_code,
            code=_code_of(exc),
            detail=_first_message(exc.detail),
            extra=extra,
            headers=dict(response.items()),
        )

    set_rollback()
    if isinstance(exc, IntegrityError):
        # A uniqueness race the service did not anticipate: the caller can retry.
        logger.warning("integrity error turned into 409", exc_info=exc)
        return problem_response(
            409, code="conflict", detail="The request conflicts with the current state; retry it."
        )
    if isinstance(exc, (OperationalError, InterfaceError)):
        logger.error("database unavailable", exc_info=exc)
        return problem_response(
            503, code="database_unavailable", detail="The database is unavailable; retry later."
        )
    if isinstance(exc, DatabaseError):
        logger.exception("database error", exc_info=exc)
    else:
        logger.exception("unhandled error", exc_info=exc)
    return problem_response(500, code="internal_error", detail="An unexpected error occurred.")


BODY_TOO_LARGE_DETAIL = "The request body is larger than this service accepts."


def _body_too_large_response():
    # Django's DATA_UPLOAD_MAX_MEMORY_SIZE said no while the body was read (the
    # gateway refuses such bodies first; this is a direct call to a service port).
    return problem_response(413, code="request_too_large", detail=BODY_TOO_LARGE_DETAIL)


def _json_problem(status, code, detail):
    return JsonResponse(
        problem(status, code=code, detail=detail), status=status, content_type=PROBLEM_CONTENT_TYPE
    )


def _wants_problem_json(request) -> bool:
    """API clients get problem documents; staff in an admin get Django's HTML pages."""
    return not request.path.startswith(ADMIN_PATHS) or "application/json" in request.headers.get(
        "Accept", ""
    )


# The admins live under /<svc>/admin/ (see shopkit.urls).
ADMIN_PATHS = tuple(service.admin_path for service in SERVICES)


# Django-level handlers (handler404/handler500 in each urls.py): errors raised
# outside DRF views (unknown URLs, middleware) keep the same JSON shape.
def not_found_view(request, exception=None):
    if not _wants_problem_json(request):
        return defaults.page_not_found(request, exception)
    return _json_problem(404, "not_found", "No resource at this address.")


def server_error_view(request):
    if not _wants_problem_json(request):
        return defaults.server_error(request)
    return _json_problem(500, "internal_error", "An unexpected error occurred.")


def bad_request_view(request, exception=None):
    if isinstance(exception, RequestDataTooBig):
        return _json_problem(413, "request_too_large", BODY_TOO_LARGE_DETAIL)
    if not _wants_problem_json(request):
        return defaults.bad_request(request, exception)
    return _json_problem(400, "bad_request", "The request could not be understood.")


def permission_denied_view(request, exception=None):
    if not _wants_problem_json(request):
        return defaults.permission_denied(request, exception)
    return _json_problem(403, "permission_denied", "You do not have permission to do this.")
