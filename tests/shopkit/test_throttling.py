"""shopkit.throttling.client_address: X-Forwarded-For is believed only from TRUSTED_PROXIES."""

import pytest
from django.test import RequestFactory

from shopkit.throttling import client_address


def request_from(peer, forwarded=None):
    extra = {"REMOTE_ADDR": peer}
    if forwarded is not None:
        extra["HTTP_X_FORWARDED_FOR"] = forwarded
    return RequestFactory().get("/", **extra)


@pytest.fixture(autouse=True)
def gateway_only(settings):
    settings.TRUSTED_PROXIES = ["10.0.0.5/32", "fd00::/64"]


@pytest.mark.parametrize(
    ("peer", "forwarded", "client"),
    [
        ("203.0.113.9", "198.51.100.1", "203.0.113.9"),  # a client on the service port
        ("203.0.113.9", None, "203.0.113.9"),
        ("10.0.0.5", "198.51.100.1", "198.51.100.1"),  # the gateway names the client
        ("10.0.0.5", "6.6.6.6, 198.51.100.1", "198.51.100.1"),  # a forged left part
        ("10.0.0.5", "198.51.100.1, 10.0.0.5", "198.51.100.1"),  # trusted hops skipped
        ("10.0.0.5", None, "10.0.0.5"),
        ("10.0.0.5", "not-an-address", "10.0.0.5"),
        ("fd00::1", "2001:db8::7", "2001:db8::7"),
        ("10.0.0.6", "198.51.100.1", "10.0.0.6"),  # next to the gateway is not the gateway
    ],
)
def test_client_address(peer, forwarded, client):
    assert client_address(request_from(peer, forwarded)) == client


def test_loopback_is_trusted_by_default_for_make_run():
    from shopkit import settings as base

    assert base.TRUSTED_PROXIES == ["127.0.0.1/32", "::1/128"]
