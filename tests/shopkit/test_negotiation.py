"""shopkit.negotiation: the same renderer and media type as DRF's negotiation, kept."""

import pytest
from rest_framework.exceptions import NotAcceptable
from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.renderers import JSONRenderer, StaticHTMLRenderer
from rest_framework.request import Request
from rest_framework.test import APIRequestFactory

from shopkit import negotiation
from shopkit.negotiation import KeptContentNegotiation

ACCEPT_HEADERS = [
    None,
    "*/*",
    "application/json",
    "application/json; indent=4",
    "text/html",
    "text/html, application/json;q=0.9",
    "application/*",
    "text/*;q=0.5, */*;q=0.1",
]


@pytest.fixture(autouse=True)
def nothing_kept():
    negotiation._kept.clear()
    yield
    negotiation._kept.clear()


def request(accept=None, query=""):
    headers = {"HTTP_ACCEPT": accept} if accept is not None else {}
    return Request(APIRequestFactory().get(f"/api/v1/things/{query}", **headers))


def renderers():
    return [JSONRenderer(), StaticHTMLRenderer()]


@pytest.mark.parametrize("accept", ACCEPT_HEADERS)
@pytest.mark.parametrize("query", ["", "?format=json", "?format=html"])
def test_chooses_what_drf_chooses_first_and_when_kept(accept, query):
    expected_list = renderers()
    try:
        expected, expected_type = DefaultContentNegotiation().select_renderer(
            request(accept, query), expected_list
        )
    except NotAcceptable:
        for _ in range(2):
            with pytest.raises(NotAcceptable):
                KeptContentNegotiation().select_renderer(request(accept, query), renderers())
        assert negotiation._kept == {}
        return
    for _ in range(2):  # negotiated, then kept
        candidates = renderers()
        chosen, media_type = KeptContentNegotiation().select_renderer(
            request(accept, query), candidates
        )
        assert chosen is candidates[expected_list.index(expected)]
        assert media_type == expected_type
    assert len(negotiation._kept) == 1


def test_a_refusal_is_raised_every_time_and_never_kept():
    for _ in range(2):
        with pytest.raises(NotAcceptable):
            KeptContentNegotiation().select_renderer(request("image/png"), renderers())
    assert negotiation._kept == {}


def test_long_headers_are_negotiated_but_not_kept_and_the_kept_choices_are_bounded(monkeypatch):
    long_accept = "application/json, " + "text/plain;q=0.1, " * 20
    chosen, _ = KeptContentNegotiation().select_renderer(request(long_accept), renderers())
    assert isinstance(chosen, JSONRenderer)
    assert negotiation._kept == {}

    monkeypatch.setattr(negotiation, "MAX_KEPT_CHOICES", 3)
    for quality in range(1, 6):
        KeptContentNegotiation().select_renderer(
            request(f"application/json;q=0.{quality}"), renderers()
        )
    assert [key[0] for key in negotiation._kept] == [
        f"application/json;q=0.{quality}" for quality in (3, 4, 5)
    ]
