"""Who the client is, and the throttles every service shares.

`client_address()`: the peer's address, unless the peer is one of
TRUSTED_PROXIES (the gateway); then X-Forwarded-For is read from the right,
skipping trusted proxies, and the first address that is not one is the client.
From anyone else X-Forwarded-For is ignored: a client talking to a service port
directly cannot pick the address its failed sign-ins are counted under.

`SignInFailures`: the failed sign-in counters (per email, per client address)
that auth's token endpoint and password change and the four admin login forms
share. Every counter lives in the "throttle" cache (shopkit.cache), which other
traffic cannot evict and which all four services and their replicas share (Redis,
or a table of its own in auth_db), so a lockout from either side holds on both.
Rates: `login_email` and `login_ip` in REST_FRAMEWORK's DEFAULT_THROTTLE_RATES
(env THROTTLE_LOGIN_EMAIL_RATE, THROTTLE_LOGIN_IP_RATE), read when used.
"""

import hashlib
import ipaddress
import math
from functools import cache

from django.conf import settings
from django.core.cache import caches
from django.utils.connection import ConnectionProxy
from rest_framework import throttling
from rest_framework.exceptions import Throttled
from rest_framework.settings import api_settings

from shopkit.cache import THROTTLE_CACHE


@cache
def _trusted_networks(configured: tuple[str, ...]):
    return tuple(ipaddress.ip_network(value.strip(), strict=False) for value in configured)


def _is_trusted(address: str) -> bool:
    try:
        ip = ipaddress.ip_address(address.strip())
    except ValueError:
        return False
    return any(ip in network for network in _trusted_networks(tuple(settings.TRUSTED_PROXIES)))


def client_address(request) -> str:
    """The client's address, trusting X-Forwarded-For only from TRUSTED_PROXIES."""
    meta = getattr(request, "META", {})
    peer = meta.get("REMOTE_ADDR", "") or ""
    if not _is_trusted(peer):
        return peer
    forwarded = [hop.strip() for hop in meta.get("HTTP_X_FORWARDED_FOR", "").split(",")]
    for hop in reversed([hop for hop in forwarded if hop]):
        if not _is_trusted(hop):
            try:
                return str(ipaddress.ip_address(hop))
            except ValueError:
                return peer  # a proxy we trust passed on garbage: count it under the proxy
    return peer


def digest(value: str | None) -> str:
    # Fixed-length keys: an email or an address can be long (the cache table's
    # key column holds 255 characters) or carry characters memcached refuses.
    return hashlib.sha256((value or "").encode()).hexdigest()


class ThrottleCacheMixin:
    cache = ConnectionProxy(caches, THROTTLE_CACHE)


class ClientAddressMixin:
    """DRF throttles identify anonymous clients by `client_address()`."""

    def get_ident(self, request):
        return client_address(request)


class AnonRateThrottle(ThrottleCacheMixin, ClientAddressMixin, throttling.AnonRateThrottle):
    """THROTTLE_ANON_RATE per client address."""


class UserRateThrottle(ThrottleCacheMixin, ClientAddressMixin, throttling.UserRateThrottle):
    """THROTTLE_USER_RATE per signed-in user."""


class RatesFromSettingsMixin(ThrottleCacheMixin):
    """Rates read when used (tests change them), counted in the throttle cache."""

    def get_rate(self):
        return api_settings.DEFAULT_THROTTLE_RATES.get(self.scope)


class FailedSignInThrottle(RatesFromSettingsMixin, throttling.SimpleRateThrottle):
    """Counts failures only: `allow_request` checks, `record_failure` counts."""

    def __init__(self, *, scope: str, ident: str):
        self.scope = scope
        self.ident = ident
        super().__init__()

    def get_cache_key(self, request=None, view=None):
        return self.cache_format % {"scope": self.scope, "ident": self.ident}

    def throttle_success(self):
        return True  # a permitted attempt is not a failure (yet)

    def wait(self):
        # Allowed again once the failure that keeps the count full leaves the window.
        blocking = self.history[self.num_requests - 1]
        return max(self.duration - (self.now - blocking), 1)

    def record_failure(self) -> None:
        if self.rate is None:
            return
        key, now = self.get_cache_key(), self.timer()
        history = [moment for moment in self.cache.get(key, []) if moment > now - self.duration]
        self.cache.set(key, [now, *history], self.duration)


class SignInFailures:
    """The failed sign-in counters of one attempt: its email's and its client address's.

    While either is full, every attempt is refused (429 in the API, a form error
    in the admins), even one with the right password: otherwise the block would
    not stop the guessing. A success counts nothing and resets nothing (no one
    can clear an address's count by signing in to an account of their own);
    counts fall off as the window slides.
    """

    def __init__(self, request, *, email: str):
        self.throttles = [
            FailedSignInThrottle(scope="login_email", ident=digest(email.strip().lower())),
            FailedSignInThrottle(scope="login_ip", ident=digest(client_address(request))),
        ]

    def wait(self) -> float | None:
        """Seconds until a new attempt is allowed, or None when it is allowed now."""
        waits = [t.wait() for t in self.throttles if not t.allow_request(None, None)]
        return max(waits) if waits else None

    def check(self) -> None:
        """Raise Throttled (429 with Retry-After) when too many attempts failed lately."""
        wait = self.wait()
        if wait is not None:
            raise Throttled(wait=wait)

    def record_failure(self) -> None:
        for throttle in self.throttles:
            throttle.record_failure()


def minutes_to_wait(seconds: float) -> int:
    return max(1, math.ceil(seconds / 60))
