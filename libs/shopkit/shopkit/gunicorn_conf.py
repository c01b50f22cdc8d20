"""gunicorn settings shared by the four services: `gunicorn -c python:shopkit.gunicorn_conf`.

gthread workers: threads keep connections from the gateway alive cheaply, and a
thread blocked on a neighbour service does not block the whole worker. gunicorn's
own error answers are problem documents (`post_worker_init`).
"""

import gc
import json
import os
import shutil
import tempfile
from http import HTTPStatus

from gunicorn import util as gunicorn_util

bind = os.environ.get("GUNICORN_BIND", f"0.0.0.0:{os.environ.get('PORT', '8000')}")
worker_class = "gthread"
workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
threads = int(os.environ.get("GUNICORN_THREADS", "4"))
# Longer than nginx's upstream keepalive_timeout, so nginx closes idle connections first.
keepalive = int(os.environ.get("GUNICORN_KEEPALIVE", "75"))
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "30"))
graceful_timeout = int(os.environ.get("GUNICORN_GRACEFUL_TIMEOUT", "10"))
# The services log every request themselves (JSON lines with the request id).
accesslog = None
errorlog = "-"
loglevel = os.environ.get("GUNICORN_LOG_LEVEL", "warning")
# No control interface (gunicornc, gunicorn >= 25.1): nothing here uses it, and every
# service's master would bind the same ~/.gunicorn/gunicorn.ctl, all but the first
# logging an error at start.
control_socket_disable = True

# gunicorn answers some malformed requests itself, before Django sees them (a
# control byte in a header, a request line or header over its limits, a bad
# chunk size), with an HTML page. The workers write those answers as problem
# documents instead, shaped like shopkit.errors.problem(); the status stays
# gunicorn's. (No Django import here: this runs before the application loads.)
GUNICORN_PROBLEMS = {
    400: ("bad_request", "The request could not be understood."),
    403: ("forbidden", "This request is not allowed."),
    414: ("uri_too_long", "The request address is too long."),
    417: ("expectation_failed", "The Expect header cannot be met."),
    431: ("headers_too_large", "The request headers are too large."),
    500: ("internal_error", "An unexpected error occurred."),
    501: ("not_implemented", "The request uses a feature the server does not support."),
}


def problem_answer(status: int) -> bytes:
    """The complete HTTP answer gunicorn sends for one of its own errors."""
    code, detail = GUNICORN_PROBLEMS.get(status, GUNICORN_PROBLEMS[400 if status < 500 else 500])
    phrase = HTTPStatus(status).phrase
    body = json.dumps(
        {
            "type": f"urn:tienda:problem:{code}",
            "title": phrase,
            "status": status,
            "detail": detail,
            "code": code,
        }
    ).encode()
    head = (
        f"HTTP/1.1 {status} {phrase}\r\n"
        "Connection: close\r\n"
        "Content-Type: application/problem+json\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    )
    return head.encode("latin-1") + body


def write_problem(sock, status_int, reason, mesg):
    """Replaces gunicorn.util.write_error (the only writer of gunicorn's own error pages)."""
    gunicorn_util.write_nonblock(sock, problem_answer(int(status_int)))


def post_worker_init(worker):
    gunicorn_util.write_error = write_problem
    freeze_what_was_loaded()


def freeze_what_was_loaded():
    """Hide the loaded application from the garbage collector (`gc.freeze`).

    Django, the apps and the URLconf (loaded here rather than by the first request)
    live as long as the worker. Left in the collector's oldest generation, each full
    collection walks all of them while every thread of the worker waits: 70 ms and
    more on a busy machine, which was the read paths' p99 (bench/README.md). Frozen,
    a full collection walks only what was made since.
    """
    from django.conf import settings
    from django.urls import get_resolver

    if settings.configured:  # a Django application (the services, the bench's baselines)
        get_resolver().url_patterns  # noqa: B018  (imports the URLconf and its views)
    gc.collect()  # garbage is not frozen
    gc.freeze()


# Prometheus metrics of every worker process (shopkit.metrics): each writes its
# own files into one directory, which a scrape adds up. A fresh one for every
# start (files of an earlier run would be counted again), under $TMPDIR or /tmp.
def on_starting(server):
    os.environ.update(PROMETHEUS_MULTIPROC_DIR=tempfile.mkdtemp(prefix="tienda-metrics-"))


def child_exit(server, worker):
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)


def on_exit(server):
    shutil.rmtree(os.environ.pop("PROMETHEUS_MULTIPROC_DIR"), ignore_errors=True)
