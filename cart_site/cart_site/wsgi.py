"""WSGI entry point: `gunicorn cart_site.wsgi` (from cart_site/)."""

from shopkit.wsgi import service_application

application = service_application("cart_site.settings")
