"""WSGI entry point: `gunicorn orders_site.wsgi` (from orders_site/)."""

import os
import sys

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "orders_site.settings")

# DRF imports `requests` whenever it is installed (rest_framework.compat), only for
# its test client (RequestsClient); an orders worker never uses it (its neighbours are
# called through shopkit's urllib3 client), and it cost each worker 4.5 MB of RSS
# (urllib3's extras, charset_normalizer, idna, ...), as in catalog_site/wsgi.py. Hidden
# while DRF loads; a later `import requests` (the stripe library's, when Stripe is
# configured) still gets the real one.
sys.modules["requests"] = None
try:
    import rest_framework.compat  # noqa: F401
finally:
    del sys.modules["requests"]

from django.core.wsgi import get_wsgi_application  # noqa: E402

application = get_wsgi_application()
