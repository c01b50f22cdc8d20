"""The settings base every service star-imports, then completes.

A service's settings.py:

    from shopkit.settings import *  # noqa: F403
    SERVICE_NAME = "catalog"
    INSTALLED_APPS = [*DJANGO_APPS, *THIRD_PARTY_APPS, "catalog"]
    ROOT_URLCONF = "catalog_site.urls"
    STATIC_URL = "/catalog/static/"
    LOGGING = logging_config(SERVICE_NAME, LOG_LEVEL)

Everything comes from the environment (django-environ). Unset database URLs
mean the embedded SQLite files under var/ (what `make run` uses). Secrets have
no production default: outside DEBUG a missing secret fails at start.
"""

from datetime import timedelta
from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured

from shopkit import registry as _registry  # private: not a setting of the services
from shopkit.cache import THROTTLE_CACHE, cache_settings, throttle_cache
from shopkit.keys import read_pem
from shopkit.logging import logging_config  # noqa: F401  (re-exported for service settings)
from shopkit.outbox.config import email_settings

env = environ.Env()

# libs/shopkit/shopkit/settings.py -> the repository root (editable install);
# containers set TIENDA_HOME / VAR_DIR explicitly.
REPO_DIR = Path(env.str("TIENDA_HOME", default=str(Path(__file__).resolve().parents[3])))
VAR_DIR = Path(env.str("VAR_DIR", default=str(REPO_DIR / "var")))

# Operator configuration (.env, as docker compose reads it), then the dev
# secrets `make run` generates. Variables already in the environment win.
for env_file in (REPO_DIR / ".env", VAR_DIR / "dev.env"):
    if env_file.is_file():
        environ.Env.read_env(env_file)

DEBUG = env.bool("DJANGO_DEBUG", default=False)


def _secret(name: str, dev_default: str) -> str:
    value = env.str(name, default="")
    if value:
        return value
    if DEBUG:
        return dev_default
    raise ImproperlyConfigured(f"{name} must be set (it has no default outside DEBUG).")


SECRET_KEY = _secret("DJANGO_SECRET_KEY", "dev-insecure-secret-key-do-not-use-in-production")
# Shared by the four services: the credential of /internal/ calls.
SERVICE_TOKEN = _secret("SERVICE_TOKEN", "dev-insecure-service-token")

ALLOWED_HOSTS = env.list(
    "DJANGO_ALLOWED_HOSTS",
    default=["localhost", "127.0.0.1", "[::1]", *_registry.SERVICE_NAMES, "gateway"],
)
CSRF_TRUSTED_ORIGINS = env.list(
    "CSRF_TRUSTED_ORIGINS", default=["http://localhost:8080", "http://127.0.0.1:8080"]
)
# Storefronts served from other origins (a SPA on https://shop.example): none by
# default. Bearer tokens, not cookies, so no credentials; the headers a storefront
# must read or send are listed.
CORS_ALLOWED_ORIGINS = env.list("CORS_ALLOWED_ORIGINS", default=[])
CORS_URLS_REGEX = r"^/api/"
CORS_ALLOW_HEADERS = [
    "accept",
    "authorization",
    "content-type",
    "idempotency-key",
    "x-cart-token",
    "x-request-id",
]
CORS_EXPOSE_HEADERS = ["X-Cart-Token", "X-Request-ID", "Retry-After", "Idempotent-Replayed"]
CORS_PREFLIGHT_MAX_AGE = 600

# Whose X-Forwarded-For counts (shopkit.throttling.client_address): the gateway's
# addresses only (CIDRs). Loopback for `make run`, whose nginx runs on this machine;
# compose sets the gateway's fixed address. From anyone else the header is ignored.
TRUSTED_PROXIES = env.list("TRUSTED_PROXIES", default=["127.0.0.1/32", "::1/128"])

# Behind the gateway: trust its forwarded host and scheme.
USE_X_FORWARDED_HOST = True
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

DJANGO_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
]
THIRD_PARTY_APPS = [
    "corsheaders",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
]
SHOPKIT_APPS = ["shopkit"]

MIDDLEWARE = [
    "shopkit.metrics.MetricsMiddleware",  # first: it times everything below
    "shopkit.requestid.RequestIdMiddleware",
    # /internal/ (calls between services) skips everything below (shopkit.middleware).
    "shopkit.middleware.InternalCallsMiddleware",
    "corsheaders.middleware.CorsMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # Sessions, users and messages skipped on /api/ and /internal/ (shopkit.middleware).
    "shopkit.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "shopkit.middleware.AuthenticationMiddleware",
    "shopkit.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "shopkit.csp.ContentSecurityPolicyMiddleware",
]
# What the admins and Swagger UI need, and nothing more (see shopkit.csp).
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; font-src 'self'; connect-src 'self'; object-src 'none'; "
    "base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
)

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        # shopkit's templates first: its admin/base_site.html must win over Django's.
        "DIRS": [Path(__file__).resolve().parent / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "shopkit.context_processors.backoffice",
            ],
        },
    },
]

# --- Databases -----------------------------------------------------------------

DB_CONN_MAX_AGE = env.int("DB_CONN_MAX_AGE", default=60)
# A kept connection used within this many seconds is not pinged before a request's
# first query (shopkit.db.mysql); one idle for longer is, as CONN_HEALTH_CHECKS does.
DB_HEALTH_CHECK_AFTER_IDLE_SECONDS = env.float("DB_HEALTH_CHECK_AFTER_IDLE_SECONDS", default=1.0)


def database(url_variable: str, sqlite_file: str) -> dict:
    """One DATABASES entry from a URL variable, tuned for MySQL/MariaDB or SQLite."""
    config = env.db_url(url_variable, default=f"sqlite:///{VAR_DIR / sqlite_file}")
    if config["ENGINE"] == "django.db.backends.mysql":
        config["ENGINE"] = "shopkit.db.mysql"
        config["HEALTH_CHECK_AFTER_IDLE_SECONDS"] = DB_HEALTH_CHECK_AFTER_IDLE_SECONDS
        config["OPTIONS"] = {
            "charset": "utf8mb4",
            "init_command": "SET sql_mode='STRICT_TRANS_TABLES'",
            "isolation_level": "read committed",
            "connect_timeout": 5,
            **config.get("OPTIONS", {}),
        }
        config["TEST"] = {"CHARSET": "utf8mb4", "COLLATION": "utf8mb4_unicode_ci"}
        config["CONN_MAX_AGE"] = DB_CONN_MAX_AGE
        config["CONN_HEALTH_CHECKS"] = True
    elif config["ENGINE"] == "django.db.backends.sqlite3":
        config["ENGINE"] = "shopkit.db.sqlite3"
        # WAL + IMMEDIATE transactions + a busy timeout: several gunicorn
        # processes can share the files without "database is locked". Each kept
        # connection (one per thread) has a page cache of its own: 256 KiB instead of
        # SQLite's 2 MiB keeps a catalog worker under 80 MB (the OS caches the file).
        config["OPTIONS"] = {
            "timeout": 20,
            "transaction_mode": "IMMEDIATE",
            "init_command": (
                "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA cache_size=-256;"
            ),
        }
        # Kept too: opening the file per request (its PRAGMAs, the SQL functions
        # Django registers, a cold page cache) cost more than the read it served.
        # No health checks: there is no server to lose (SQLite's is_usable() is True).
        config["CONN_MAX_AGE"] = DB_CONN_MAX_AGE
    return config


DATABASES = {
    "default": database("AUTH_DATABASE_URL", "auth.sqlite3"),  # auth_db
    "ecommerce": database("ECOMMERCE_DATABASE_URL", "ecommerce.sqlite3"),  # ecommerce_db
}
DATABASE_ROUTERS = ["shopkit.routers.DatabaseRouter"]
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Throttle counters must be shared by every worker process and every replica:
# Redis (CACHE_URL=redis://host:6379/0) in compose and Kubernetes; by default a
# table in auth_db (`manage.py createcachetable`, run by `migrate_all`), so
# `make run` needs no Redis. Tests use locmem. The counters get an alias of their
# own that other traffic cannot evict (shopkit.cache).
_DEFAULT_CACHE = cache_settings(env.cache_url("CACHE_URL", default="dbcache://tienda_cache"))
CACHES = {"default": _DEFAULT_CACHE, THROTTLE_CACHE: throttle_cache(_DEFAULT_CACHE)}

# --- Sessions: one sign-in across the four admins --------------------------------
# Sessions live in auth_db; every service uses the same cookie names, path and
# SECRET_KEY, so a session made by one admin is valid in all four.
SESSION_ENGINE = "django.contrib.sessions.backends.db"
SESSION_COOKIE_NAME = "tienda_session"
SESSION_COOKIE_PATH = "/"
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_AGE = 14 * 24 * 3600  # Django's default, stated: the CSRF cookie follows it
CSRF_COOKIE_NAME = "tienda_csrftoken"
CSRF_COOKIE_PATH = "/"
CSRF_COOKIE_AGE = SESSION_COOKIE_AGE  # not Django's year: no longer than a session

# Production behind TLS (terminated by the gateway or a load balancer in front of
# it, which sends X-Forwarded-Proto: https): DJANGO_HTTPS=1 makes the cookies
# HTTPS-only, redirects plain HTTP and sends HSTS; `manage.py check --deploy` is
# then clean. Calls between services (/internal/), the health probes and the
# metrics scrapes stay on plain HTTP inside the deployment's network.
HTTPS = env.bool("DJANGO_HTTPS", default=False)
SESSION_COOKIE_SECURE = env.bool("SESSION_COOKIE_SECURE", default=HTTPS)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
SECURE_SSL_REDIRECT = HTTPS
SECURE_REDIRECT_EXEMPT = [r"^internal/", r"^[a-z]+/(health|ready)/$", r"^[a-z]+/metrics$"]
# HSTS is only ever sent on HTTPS requests, so these defaults are safe on plain HTTP.
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=365 * 24 * 3600)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=True)
# Preloading is a one-way commitment of the whole domain: the operator's decision
# (SECURE_HSTS_PRELOAD=1), so check --deploy's reminder about it is silenced.
SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=False)
SILENCED_SYSTEM_CHECKS = ["security.W021"]

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_ROOT = VAR_DIR / "static"
STATIC_ROOT.mkdir(parents=True, exist_ok=True)  # WhiteNoise expects it even before collectstatic
# WhiteNoise serves each admin's static files through gunicorn (and so through
# the gateway); finders mean no collectstatic step is needed to run.
WHITENOISE_USE_FINDERS = True
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}

# --- The shop --------------------------------------------------------------------

SHOP_CURRENCY = env.str("SHOP_CURRENCY", default="EUR")
# In emails (subject, greeting, signature).
SHOP_NAME = env.str("SHOP_NAME", default="Tienda")
# The languages customers may choose (accounts' `language`) and the default one.
SHOP_LANGUAGES = [("es", "Español"), ("en", "English")]
SHOP_LANGUAGE = env.str("SHOP_LANGUAGE", default="es")
if SHOP_LANGUAGE not in dict(SHOP_LANGUAGES):
    raise ImproperlyConfigured(f"SHOP_LANGUAGE must be one of {sorted(dict(SHOP_LANGUAGES))}.")
# The storefront customers use (links in emails: password reset, email verification).
STOREFRONT_URL = env.str("STOREFRONT_URL", default="http://localhost:3000")
# Whether a customer must have verified their email to check out (the access
# token's `email_verified` claim tells orders; docs/internal-api.md).
REQUIRE_VERIFIED_EMAIL = env.bool("REQUIRE_VERIFIED_EMAIL", default=False)

# --- Email (shopkit.outbox) ------------------------------------------------------
# EMAIL_URL: smtp://user:pass@host:25, smtp+tls://...:587, smtp+ssl://...:465,
# console://, or file:///dir; unset: one .eml file per message under var/mail/.
globals().update(email_settings(env.str("EMAIL_URL", default=""), VAR_DIR / "mail"))
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default=f"{SHOP_NAME} <no-reply@tienda.local>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
EMAIL_TIMEOUT = env.int("EMAIL_TIMEOUT", default=20)  # seconds per SMTP operation
# The send_outbox job: retries after OUTBOX_RETRY_BASE_SECONDS, doubling up to
# OUTBOX_RETRY_MAX_SECONDS; failed after OUTBOX_MAX_ATTEMPTS; a sender's claim on
# its rows lasts OUTBOX_CLAIM_SECONDS (then another sender may take them).
OUTBOX_MAX_ATTEMPTS = env.int("OUTBOX_MAX_ATTEMPTS", default=10)
OUTBOX_RETRY_BASE_SECONDS = env.float("OUTBOX_RETRY_BASE_SECONDS", default=30.0)
OUTBOX_RETRY_MAX_SECONDS = env.float("OUTBOX_RETRY_MAX_SECONDS", default=3600.0)
OUTBOX_CLAIM_SECONDS = env.int("OUTBOX_CLAIM_SECONDS", default=300)
OUTBOX_BATCH_SIZE = 50
# Staff's own copies of the email templates (emails/<language>/<name>/...), searched first.
EMAIL_TEMPLATE_DIR = env.str("EMAIL_TEMPLATE_DIR", default="")
if EMAIL_TEMPLATE_DIR:
    TEMPLATES[0]["DIRS"].insert(0, Path(EMAIL_TEMPLATE_DIR))

# --- Services --------------------------------------------------------------------

# Where each neighbour answers: AUTH_SERVICE_URL, CATALOG_SERVICE_URL... (shopkit.registry).
SERVICE_URLS = {
    service.name: env.str(service.url_setting, default=service.local_url)
    for service in _registry.SERVICES
}
SERVICE_CONNECT_TIMEOUT = env.float("SERVICE_CONNECT_TIMEOUT", default=2.0)
SERVICE_READ_TIMEOUT = env.float("SERVICE_READ_TIMEOUT", default=5.0)
SERVICE_RETRIES = env.int("SERVICE_RETRIES", default=2)

# --- REST framework and tokens ---------------------------------------------------

REST_FRAMEWORK = {
    # Services other than auth verify tokens statelessly (no DB, no call to auth).
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "shopkit.jwt.ShopStatelessJWTAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["shopkit.parsers.StrictJSONParser"],
    "DEFAULT_CONTENT_NEGOTIATION_CLASS": "shopkit.negotiation.KeptContentNegotiation",
    "DEFAULT_PAGINATION_CLASS": "shopkit.pagination.PageNumberPagination",
    "PAGE_SIZE": 20,
    "DEFAULT_FILTER_BACKENDS": [
        "django_filters.rest_framework.DjangoFilterBackend",
        "rest_framework.filters.OrderingFilter",
    ],
    "DEFAULT_SCHEMA_CLASS": "shopkit.schema.TiendaAutoSchema",
    "EXCEPTION_HANDLER": "shopkit.errors.problem_exception_handler",
    # Global per-client throttles are off unless a rate is configured (the
    # gateway's limit_req is the first line); scoped ones (login, register) are on.
    "DEFAULT_THROTTLE_CLASSES": [
        "shopkit.throttling.AnonRateThrottle",
        "shopkit.throttling.UserRateThrottle",
    ],
    "DEFAULT_THROTTLE_RATES": {
        "anon": env.str("THROTTLE_ANON_RATE", default="") or None,
        "user": env.str("THROTTLE_USER_RATE", default="") or None,
        # Failed sign-ins (API and the four admins), per email and per client address.
        "login_email": env.str("THROTTLE_LOGIN_EMAIL_RATE", default="5/min"),
        "login_ip": env.str("THROTTLE_LOGIN_IP_RATE", default="20/min"),
    },
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
}

# Revoked access tokens (shopkit.revocation; cart and orders): how often each process
# polls auth's list, how long one call may take, and how old the list may get
# before signed-in writes are refused with 503 (reads go on with the last list).
TOKEN_REVOCATION_REFRESH_SECONDS = env.float("TOKEN_REVOCATION_REFRESH_SECONDS", default=3.0)
TOKEN_REVOCATION_TIMEOUT = env.float("TOKEN_REVOCATION_TIMEOUT", default=2.0)
TOKEN_REVOCATION_MAX_AGE_SECONDS = env.float("TOKEN_REVOCATION_MAX_AGE_SECONDS", default=30.0)

JWT_PUBLIC_KEY = read_pem(env.str("JWT_PUBLIC_KEY", default=""))
JWKS_URL = env.str("JWKS_URL", default="") or None

SIMPLE_JWT = {
    "ALGORITHM": "RS256",
    "SIGNING_KEY": None,  # only auth_site signs; it sets its private key
    "VERIFYING_KEY": JWT_PUBLIC_KEY,
    "JWK_URL": None if JWT_PUBLIC_KEY else JWKS_URL,
    "ISSUER": env.str("JWT_ISSUER", default="tienda-auth"),
    "ACCESS_TOKEN_LIFETIME": timedelta(minutes=env.int("JWT_ACCESS_MINUTES", default=15)),
    "REFRESH_TOKEN_LIFETIME": timedelta(days=env.int("JWT_REFRESH_DAYS", default=7)),
    "ROTATE_REFRESH_TOKENS": True,
    "BLACKLIST_AFTER_ROTATION": True,
    "UPDATE_LAST_LOGIN": False,
    "USER_ID_FIELD": "id",
    "USER_ID_CLAIM": "user_id",
    "AUTH_HEADER_TYPES": ("Bearer",),
    "TOKEN_USER_CLASS": "shopkit.jwt.ShopTokenUser",
    "LEEWAY": 5,
}

SPECTACULAR_SETTINGS = {
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",  # served from static files: nothing from a CDN
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "PREPROCESSING_HOOKS": ["shopkit.schema.public_endpoints_only"],
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "shopkit.schema.document_every_answer",
    ],
}

LOG_LEVEL = env.str("LOG_LEVEL", default="INFO")

# --- Metrics (shopkit.metrics) -----------------------------------------------------
# /<svc>/metrics: open to direct callers (never through the gateway); with a token,
# only to `Authorization: Bearer <METRICS_TOKEN>` (Prometheus' `authorization`).
METRICS_TOKEN = env.str("METRICS_TOKEN", default="")
# Collectors a service adds (dotted paths of classes), computed at scrape time.
METRICS_COLLECTORS: list[str] = []
