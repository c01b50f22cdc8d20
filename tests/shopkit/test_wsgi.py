"""What a service's worker imports: not `requests`, which only tests and jobs use (RSS)."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO_DIR = Path(__file__).resolve().parents[2]

PROBE = """
import json, sys
from importlib import import_module
import_module(sys.argv[1] + "_site.wsgi")
from django.urls import get_resolver
get_resolver().url_patterns  # the URLconf and every view it imports, as a worker has
loaded = "requests" in sys.modules
import rest_framework.compat
import requests  # still importable, and the real one, when something needs it
print(json.dumps({
    "loaded": loaded,
    "requests": hasattr(requests, "get"),
    "drf_requests": rest_framework.compat.requests is None,
}))
"""


@pytest.mark.parametrize("service", ["auth", "catalog", "cart", "orders"])
def test_a_worker_does_not_load_requests(service, tmp_path):
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("DJANGO_", "ECOMMERCE_", "AUTH_", "DATABASE"))
    }
    site = REPO_DIR / f"{service}_site"
    env.update(DJANGO_DEBUG="1", VAR_DIR=str(tmp_path), PYTHONPATH=str(site))
    result = subprocess.run(
        [sys.executable, "-c", PROBE, service],
        cwd=site,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    answer = json.loads(result.stdout.strip().splitlines()[-1])
    assert answer == {"loaded": False, "requests": True, "drf_requests": True}
