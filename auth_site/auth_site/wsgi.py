"""WSGI entry point: `gunicorn auth_site.wsgi` (from auth_site/)."""

from shopkit.wsgi import service_application

application = service_application("auth_site.settings")
