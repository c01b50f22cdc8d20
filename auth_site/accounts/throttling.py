"""Throttles of the auth service: sign-ups per client address, email changes per user.

Failed sign-ins (per email and per address) are counted by shopkit.throttling's
SignInFailures, shared with the four admin login forms. Counters live in the
"throttle" cache (Redis, or a table of their own in auth_db), shared by every
worker and replica, where other traffic cannot evict them (shopkit.cache). Rates come from REST_FRAMEWORK's
DEFAULT_THROTTLE_RATES (env: THROTTLE_REGISTER_RATE, THROTTLE_EMAIL_CHANGE_RATE)
and are read when used, not at import.
"""

from rest_framework import throttling

from shopkit.throttling import RatesFromSettingsMixin, SignInFailures, client_address, digest

__all__ = ["EmailChangeThrottle", "PasswordResetThrottle", "RegisterThrottle", "SignInFailures"]


class RegisterThrottle(RatesFromSettingsMixin, throttling.SimpleRateThrottle):
    """Every sign-up attempt counts, per client address (a duplicate email tells that
    the account exists, so trying emails is as limited as signing up)."""

    scope = "register"

    def get_cache_key(self, request, view):
        return self.cache_format % {"scope": self.scope, "ident": digest(client_address(request))}


class EmailChangeThrottle(RatesFromSettingsMixin, throttling.SimpleRateThrottle):
    """Every attempt to change the email counts, per user and per client address:
    `email_taken` tells that another account uses the email, so trying many emails
    is limited like signing up. Other edits of the profile are not counted."""

    scope = "email_change"

    def allow_request(self, request, view):
        if request.method != "PATCH" or not isinstance(request.data, dict):
            return True
        if "email" not in request.data:
            return True
        self.rate = self.get_rate()
        if self.rate is None:
            return True
        self.num_requests, self.duration = self.parse_rate(self.rate)
        return all(
            self._allow(key)
            for key in (f"user-{request.user.pk}", f"ip-{digest(client_address(request))}")
        )

    def _allow(self, ident: str) -> bool:
        self.key = self.cache_format % {"scope": self.scope, "ident": ident}
        self.history = self.cache.get(self.key, [])
        self.now = self.timer()
        while self.history and self.history[-1] <= self.now - self.duration:
            self.history.pop()
        if len(self.history) >= self.num_requests:
            return self.throttle_failure()
        return self.throttle_success()


class PasswordResetThrottle(RatesFromSettingsMixin, throttling.SimpleRateThrottle):
    """Every reset request counts, per client address (password_reset_ip) and per email
    asked for (password_reset_email): nobody floods a mailbox, nor probes many emails.
    Counted whether or not an account uses the email, so the limit reveals nothing."""

    scope = "password_reset_ip"

    def allow_request(self, request, view):
        checks = [("password_reset_ip", client_address(request))]
        email = request.data.get("email") if isinstance(request.data, dict) else None
        if isinstance(email, str) and email.strip():
            checks.append(("password_reset_email", email.strip().lower()))
        for scope, ident in checks:
            self.scope = scope
            self.rate = self.get_rate()
            if self.rate is None:
                continue
            self.num_requests, self.duration = self.parse_rate(self.rate)
            self.key = self.cache_format % {"scope": scope, "ident": digest(ident)}
            self.history = self.cache.get(self.key, [])
            self.now = self.timer()
            while self.history and self.history[-1] <= self.now - self.duration:
                self.history.pop()
            if len(self.history) >= self.num_requests:
                return self.throttle_failure()
            self.throttle_success()
        return True
