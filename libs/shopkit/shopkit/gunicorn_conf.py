"""gunicorn settings shared by the four services: `gunicorn -c python:shopkit.gunicorn_conf`.

gthread workers: threads keep connections from the gateway alive cheaply, and a
thread blocked on a neighbour service does not block the whole worker.
"""

import os
import shutil
import tempfile

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
