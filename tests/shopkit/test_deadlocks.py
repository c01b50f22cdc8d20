"""shopkit.deadlocks.retried: a statement InnoDB refused as a deadlock victim runs again."""

import pytest
from django.db import OperationalError, transaction

from shopkit import deadlocks


@pytest.fixture(autouse=True)
def no_pauses(monkeypatch):
    monkeypatch.setattr(deadlocks.time, "sleep", lambda seconds: None)


def refused(times: int, code: int = 1213):
    """A statement the database refuses `times` times with `code`, then runs."""
    runs = []

    def statement():
        runs.append(1)
        if len(runs) <= times:
            raise OperationalError(code, "refused")
        return "done"

    return statement, runs


@pytest.mark.parametrize("code", [1213, 1205])  # deadlock found, lock wait timeout
def test_a_refused_statement_runs_again_until_it_goes_through(code):
    statement, runs = refused(2, code)
    assert deadlocks.retried(statement) == "done"
    assert len(runs) == 3


def test_it_gives_up_after_its_attempts():
    statement, runs = refused(deadlocks.STATEMENT_ATTEMPTS)
    with pytest.raises(OperationalError):
        deadlocks.retried(statement)
    assert len(runs) == deadlocks.STATEMENT_ATTEMPTS


def test_other_errors_are_not_retried():
    statement, runs = refused(1, code=2006)  # server gone away
    with pytest.raises(OperationalError):
        deadlocks.retried(statement)
    assert len(runs) == 1


@pytest.mark.django_db(transaction=True)
def test_not_inside_a_callers_transaction_which_the_database_rolled_back_whole():
    statement, runs = refused(1)
    with pytest.raises(OperationalError), transaction.atomic():
        deadlocks.retried(statement, using="default")
    assert len(runs) == 1
    assert deadlocks.retried(refused(1)[0], using="default") == "done"  # outside: retried
