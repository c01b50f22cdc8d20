"""A WSGI application whose worker is killed (SIGKILL) in the middle of its answer.

Served by gunicorn with shopkit's config behind the real gateway in
test_gateway_raw.py: what a client sees when a service dies mid-answer.
"""

import os
import signal

PART = b'{"items": [' + b'"x",' * 4000


def _die():
    os.kill(os.getpid(), signal.SIGKILL)


def application(environ, start_response):
    path = environ["PATH_INFO"]
    if path.endswith("/before-headers/"):
        _die()
    headers = [("Content-Type", "application/json")]
    if path.endswith("/with-length/"):
        headers.append(("Content-Length", str(len(PART) + 100)))
    # Without a Content-Length gunicorn sends the answer chunked.
    start_response("200 OK", headers)
    yield PART
    _die()
    yield b'"x"]}'
