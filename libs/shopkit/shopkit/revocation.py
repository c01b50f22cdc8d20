"""Revoked access tokens, refused without a call to auth per request.

auth records a revocation (user id + "not before", epoch seconds) whenever an
account is deactivated, deleted or its password changes, and publishes the
recent ones on `GET /internal/auth/revocations/`. Each process of a service that
uses `RevocationCheckingJWTAuthentication` keeps that list in memory and
fetches it again when it is older than TOKEN_REVOCATION_REFRESH_SECONDS (one
short call every few seconds per process, made by the first request that finds
the list due; other threads meanwhile use the list they have, or wait for that
fetch when they have none). A token whose
`iat` is before its user's `not_before` is refused with 401 `token_revoked`.

When auth cannot be reached the last list stays in use. Once no fetch has
succeeded for TOKEN_REVOCATION_MAX_AGE_SECONDS, writes (anything but GET, HEAD,
OPTIONS) of signed-in callers are refused with 503 `revocations_unavailable`
(fail closed: a revoked account must not buy or change anything for as long as
auth is down), while reads go on with the last list (fail open: they only show
the caller's own cart or orders, and a shop that cannot even show a cart while
auth restarts would be worse).
"""

import logging
import threading
import time

from django.conf import settings
from rest_framework.exceptions import APIException, AuthenticationFailed

from shopkit.jwt import ShopStatelessJWTAuthentication

logger = logging.getLogger("shopkit.revocation")

REVOCATIONS_PATH = "/internal/auth/revocations/"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


class TokenRevoked(AuthenticationFailed):
    default_detail = "This token was revoked (password changed or account closed); sign in again."
    default_code = "token_revoked"


class RevocationsUnavailable(APIException):
    status_code = 503
    default_detail = "Signed-in changes are paused: the list of revoked tokens is out of date."
    default_code = "revocations_unavailable"


def fetch_revocations() -> dict[int, int]:
    """{user_id: not_before} from auth (raises ServiceUnavailable when it does not answer)."""
    # Imported here: shopkit.errors imports DRF's views, which import this module.
    from shopkit.client import ServiceClient
    from shopkit.errors import ServiceUnavailable

    client = ServiceClient(
        "auth",
        settings.SERVICE_URLS["auth"],
        connect_timeout=settings.TOKEN_REVOCATION_TIMEOUT,
        read_timeout=settings.TOKEN_REVOCATION_TIMEOUT,
        retries=0,
    )
    try:
        response = client.get(REVOCATIONS_PATH)
    finally:
        client.close()  # a client per fetch (its own timeouts): no connection left open
    if response.status_code != 200:
        raise ServiceUnavailable(f"auth answered {response.status_code} for the revocations")
    return {
        int(entry["user_id"]): int(entry["not_before"]) for entry in response.json()["revocations"]
    }


class RevocationList:
    """This process's copy of auth's revocation list."""

    def __init__(self):
        self._not_before: dict[int, int] = {}
        self._fetched_at: float | None = None  # monotonic time of the last success
        self._attempted_at: float | None = None  # of the last try, failed or not
        self._lock = threading.Lock()

    def reset(self) -> None:
        with self._lock:
            self._not_before, self._fetched_at, self._attempted_at = {}, None, None

    def _refresh_if_due(self) -> None:
        interval = settings.TOKEN_REVOCATION_REFRESH_SECONDS

        def attempted_lately() -> bool:
            return (
                self._attempted_at is not None and time.monotonic() - self._attempted_at < interval
            )

        stale = self.is_stale()
        if attempted_lately() and not stale:
            return
        # A usable list: one thread fetches, the others go on with it. No usable list
        # (a new process, or auth away too long): wait for the fetch under way, if any.
        if not self._lock.acquire(blocking=stale):
            return
        try:
            if attempted_lately():
                return  # fetched (or failed) while this thread waited
            self._attempted_at = time.monotonic()
            try:
                not_before = fetch_revocations()
            except Exception as exc:  # any failure: keep the list we have
                logger.warning("revocation list not refreshed", extra={"failure": str(exc)})
                return
            self._not_before, self._fetched_at = not_before, time.monotonic()
        finally:
            self._lock.release()

    def is_stale(self) -> bool:
        max_age = settings.TOKEN_REVOCATION_MAX_AGE_SECONDS
        return self._fetched_at is None or time.monotonic() - self._fetched_at > max_age

    def check(self, *, user_id: int, issued_at: int | None, method: str) -> None:
        """Raise TokenRevoked or RevocationsUnavailable; return when the token may be used."""
        self._refresh_if_due()
        if method not in SAFE_METHODS and self.is_stale():
            raise RevocationsUnavailable()
        not_before = self._not_before.get(user_id)
        if not_before is not None and (issued_at is None or issued_at < not_before):
            raise TokenRevoked()


revocation_list = RevocationList()


class RevocationCheckingJWTAuthentication(ShopStatelessJWTAuthentication):
    """The stateless token check plus auth's revocation list (cart and orders).

    Configure it as DEFAULT_AUTHENTICATION_CLASSES; views that read no token
    (authentication_classes = []) are untouched.
    """

    def authenticate(self, request):
        result = super().authenticate(request)
        if result is not None:
            user, token = result
            revocation_list.check(
                user_id=user.id, issued_at=token.payload.get("iat"), method=request.method
            )
        return result
