"""The URL skeleton every service shares (docs/architecture.md, "Services").

/<svc>/admin/  /<svc>/health/  /<svc>/ready/  /<svc>/metrics (Prometheus; not for the public)
/api/v1/<svc>/ (the API)  /api/v1/<svc>/schema/  /api/v1/<svc>/docs/
/internal/<svc>/ (service-to-service; the gateway never routes it)
"""

from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from shopkit.health import health_view, ready_view
from shopkit.metrics import metrics_view


def service_urlpatterns(service: str, *, api=None, internal=None) -> list:
    """URL patterns for `service`; `api` and `internal` are URLconf modules (or lists)."""
    schema_name = f"{service}-schema"
    # Public documents: a token, even a broken one, is not looked at (it used to
    # turn the HTML docs page into a 401 that was neither HTML nor JSON). The docs
    # page loads its start-up script from ?script= (no inline script: shopkit.csp).
    public = {"authentication_classes": []}
    patterns = [
        path(f"{service}/admin/", admin.site.urls),
        path(f"{service}/health/", health_view, name="health"),
        path(f"{service}/ready/", ready_view, name="ready"),
        path(f"{service}/metrics", metrics_view, name="metrics"),
        path(f"api/v1/{service}/schema/", SpectacularAPIView.as_view(**public), name=schema_name),
        path(
            f"api/v1/{service}/docs/",
            SpectacularSwaggerSplitView.as_view(url_name=schema_name, **public),
            name=f"{service}-docs",
        ),
    ]
    if internal is not None:
        patterns.append(path(f"internal/{service}/", include(internal)))
    if api is not None:
        patterns.append(path(f"api/v1/{service}/", include(api)))
    return patterns


handler400 = "shopkit.errors.bad_request_view"
handler403 = "shopkit.errors.permission_denied_view"
handler404 = "shopkit.errors.not_found_view"
handler500 = "shopkit.errors.server_error_view"
