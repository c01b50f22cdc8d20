"""What a service's worker imports: not `requests`, which only tests and jobs use (RSS)."""

import pytest

from tests.support.worker import run_in_worker

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
    answer = run_in_worker(service, PROBE, tmp_path)
    assert answer == {"loaded": False, "requests": True, "drf_requests": True}
