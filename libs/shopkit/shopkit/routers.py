"""The single database router of every service.

Pins each app to one of the two logical databases, refuses relations across
them, and always answers allow_migrate with True or False (after Sentry's router).
"""

from shopkit.registry import (  # noqa: F401  (aliases re-exported)
    AUTH_DB,
    ECOMMERCE_DB,
    SERVICE_NAMES,
    SERVICES,
    service,
)

# Every app that has tables, and the database it lives in: Django's and the
# libraries' shared tables in auth_db, then each service's own (shopkit.registry).
DATABASE_FOR_APP = {
    "auth": AUTH_DB,
    "contenttypes": AUTH_DB,
    "sessions": AUTH_DB,
    "admin": AUTH_DB,
    "token_blacklist": AUTH_DB,
    "django_cache": AUTH_DB,  # DatabaseCache's pseudo app label (throttle counters)
    **{label: service.database for service in SERVICES for label in service.app_labels},
}


# Apps of shopkit that a service installs for itself (the outbox): their tables live
# in the database of the service that installs them (its SERVICE_NAME).
PER_SERVICE_APPS = frozenset({"outbox"})


def database_for_app(app_label: str) -> str:
    """The alias an app's tables live in; apps without tables fall back to auth_db."""
    if app_label in PER_SERVICE_APPS:
        return _own_database()
    return DATABASE_FOR_APP.get(app_label, AUTH_DB)


def _own_database() -> str:
    from django.conf import settings

    name = getattr(settings, "SERVICE_NAME", None)
    return service(name).database if name in SERVICE_NAMES else AUTH_DB


class DatabaseRouter:
    def db_for_read(self, model, **hints):
        return database_for_app(model._meta.app_label)

    def db_for_write(self, model, **hints):
        return database_for_app(model._meta.app_label)

    def allow_relation(self, obj1, obj2, **hints):
        return database_for_app(obj1._meta.app_label) == database_for_app(obj2._meta.app_label)

    def allow_migrate(self, db, app_label, model_name=None, **hints):
        return db == database_for_app(app_label)
