"""WSGI entry point: `gunicorn orders_site.wsgi` (from orders_site/)."""

from shopkit.wsgi import service_application

application = service_application("orders_site.settings")
