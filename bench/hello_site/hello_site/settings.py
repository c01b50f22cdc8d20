"""The benchmark's baseline: the barest Django that answers JSON (no apps, no
middleware, no database), served by the services' gunicorn config behind the
same nginx. Never deployed; its secret key guards nothing.
"""

SECRET_KEY = "bench-only-hello-site"
DEBUG = False
ALLOWED_HOSTS = ["*"]
ROOT_URLCONF = "hello_site.urls"
WSGI_APPLICATION = "hello_site.wsgi.application"
INSTALLED_APPS = []
MIDDLEWARE = []
DATABASES = {}
USE_TZ = True
