"""The single database router of every service.

Pins each app to one of the two logical databases, refuses relations across
them, and always answers allow_migrate with True or False (after Sentry's router).
"""

from shopkit.registry import AUTH_DB, ECOMMERCE_DB, SERVICES  # noqa: F401  (aliases re-exported)

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


def database_for_app(app_label: str) -> str:
    """The alias an app's tables live in; apps without tables fall back to auth_db."""
    return DATABASE_FOR_APP.get(app_label, AUTH_DB)


class DatabaseRouter:
    def db_for_read(self, model, **hints):
        return database_for_app(model._meta.app_label)

    def db_for_write(self, model, **hints):
        return database_for_app(model._meta.app_label)

    def allow_relation(self, obj1, obj2, **hints):
        return database_for_app(obj1._meta.app_label) == database_for_app(obj2._meta.app_label)

    def allow_migrate(self, db, app_label, model_name=None, **hints):
        return db == database_for_app(app_label)
