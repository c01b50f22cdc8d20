"""Permissions shared by the services."""

import hmac

from django.conf import settings
from rest_framework.permissions import BasePermission

SERVICE_TOKEN_HEADER = "X-Service-Token"
_SERVICE_TOKEN_META = "HTTP_X_SERVICE_TOKEN"  # read from the environ: no request.headers built


def is_service_call(request) -> bool:
    """True when the request carries this deployment's service credential."""
    sent = request.META.get(_SERVICE_TOKEN_META, "")
    return bool(sent) and hmac.compare_digest(sent.encode(), settings.SERVICE_TOKEN.encode())


class IsServiceCaller(BasePermission):
    """Only another Tienda service (no customer or staff token satisfies it)."""

    message = "This endpoint is for Tienda services only."

    def has_permission(self, request, view):
        return is_service_call(request)
