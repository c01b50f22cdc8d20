"""WSGI entry point: `gunicorn drf_site.wsgi` (from bench/drf_site/)."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "drf_site.settings")

application = get_wsgi_application()
