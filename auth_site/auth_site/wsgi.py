"""WSGI entry point: `gunicorn auth_site.wsgi` (from auth_site/)."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "auth_site.settings")

application = get_wsgi_application()
