"""CACHE_URL's options reach Django, and throttle counters stay under the shop's prefix."""

import environ

from shopkit.cache import cache_settings, throttle_cache


def parsed(url: str) -> dict:
    return cache_settings(environ.Env.cache_url_config(url))


def test_key_prefix_timeout_and_version_from_the_url_are_the_names_django_reads():
    config = parsed("redis://127.0.0.1:6379/13?key_prefix=shop-a&timeout=60&version=2")
    assert (config["KEY_PREFIX"], config["TIMEOUT"], config["VERSION"]) == ("shop-a", 60, 2)
    assert not {"key_prefix", "timeout", "version"} & set(config)


def test_two_shops_on_one_redis_count_sign_in_failures_apart():
    shop_a = throttle_cache(parsed("redis://127.0.0.1:6379/13?key_prefix=shop-a"))
    shop_b = throttle_cache(parsed("redis://127.0.0.1:6379/13?key_prefix=shop-b"))
    assert shop_a["KEY_PREFIX"] == "shop-a:throttle"
    assert shop_b["KEY_PREFIX"] == "shop-b:throttle"
    assert throttle_cache(parsed("redis://127.0.0.1:6379/0"))["KEY_PREFIX"] == "throttle"
