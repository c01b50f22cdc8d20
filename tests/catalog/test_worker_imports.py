"""What a catalog worker imports: not what only tests or other services use (its RSS)."""

import json
import os
import subprocess
import sys
from pathlib import Path

from shopkit.address import COUNTRY_MESSAGE

CATALOG_SITE = Path(__file__).resolve().parents[2] / "catalog_site"

PROBE = """
import json, sys
import catalog_site.wsgi
from django.urls import resolve
resolve("/api/v1/catalog/products/")
import catalog.admin, catalog.apis
before = {name: name in sys.modules for name in ("requests", "phonenumbers", "shopkit.address")}
import rest_framework.compat
import requests  # still importable, and the real one, when something needs it
from catalog.serializers import DestinationSerializer
bad = DestinationSerializer(data={"country": "XX"})
good = DestinationSerializer(data={"country": "ES"})
print(json.dumps({
    "before": before,
    "requests": hasattr(requests, "get"),
    "drf_requests": rest_framework.compat.requests is None,
    "bad": bad.is_valid() or bad.errors["country"][0],
    "good": good.is_valid(),
}))
"""


def test_the_worker_loads_neither_requests_nor_phonenumbers_until_needed(tmp_path):
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("DJANGO_", "ECOMMERCE_", "AUTH_", "DATABASE"))
    }
    env.update(DJANGO_DEBUG="1", VAR_DIR=str(tmp_path), PYTHONPATH=str(CATALOG_SITE))
    result = subprocess.run(
        [sys.executable, "-c", PROBE],
        cwd=CATALOG_SITE,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    answer = json.loads(result.stdout.strip().splitlines()[-1])
    assert answer["before"] == {"requests": False, "phonenumbers": False, "shopkit.address": False}
    assert answer["requests"] and answer["drf_requests"]
    assert answer["good"] is True
    assert answer["bad"] == COUNTRY_MESSAGE  # the same message as before
