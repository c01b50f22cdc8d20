"""The test databases: Django's aliases for the in-process suites, and plain MySQLdb
connections for the suites that drive real processes (tests/system, tests/browser)."""

import MySQLdb
import MySQLdb.cursors

from shopkit.processes import MySQLServer
from tests.support.environment import TEST_MYSQL_URL

# Every service has both aliases (docs/architecture.md): auth_db and ecommerce_db.
BOTH_DATABASES = ["default", "ecommerce"]


def mysql_connection(database: str | None = None, **options):
    """A MySQLdb connection to the test server (TEST_MYSQL_URL), optionally to one database."""
    return MySQLServer.from_url(TEST_MYSQL_URL).connect(database, **options)


def recreate_databases(names) -> None:
    connection = mysql_connection()
    try:
        cursor = connection.cursor()
        for name in names:
            cursor.execute(f"DROP DATABASE IF EXISTS `{name}`")
            cursor.execute(
                f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci"
            )
    finally:
        connection.close()


def drop_databases(names) -> None:
    connection = mysql_connection()
    try:
        cursor = connection.cursor()
        for name in names:
            cursor.execute(f"DROP DATABASE IF EXISTS `{name}`")
    finally:
        connection.close()


class Database:
    """One MariaDB database, read on a fresh connection each time (never a stale snapshot)."""

    def __init__(self, name: str):
        self.name = name

    def _run(self, sql: str, params, cursorclass) -> list:
        connection = mysql_connection(
            self.name, charset="utf8mb4", autocommit=True, cursorclass=cursorclass
        )
        try:
            cursor = connection.cursor()
            cursor.execute(sql, params)
            return list(cursor.fetchall())
        finally:
            connection.close()

    def rows(self, sql: str, *params) -> list[dict]:
        return self._run(sql, params, MySQLdb.cursors.DictCursor)

    def tuples(self, sql: str, *params) -> list[tuple]:
        return self._run(sql, params, MySQLdb.cursors.Cursor)

    def execute(self, sql: str, *params) -> None:
        self._run(sql, params, MySQLdb.cursors.Cursor)

    def row(self, sql: str, *params) -> dict | None:
        rows = self.rows(sql, *params)
        assert len(rows) <= 1, rows
        return rows[0] if rows else None

    def value(self, sql: str, *params):
        row = self.row(sql, *params)
        return None if row is None else next(iter(row.values()))
