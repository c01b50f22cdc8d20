"""Liveness (no database) and readiness (every database answers) views."""

from django.conf import settings
from django.db import connections
from django.http import JsonResponse


def health_view(request):
    return JsonResponse({"status": "ok", "service": settings.SERVICE_NAME})


def ready_view(request):
    """200 when every configured database answers a trivial query, 503 otherwise."""
    databases = {}
    for alias in settings.DATABASES:
        try:
            with connections[alias].cursor() as cursor:
                cursor.execute("SELECT 1")
            databases[alias] = "ok"
        except Exception as exc:  # any failure means "not ready", never a 500
            databases[alias] = f"unavailable: {type(exc).__name__}"
            connections[alias].close()
    ready = all(state == "ok" for state in databases.values())
    return JsonResponse(
        {
            "status": "ready" if ready else "unavailable",
            "service": settings.SERVICE_NAME,
            "databases": databases,
        },
        status=200 if ready else 503,
    )
