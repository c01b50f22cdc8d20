"""auth's revocation list as seen by cart and orders in their unit tests.

`revocations` (autouse in those suites) stands in for the auth neighbour:
tests put `{user_id: not_before}` in `revocations.entries`, or set
`revocations.reachable = False` to play an auth that does not answer. Every
test starts with an empty list and a process copy that has never fetched.
"""

import pytest


class FakeRevocationSource:
    def __init__(self):
        self.entries: dict[int, int] = {}
        self.reachable = True
        self.calls = 0

    def __call__(self) -> dict[int, int]:
        from shopkit.errors import ServiceUnavailable

        self.calls += 1
        if not self.reachable:
            raise ServiceUnavailable("auth is down (test)")
        return dict(self.entries)


@pytest.fixture(autouse=True)
def revocations(monkeypatch):
    from shopkit import revocation

    source = FakeRevocationSource()
    monkeypatch.setattr(revocation, "fetch_revocations", source)
    revocation.revocation_list.reset()
    yield source
    revocation.revocation_list.reset()
