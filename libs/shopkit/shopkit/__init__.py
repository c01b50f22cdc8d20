"""shopkit: the one package Tienda's four services share.

Each module holds one mechanism, used the same way by every service:
settings (the settings base), routers (which database an app lives in),
errors (problem-details responses), jwt (stateless token verification and
keys), permissions (service credential, JWT permissions), client (calls to
other services), requestid + logging (tracing a request), health (liveness and
readiness), pagination, urls (the URL skeleton every service shares).
Not used by the services themselves: processes (how `make run`, the benchmark
and the tests start and stop gunicorn, nginx and the jobs).
"""
