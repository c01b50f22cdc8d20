"""Statements InnoDB picked as a deadlock victim (or timed out waiting for a lock), run again.

InnoDB rolls such a statement back whole and asks the client to "try restarting
transaction". A statement that is its own transaction (autocommit) and that changes
rows only under conditions it checks itself (`WHERE state = 'in_progress'`) can simply
be run again: it never moves a row twice. Inside a caller's transaction it is not
retried, since the whole transaction was rolled back and only the caller can redo it.
"""

import time

from django.db import OperationalError, connections

RETRIED_ERRORS = frozenset({1213, 1205})  # MySQL/MariaDB: deadlock found, lock wait timeout
STATEMENT_ATTEMPTS = 5


def retried(statement, *, using: str | None = None):
    """`statement()`, run again (up to STATEMENT_ATTEMPTS times, with a short pause)
    while the database refuses it as a deadlock victim or after a lock wait timeout.
    With `using`, not retried while that connection is inside a transaction."""
    for attempt in range(1, STATEMENT_ATTEMPTS + 1):
        try:
            return statement()
        except OperationalError as exc:
            retry = (
                exc.args[:1]
                and exc.args[0] in RETRIED_ERRORS
                and attempt < STATEMENT_ATTEMPTS
                and not (using is not None and connections[using].in_atomic_block)
            )
            if not retry:
                raise
            time.sleep(0.02 * attempt)
    raise AssertionError("unreachable")
