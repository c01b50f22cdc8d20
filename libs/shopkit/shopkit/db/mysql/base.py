"""Django's MySQL/MariaDB backend, health-checking a kept connection only after it idled.

With CONN_HEALTH_CHECKS, Django pings a reused connection before the first query
of every request: a round trip to the server per request, which cost a product
read about an eighth of its CPU time under load (bench/README.md). A connection
whose last request found it working less than HEALTH_CHECK_AFTER_IDLE_SECONDS ago
is trusted without the ping; one that idled longer (what a server restart, a
proxy's idle timeout or wait_timeout cut) is pinged and replaced as before, and
one that saw an error is checked by Django at the end of that request as always.
"""

import time

from django.db.backends.mysql import base


class DatabaseWrapper(base.DatabaseWrapper):
    def __init__(self, settings_dict, *args, **kwargs):
        super().__init__(settings_dict, *args, **kwargs)
        self.health_check_after_idle = settings_dict.get("HEALTH_CHECK_AFTER_IDLE_SECONDS", 0)
        self.health_checked_at = float("-inf")

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
