"""shopkit.revocation.RevocationList under threads: a new process's first fetch."""

import threading
import time

import pytest

from shopkit import revocation


@pytest.fixture
def slow_auth(monkeypatch):
    calls = []

    def fetch():
        calls.append(time.monotonic())
        time.sleep(0.3)  # auth answering slowly, as under load
        return {5: 100}

    monkeypatch.setattr(revocation, "fetch_revocations", fetch)
    revocation.revocation_list.reset()
    yield calls
    revocation.revocation_list.reset()


def test_concurrent_first_writes_wait_for_the_first_fetch_instead_of_failing(slow_auth):
    """Regression: threads arriving while a new process's first fetch was in flight
    answered 503 revocations_unavailable (50 parallel checkouts: all but 2 refused)."""
    outcomes = []
    start = threading.Barrier(8)

    def write():
        start.wait()
        try:
            revocation.revocation_list.check(user_id=1, issued_at=200, method="POST")
            outcomes.append("ok")
        except Exception as exc:  # the outcome is what is asserted
            outcomes.append(type(exc).__name__)

    threads = [threading.Thread(target=write) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert outcomes == ["ok"] * 8
    assert len(slow_auth) == 1  # one fetch for all of them


def test_a_listed_user_is_refused_once_the_list_is_in(slow_auth):
    with pytest.raises(revocation.TokenRevoked):
        revocation.revocation_list.check(user_id=5, issued_at=99, method="GET")
    revocation.revocation_list.check(user_id=5, issued_at=100, method="GET")  # same second: valid
