"""WSGI entry point: `gunicorn catalog_site.wsgi` (from catalog_site/)."""

from shopkit.wsgi import service_application

application = service_application("catalog_site.settings")
