"""What a catalog worker imports: not what only some calls use (its RSS).

`requests` is covered for every service by tests/shopkit/test_wsgi.py.
"""

from shopkit.address import COUNTRY_MESSAGE
from tests.support.worker import run_in_worker

PROBE = """
import json, sys
import catalog_site.wsgi
from django.urls import resolve
resolve("/api/v1/catalog/products/")
import catalog.admin, catalog.apis
before = {name: name in sys.modules for name in ("phonenumbers", "shopkit.address")}
from catalog.serializers import DestinationSerializer
bad = DestinationSerializer(data={"country": "XX"})
good = DestinationSerializer(data={"country": "ES"})
print(json.dumps({
    "before": before,
    "bad": bad.is_valid() or bad.errors["country"][0],
    "good": good.is_valid(),
}))
"""


def test_the_worker_loads_phonenumbers_only_for_a_destination(tmp_path):
    answer = run_in_worker("catalog", PROBE, tmp_path)
    assert answer["before"] == {"phonenumbers": False, "shopkit.address": False}
    assert answer["good"] is True
    assert answer["bad"] == COUNTRY_MESSAGE  # the same message as before
