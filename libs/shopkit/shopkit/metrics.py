"""Prometheus metrics of a service, served at /<svc>/metrics (never through the gateway).

- `tienda_http_requests_total` / `tienda_http_request_duration_seconds`: every
  request by route template (not by URL: ids would explode the series), method
  and status, and its latency;
- `tienda_db_queries_total`: SQL statements by database alias;
- `tienda_service_calls_total` / `tienda_service_call_duration_seconds`: calls to
  the neighbours (shopkit.client) by target and outcome (ok, client_error, failed);
- a service adds its own (orders: checkouts by outcome; catalog: reservations held,
  computed at scrape time by the collectors in METRICS_COLLECTORS).

Under gunicorn every worker is a process: `shopkit.gunicorn_conf` gives them a
fresh PROMETHEUS_MULTIPROC_DIR, and a scrape adds up all workers' files.
Who may scrape: anyone who reaches the service directly (Kubernetes allows the
monitoring namespace only), never a request that came through the gateway
(it carries X-Forwarded-For); with METRICS_TOKEN set, only `Authorization:
Bearer <METRICS_TOKEN>`.
"""

import functools
import hmac
import os
import re
import time

from django.conf import settings
from django.db.backends.signals import connection_created
from django.http import HttpResponse, JsonResponse
from django.utils.module_loading import import_string
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    multiprocess,
)

from shopkit.errors import PROBLEM_CONTENT_TYPE, problem

LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)

HTTP_REQUESTS = Counter(
    "tienda_http_requests_total",
    "HTTP requests served, by route template, method and status.",
    ["service", "route", "method", "status"],
)
HTTP_LATENCY = Histogram(
    "tienda_http_request_duration_seconds",
    "Time to serve a request, by route template and method.",
    ["service", "route", "method"],
    buckets=LATENCY_BUCKETS,
)
DB_QUERIES = Counter(
    "tienda_db_queries_total",
    "SQL statements executed, by database alias.",
    ["service", "database"],
)
SERVICE_CALLS = Counter(
    "tienda_service_calls_total",
    "Calls to neighbour services by target and outcome (ok, client_error, failed).",
    ["service", "target", "method", "outcome"],
)
SERVICE_CALL_LATENCY = Histogram(
    "tienda_service_call_duration_seconds",
    "Time of one attempt of a call to a neighbour service.",
    ["service", "target"],
    buckets=LATENCY_BUCKETS,
)

UNMATCHED_ROUTE = "<unmatched>"


def _service() -> str:
    return getattr(settings, "SERVICE_NAME", "unknown")


_REGEX_GROUP = re.compile(r"\(\?P<(\w+)>[^)]*\)")


def route_of(request) -> str:
    """The URL pattern that served the request ("/api/v1/orders/<pk>/"), never the URL itself."""
    match = getattr(request, "resolver_match", None)
    if match is None or not match.route:
        return UNMATCHED_ROUTE
    return _route_label(match.route)


@functools.lru_cache(maxsize=1024)  # one per URL pattern of the service
def _route_label(route: str) -> str:
    # DRF's routers give regexes ("^(?P<pk>[0-9]+)/$"): shown like path() routes.
    return "/" + _REGEX_GROUP.sub(r"<\1>", route).replace("^", "").replace("$", "")


# Each metric's children by label values, kept: prometheus_client's labels() checks,
# converts and looks them up under a lock on every call (three per request, one per
# SQL statement). The same child objects, fetched once.
_children: dict = {}


def _child(metric, *values: str):
    key = (metric, values)
    child = _children.get(key)
    if child is None:
        child = _children[key] = metric.labels(*values)
    return child


class MetricsMiddleware:
    """Counts and times every request by route template, method and status."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        started = time.perf_counter()
        response = self.get_response(request)
        route, service = route_of(request), _service()
        _child(HTTP_REQUESTS, service, route, request.method, str(response.status_code)).inc()
        _child(HTTP_LATENCY, service, route, request.method).observe(time.perf_counter() - started)
        return response


def observe_service_call(target: str, method: str, outcome: str, seconds: float) -> None:
    """One attempt of a call to a neighbour (shopkit.client)."""
    service = _service()
    _child(SERVICE_CALLS, service, target, method, outcome).inc()
    _child(SERVICE_CALL_LATENCY, service, target).observe(seconds)


def _count_query(alias):
    def wrapper(execute, sql, params, many, context):
        _child(DB_QUERIES, _service(), alias).inc()
        return execute(sql, params, many, context)

    wrapper.tienda_metrics = True
    return wrapper


def install_query_counter(sender, connection, **kwargs):
    """connection_created: count this connection's statements (once per connection object)."""
    if not any(getattr(w, "tienda_metrics", False) for w in connection.execute_wrappers):
        connection.execute_wrappers.append(_count_query(connection.alias))


def install() -> None:
    """Count every database statement from now on (called by shopkit's AppConfig.ready)."""
    connection_created.connect(install_query_counter, dispatch_uid="tienda_metrics_queries")


def _registry() -> CollectorRegistry:
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
    else:
        registry = CollectorRegistry()
        registry.register(_ProcessRegistry())
    for path in getattr(settings, "METRICS_COLLECTORS", []):
        registry.register(import_string(path)())
    return registry


class _ProcessRegistry:
    """The process-wide registry's metrics, for a registry of one scrape (no gunicorn)."""

    def collect(self):
        yield from REGISTRY.collect()


def _may_scrape(request) -> bool:
    token = getattr(settings, "METRICS_TOKEN", "")
    if token:
        sent = request.headers.get("Authorization", "")
        return hmac.compare_digest(sent.encode(), f"Bearer {token}".encode())
    # The gateway adds X-Forwarded-For to everything it proxies: such a request
    # came from the public side, which must never see the metrics.
    return "X-Forwarded-For" not in request.headers


def metrics_view(request):
    if not _may_scrape(request):
        return JsonResponse(
            problem(404, code="not_found", detail="No resource at this address."),
            status=404,
            content_type=PROBLEM_CONTENT_TYPE,
        )
    return HttpResponse(generate_latest(_registry()), content_type=CONTENT_TYPE_LATEST)
