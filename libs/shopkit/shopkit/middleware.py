"""Django's browser middleware, skipped on the API paths that never use it.

Sessions, `request.user` from a session and messages serve the admins (and anything else a browser signs in to with a cookie). The JSON API
(`/api/`) and the calls between services (`/internal/`) authenticate with a
bearer token or the service credential through DRF, whose views are CSRF-exempt
and whose `request.user` is its own. Running these four on every API request
cost about a sixth of a product read's CPU time (bench/README.md); on every
other path they run exactly as Django's own.

Django's own CsrfViewMiddleware stays, unwrapped, on every path a browser can reach
(`check --deploy` looks for it by name, and CSRF protection is not a place to save
microseconds).

Calls between services (`/internal/`) go further: `InternalCallsMiddleware` answers
them with only what such a call needs (see its docstring).
"""

from django.contrib.auth.middleware import (
    AuthenticationMiddleware as DjangoAuthenticationMiddleware,
)
from django.contrib.messages.middleware import MessageMiddleware as DjangoMessageMiddleware
from django.contrib.sessions.middleware import SessionMiddleware as DjangoSessionMiddleware
from django.core.handlers.base import BaseHandler
from django.core.handlers.exception import convert_exception_to_response
from django.middleware.common import CommonMiddleware

# Paths served by DRF views only (token or service credential, never a cookie).
API_PATH_PREFIXES = ("/api/", "/internal/")
# Calls between services only: the gateway never routes them (it answers 404).
INTERNAL_PATH_PREFIX = "/internal/"


def is_api_path(path_info: str) -> bool:
    return path_info.startswith(API_PATH_PREFIXES)


class BrowserOnlyMiddlewareMixin:
    """Passes API requests straight through; every other request gets the middleware."""

    def __call__(self, request):
        if is_api_path(request.path_info):
            return self.get_response(request)
        return super().__call__(request)


class SessionMiddleware(BrowserOnlyMiddlewareMixin, DjangoSessionMiddleware):
    pass


class AuthenticationMiddleware(BrowserOnlyMiddlewareMixin, DjangoAuthenticationMiddleware):
    pass


class MessageMiddleware(BrowserOnlyMiddlewareMixin, DjangoMessageMiddleware):
    pass


class InternalCallsMiddleware:
    """Calls between services (`/internal/`) skip the browser's middleware below this one.

    Placed right after the metrics and the request id (which every call keeps: its
    X-Request-ID, its access line, its metrics), it hands an internal call straight to
    Django's last step (resolve the URL, call the view, render its answer), with
    only CommonMiddleware on the way (the allowed hosts, APPEND_SLASH's redirect, the
    Content-Length). Nothing skipped has anything to do there: the gateway never
    routes `/internal/`, so no browser sends or reads these calls. Their views are DRF
    views that take the service credential (`IsServiceCaller`) and never a cookie, so
    no CORS, session, CSRF check, user or messages; no static files live there; and
    the browser's security headers (Content-Security-Policy, X-Frame-Options,
    X-Content-Type-Options, Referrer-Policy, Cross-Origin-Opener-Policy) were five
    header lines for the calling client to read on every hop. HTTPS redirection and
    HSTS were already off for `/internal/` (SECURE_REDIRECT_EXEMPT, plain HTTP inside
    the deployment's network). Every other path runs the whole stack.
    """

    def __init__(self, get_response):
        self.get_response = get_response
        # Django's own last step (BaseHandler._get_response: resolve, the view in its
        # transaction when ATOMIC_REQUESTS, render), with no view, template-response
        # or exception middleware of its own; errors become answers as at every layer.
        view_step = BaseHandler()
        view_step._view_middleware = []
        view_step._template_response_middleware = []
        view_step._exception_middleware = []
        self.internal_response = convert_exception_to_response(
            CommonMiddleware(convert_exception_to_response(view_step._get_response))
        )

    def __call__(self, request):
        if request.path_info.startswith(INTERNAL_PATH_PREFIX):
            return self.internal_response(request)
        return self.get_response(request)
