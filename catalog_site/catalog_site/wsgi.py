"""WSGI entry point: `gunicorn catalog_site.wsgi` (from catalog_site/)."""

import os
import sys

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "catalog_site.settings")

# DRF imports `requests` whenever it is installed (rest_framework.compat), only for
# its test client (RequestsClient); nothing a catalog worker runs uses it, and it
# cost each worker 4.5 MB of RSS (urllib3, charset_normalizer, idna, ...). Hidden
# while DRF loads; a later `import requests` anywhere still gets the real one.
sys.modules["requests"] = None
try:
    import rest_framework.compat  # noqa: F401
finally:
    del sys.modules["requests"]

from django.core.wsgi import get_wsgi_application  # noqa: E402

application = get_wsgi_application()
