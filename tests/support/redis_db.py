"""The Redis the tests use (TEST_REDIS_URL; `make redis` starts one): each suite takes a
database number of its own and a key prefix per run, and deletes its keys afterwards."""

import os

import redis

TEST_REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379").rstrip("/")


def redis_url(database: int) -> str:
    return f"{TEST_REDIS_URL}/{database}"


def delete_keys(database: int, prefix: str) -> None:
    """Delete every key holding `prefix` (Django's key prefix) in `database`."""
    client = redis.Redis.from_url(redis_url(database))
    for key in client.scan_iter(f"*{prefix}*"):
        client.delete(key)
