"""DRF throttles whose counters live in the "throttle" cache (shopkit.cache), which
other traffic cannot evict and every worker and replica shares."""

from django.core.cache import caches
from django.utils.connection import ConnectionProxy
from rest_framework import throttling

from shopkit.cache import THROTTLE_CACHE


class ThrottleCacheMixin:
    cache = ConnectionProxy(caches, THROTTLE_CACHE)


class AnonRateThrottle(ThrottleCacheMixin, throttling.AnonRateThrottle):
    """THROTTLE_ANON_RATE per client address."""


class UserRateThrottle(ThrottleCacheMixin, throttling.UserRateThrottle):
    """THROTTLE_USER_RATE per signed-in user."""
