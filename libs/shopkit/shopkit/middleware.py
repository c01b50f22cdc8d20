"""Django's browser middleware, skipped on the API paths that never use it.

Sessions, CSRF cookies, `request.user` from a session and messages serve the
admins (and anything else a browser signs in to with a cookie). The JSON API
(`/api/`) and the calls between services (`/internal/`) authenticate with a
bearer token or the service credential through DRF, whose views are CSRF-exempt
and whose `request.user` is its own. Running these four on every API request
cost about a sixth of a product read's CPU time (bench/README.md); on every
other path they run exactly as Django's own.

CSRF protection is not weakened for any view that has it: Django calls
`CsrfViewMiddleware.process_view` for every request whatever the path, and it
checks a non-exempt view's POST from the cookie and header as usual.
"""

from django.contrib.auth.middleware import (
    AuthenticationMiddleware as DjangoAuthenticationMiddleware,
)
from django.contrib.messages.middleware import MessageMiddleware as DjangoMessageMiddleware
from django.contrib.sessions.middleware import SessionMiddleware as DjangoSessionMiddleware
from django.middleware.csrf import CsrfViewMiddleware as DjangoCsrfViewMiddleware

# Paths served by DRF views only (token or service credential, never a cookie).
API_PATH_PREFIXES = ("/api/", "/internal/")


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


class CsrfViewMiddleware(BrowserOnlyMiddlewareMixin, DjangoCsrfViewMiddleware):
    pass


class AuthenticationMiddleware(BrowserOnlyMiddlewareMixin, DjangoAuthenticationMiddleware):
    pass


class MessageMiddleware(BrowserOnlyMiddlewareMixin, DjangoMessageMiddleware):
    pass
