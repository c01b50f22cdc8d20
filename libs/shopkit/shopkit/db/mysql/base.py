"""Django's MySQL/MariaDB backend: kept connections health-checked only after they idled,
and date-times parsed in C.

With CONN_HEALTH_CHECKS, Django pings a reused connection before the first query
of every request: a round trip to the server per request, which cost a product
read about an eighth of its CPU time under load (bench/README.md). A connection
whose last request found it working less than HEALTH_CHECK_AFTER_IDLE_SECONDS ago
is trusted without the ping; one that idled longer (what a server restart, a
proxy's idle timeout or wait_timeout cut) is pinged and replaced as before, and
one that saw an error is checked by Django at the end of that request as always.

mysqlclient turns each DATETIME value's text into a datetime in Python (~2 us);
`datetime.fromisoformat` reads the same text in C (~0.1 us), and a page of 20
products has 40 of them. What fromisoformat refuses (MySQL's zero dates) still
goes to mysqlclient's own parser, so every value comes out as before.
"""

import time
from datetime import datetime

from django.db.backends.mysql import base
from MySQLdb.constants import FIELD_TYPE
from MySQLdb.times import DateTime_or_None


def datetime_from_text(text: str) -> datetime | None:
    """A DATETIME or TIMESTAMP column's text ("2026-12-07 09:20:13.123456") as a datetime."""
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        return DateTime_or_None(text)


class DatabaseOperations(base.DatabaseOperations):
    def convert_datetimefield_value(self, value, expression, connection):
        # timezone.make_aware() without its check that the value is naive (one from a
        # DATETIME column always is): ~1 us less for each of a product page's 40.
        if value is not None:
            value = value.replace(tzinfo=self.connection.timezone)
        return value


class DatabaseWrapper(base.DatabaseWrapper):
    ops_class = DatabaseOperations

    def __init__(self, settings_dict, *args, **kwargs):
        super().__init__(settings_dict, *args, **kwargs)
        self.health_check_after_idle = settings_dict.get("HEALTH_CHECK_AFTER_IDLE_SECONDS", 0)
        self.health_checked_at = float("-inf")

    def get_connection_params(self):
        params = super().get_connection_params()
        params["conv"] = {
            **params["conv"],
            FIELD_TYPE.DATETIME: datetime_from_text,
            FIELD_TYPE.TIMESTAMP: datetime_from_text,
        }
        return params

    def connect(self):
        super().connect()
        self.health_checked_at = time.monotonic()  # a new connection is healthy

    def close_if_health_check_failed(self):
        if (
            self.connection is not None
            and self.health_check_enabled
            and not self.health_check_done
            and not self.errors_occurred
            and time.monotonic() - self.health_checked_at < self.health_check_after_idle
        ):
            self.health_check_done = True
        else:
            super().close_if_health_check_failed()
        if self.connection is not None:
            self.health_checked_at = time.monotonic()
