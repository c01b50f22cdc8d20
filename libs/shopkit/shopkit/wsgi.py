"""The WSGI application of a service: what every `<svc>_site/wsgi.py` hands gunicorn."""

import os
import sys


def service_application(settings_module: str):
    """Django's WSGI application for `settings_module`, loaded without `requests`."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", settings_module)
    _load_drf_without_requests()
    from django.core.wsgi import get_wsgi_application

    return get_wsgi_application()


def _load_drf_without_requests() -> None:
    """DRF imports `requests` whenever it is installed (rest_framework.compat), only for
    its test client (RequestsClient). No worker uses it (neighbours are called through
    shopkit.client, which speaks HTTP itself), and it cost each worker 4.5 MB of RSS
    (urllib3, charset_normalizer, idna, ...). Hidden while DRF loads; a later `import requests`
    (the stripe library's, when Stripe is configured) still gets the real one."""
    if "requests" in sys.modules or "rest_framework.compat" in sys.modules:
        return  # already loaded: nothing to save
    sys.modules["requests"] = None
    try:
        import rest_framework.compat  # noqa: F401
    finally:
        del sys.modules["requests"]
