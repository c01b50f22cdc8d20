"""Caches: the default one (CACHE_URL) and the throttle counters' own.

Throttle counters (failed sign-ins, sign-ups) must survive any amount of other
traffic: a lockout that a flood of other keys can evict is no lockout. So they
live in a cache alias of their own ("throttle"):

- on Redis (CACHE_URL=redis://...), the same server under a key prefix of their
  own; Redis drops a key only when its TTL runs out (run it with
  `--maxmemory-policy noeviction`, as compose and the manifests do);
- on the embedded default (a database table), a table of their own
  (`tienda_throttle`) whose culling deletes expired rows only: a counter is
  written with its window as timeout, so nothing younger than the window goes.
"""

from django.core.cache.backends.db import DatabaseCache
from django.db import connections

THROTTLE_CACHE = "throttle"
THROTTLE_TABLE = "tienda_throttle"
# Above this many rows every write first deletes the expired ones (never live ones).
THROTTLE_MAX_ENTRIES = 10_000


class ExpiredOnlyDatabaseCache(DatabaseCache):
    """Django's database cache, except that culling never deletes an unexpired entry.

    Django's own culling, once MAX_ENTRIES is exceeded, deletes a share of the
    rows by key order, live or not: other traffic would evict a lockout.
    """

    def _cull(self, db, cursor, now, num):
        connection = connections[db]
        table = connection.ops.quote_name(self._table)
        cursor.execute(
            # Table and column names come from settings, quoted; the value is a parameter.
            f"DELETE FROM {table} WHERE {connection.ops.quote_name('expires')} < %s",  # noqa: S608
            [connection.ops.adapt_datetimefield_value(now)],
        )


def throttle_cache(default: dict) -> dict:
    """The "throttle" alias's configuration for a given default cache configuration."""
    backend = default["BACKEND"]
    if backend == "django.core.cache.backends.db.DatabaseCache":
        return {
            "BACKEND": "shopkit.cache.ExpiredOnlyDatabaseCache",
            "LOCATION": THROTTLE_TABLE,
            "OPTIONS": {"MAX_ENTRIES": THROTTLE_MAX_ENTRIES},
        }
    if backend == "django.core.cache.backends.locmem.LocMemCache":
        # Tests: a process-local cache that culls nothing a test can fill.
        return {**default, "LOCATION": THROTTLE_CACHE, "OPTIONS": {"MAX_ENTRIES": 1_000_000}}
    # Redis and the others evict nothing before its timeout (given noeviction).
    return {**default, "KEY_PREFIX": "throttle"}
