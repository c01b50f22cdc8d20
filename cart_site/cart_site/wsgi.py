"""WSGI entry point: `gunicorn cart_site.wsgi` (from cart_site/)."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cart_site.settings")

application = get_wsgi_application()
