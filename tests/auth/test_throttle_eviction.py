"""A lockout survives a flood of other traffic, on Redis and on the embedded database cache.

Seen before: 330 failed sign-ins for other emails evicted a victim's counter from
the database cache (MAX_ENTRIES 300), so the victim's next guess got 401 instead
of 429 and the right password then got in.
"""

import time
import uuid

import pytest
from django.core.management import call_command
from django.test import override_settings
from rest_framework_simplejwt.token_blacklist.models import OutstandingToken

from shopkit.cache import THROTTLE_CACHE, THROTTLE_TABLE, throttle_cache
from tests.auth.factories import PASSWORD
from tests.support.databases import BOTH_DATABASES
from tests.support.environment import RUN_ID
from tests.support.redis_db import delete_keys, redis_url

API = "/api/v1/auth"
FLOOD = 1000
ADDRESSES = 250  # the flood comes from many client addresses: 4 failures each
REDIS_DATABASE = 12  # these tests' own number

DATABASE_CACHE = {"BACKEND": "django.core.cache.backends.db.DatabaseCache", "LOCATION": "tc"}


def redis_caches(prefix: str) -> dict:
    default = {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": redis_url(REDIS_DATABASE),
        "KEY_PREFIX": prefix,
    }
    throttle = throttle_cache(default)
    return {"default": default, THROTTLE_CACHE: {**throttle, "KEY_PREFIX": f"{prefix}-throttle"}}


@pytest.fixture(scope="module")
def throttle_table(django_db_setup, django_db_blocker):
    """The throttle table as `migrate_all` makes it (DDL outside the tests' transactions)."""
    caches = {"default": DATABASE_CACHE, THROTTLE_CACHE: throttle_cache(DATABASE_CACHE)}
    with django_db_blocker.unblock(), override_settings(CACHES=caches):
        call_command("createcachetable", database="default", verbosity=0)
    return caches


@pytest.fixture
def redis_prefix():
    """A key prefix of this test's own on the test Redis; its keys are deleted afterwards."""
    prefix = f"test-{RUN_ID or 'run'}-{uuid.uuid4().hex[:8]}"
    yield prefix
    delete_keys(REDIS_DATABASE, prefix)


@pytest.fixture(params=["redis", "database"])
def throttle_caches(request):
    if request.param == "redis":
        return redis_caches(request.getfixturevalue("redis_prefix"))
    return request.getfixturevalue("throttle_table")


def sign_in(api_client, email, password, address):
    return api_client.post(
        f"{API}/token/", {"email": email, "password": password}, HTTP_X_FORWARDED_FOR=address
    )


@pytest.mark.django_db(databases=BOTH_DATABASES)
def test_a_flood_of_failed_sign_ins_for_other_emails_does_not_evict_a_lockout(
    api_client, user, settings, throttle_caches
):
    settings.CACHES = throttle_caches
    # A window that outlasts the flood however slow the machine (the default 5/min
    # could expire during it, and the test would prove nothing).
    rates = settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {**rates, "login_email": "5/hour"},
    }
    attacker = "203.0.113.7"
    for _ in range(5):
        assert sign_in(api_client, user.email, "wrong", attacker).status_code == 401
    assert sign_in(api_client, user.email, "wrong", attacker).status_code == 429

    for n in range(FLOOD):
        address = f"10.0.{n % ADDRESSES}.9"
        response = sign_in(api_client, f"other{n}@example.com", "wrong", address)
        assert response.status_code == 401, (n, response.content)

    # Another guess and the right password, from a fresh address: still locked out.
    assert sign_in(api_client, user.email, "wrong", "198.51.100.1").status_code == 429
    response = sign_in(api_client, user.email, PASSWORD, "198.51.100.2")
    assert response.status_code == 429, response.content
    assert response.json()["code"] == "throttled"
    assert not OutstandingToken.objects.filter(user=user).exists()


@pytest.mark.django_db(databases=BOTH_DATABASES)
def test_the_throttle_table_culls_expired_rows_only(throttle_table, settings):
    """Over MAX_ENTRIES, Django's database cache deletes a share of *all* rows; the
    throttle table's deletes the expired ones and keeps every live counter."""
    settings.CACHES = {
        **throttle_table,
        THROTTLE_CACHE: {**throttle_table[THROTTLE_CACHE], "OPTIONS": {"MAX_ENTRIES": 10}},
    }
    from django.core.cache import caches
    from django.db import connection

    throttle = caches[THROTTLE_CACHE]
    throttle.set_many({f"old-{n}": [n] for n in range(5)}, timeout=1)
    time.sleep(2.1)  # the table stores whole seconds
    throttle.set_many({f"live-{n}": [n] for n in range(30)}, timeout=60)  # 3x MAX_ENTRIES

    assert throttle.get_many([f"live-{n}" for n in range(30)]) == {
        f"live-{n}": [n] for n in range(30)
    }
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT cache_key FROM {THROTTLE_TABLE}")
        keys = sorted(row[0].rsplit(":", 1)[-1] for row in cursor.fetchall())
    assert keys == sorted(f"live-{n}" for n in range(30))  # the expired rows are gone
