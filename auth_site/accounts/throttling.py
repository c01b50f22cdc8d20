"""Throttles of the auth service: failed sign-ins (per email, per IP) and sign-ups (per IP).

Counters live in the "throttle" cache (Redis, or a table of their own in auth_db),
shared by every worker and replica, where other traffic cannot evict them
(shopkit.cache). Rates come from REST_FRAMEWORK's
DEFAULT_THROTTLE_RATES (env: THROTTLE_LOGIN_EMAIL_RATE, THROTTLE_LOGIN_IP_RATE,
THROTTLE_REGISTER_RATE) and are read when used, not at import.
"""

import hashlib

from rest_framework import throttling
from rest_framework.exceptions import Throttled
from rest_framework.settings import api_settings

from shopkit.throttling import ThrottleCacheMixin


def _digest(value: str | None) -> str:
    # Fixed-length keys: an email or a forwarded address can be long (the cache
    # table's key column holds 255 characters) or carry characters memcached refuses.
    return hashlib.sha256((value or "").encode()).hexdigest()


class RatesFromSettingsMixin(ThrottleCacheMixin):
    def get_rate(self):
        return api_settings.DEFAULT_THROTTLE_RATES.get(self.scope)


class RegisterThrottle(RatesFromSettingsMixin, throttling.SimpleRateThrottle):
    """Every sign-up attempt counts, per client IP."""

    scope = "register"

    def get_cache_key(self, request, view):
        return self.cache_format % {"scope": self.scope, "ident": _digest(self.get_ident(request))}


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
    """The failed sign-in counters of one attempt: its email's and its client IP's.

    While either is full, every attempt is refused with 429, even one with the
    right password: otherwise the block would not stop the guessing. A success
    counts nothing and resets nothing (no one can clear an IP's count by signing
    in to an account of their own); counts fall off as the window slides.
    """

    def __init__(self, request, *, email: str):
        client_ip = throttling.BaseThrottle().get_ident(request)  # honours NUM_PROXIES
        self.throttles = [
            FailedSignInThrottle(scope="login_email", ident=_digest(email.strip().lower())),
            FailedSignInThrottle(scope="login_ip", ident=_digest(client_ip)),
        ]

    def check(self) -> None:
        """Raise Throttled (429 with Retry-After) when too many attempts failed lately."""
        waits = [t.wait() for t in self.throttles if not t.allow_request(None, None)]
        if waits:
            raise Throttled(wait=max(waits))

    def record_failure(self) -> None:
        for throttle in self.throttles:
            throttle.record_failure()
