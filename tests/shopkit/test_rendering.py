"""shopkit.rendering: kept JSON texts are the bytes DRF's JSONRenderer writes."""

from datetime import UTC, datetime
from decimal import Decimal

import pytest
from rest_framework.renderers import JSONRenderer
from rest_framework.test import APIRequestFactory

from shopkit.rendering import KeptJson, accepts_plain_json, json_response, render_json


def shape(row):
    return {"id": row["id"], "name": row["name"], "price": str(row["price"])}


@pytest.mark.parametrize(
    "data",
    [
        {"name": "Ñandú «x» \u2028 \u2029 \u2603", "n": 1, "none": None, "ok": True},
        {"when": datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC), "price": Decimal("1.50")},
        [],
    ],
)
def test_render_json_is_jsonrenderer(data):
    assert render_json(data) == JSONRenderer().render(data)


def test_kept_texts_follow_the_row():
    made = []
    kept = KeptJson(lambda row: made.append(row["id"]) or shape(row), kept=10)
    row = {"id": 1, "name": "Kettle", "price": Decimal("10.00")}
    assert kept(row) == render_json(shape(row))
    assert kept(dict(row)) == render_json(shape(row)) and made == [1]  # kept
    changed = {**row, "price": Decimal("12.00")}
    assert kept(changed) == render_json(shape(changed)) and made == [1, 1]  # a new row
    kept.forget()
    kept(row)
    assert made == [1, 1, 1]


def test_kept_texts_are_bounded_oldest_first():
    kept = KeptJson(shape, kept=2)
    rows = [{"id": n, "name": "x", "price": Decimal(n)} for n in range(3)]
    for row in rows:
        kept(row)
    assert list(kept._texts) == [tuple(row.values()) for row in rows[1:]]


class RawRows:
    """What KeptJson.from_raw needs of its rows' source (a PreparedPages)."""

    columns = ("id", "name", "price")

    def __init__(self):
        self.converted = []

    def as_dict(self, raw):
        self.converted.append(raw[0])
        return dict(zip(self.columns, raw, strict=True))


def test_raw_rows_are_kept_by_their_tuple_and_converted_only_once():
    made = []
    kept = KeptJson(lambda row: made.append(row["id"]) or shape(row), kept=10)
    rows = RawRows()
    raw = (1, "Kettle", Decimal("10.00"))
    text = render_json(shape(dict(zip(RawRows.columns, raw, strict=True))))
    assert kept.from_raw(raw, rows) == text
    assert kept.from_raw((1, "Kettle", Decimal("10.00")), rows) == text
    assert rows.converted == [1] and made == [1]  # the second one was kept
    changed = (1, "Kettle", Decimal("12.00"))
    assert kept.from_raw(changed, rows) == render_json(
        shape(dict(zip(RawRows.columns, changed, strict=True)))
    )
    assert rows.converted == [1, 1]  # a changed value is a new row
    # A dict row of the same values is kept apart (its converters may differ).
    kept({"id": 1, "name": "Kettle", "price": Decimal("10.00")})
    assert made == [1, 1, 1] and len(kept._texts) == 3


def test_raw_and_dict_rows_share_the_bound():
    kept = KeptJson(shape, kept=2)
    rows = RawRows()
    kept.from_raw((1, "a", Decimal(1)), rows)
    kept({"id": 2, "name": "b", "price": Decimal(2)})
    kept.from_raw((3, "c", Decimal(3)), rows)
    assert list(kept._texts) == [(2, "b", Decimal(2)), (RawRows.columns, (3, "c", Decimal(3)))]


@pytest.mark.parametrize(
    ("accept", "plain"),
    [
        (None, True),
        ("application/json", True),
        ("*/*", True),
        ("application/json; indent=4", False),
    ],
)
def test_plain_json_unless_asked_for_indentation(accept, plain):
    from rest_framework.negotiation import DefaultContentNegotiation
    from rest_framework.request import Request

    headers = {"HTTP_ACCEPT": accept} if accept else {}
    request = Request(APIRequestFactory().get("/", **headers))
    renderer, media_type = DefaultContentNegotiation().select_renderer(request, [JSONRenderer()])
    request.accepted_renderer, request.accepted_media_type = renderer, media_type
    assert accepts_plain_json(request) is plain


def test_json_response_is_headed_as_drf_heads_json():
    response = json_response(b"{}")
    assert response.status_code == 200 and response.content == b"{}"
    assert response["Content-Type"] == "application/json"
