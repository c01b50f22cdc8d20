"""JSON answers rendered once and reused: the exact bytes DRF's JSONRenderer writes.

Hot reads (a product list, a product page) keep each item's JSON text and join
the texts into the answer, instead of handing DRF a structure to walk and encode
again on every request. The bytes are JSONRenderer's own (the same call), so a
client cannot tell the two apart; the views fall back to a DRF Response when the
client asked for something else (e.g. `Accept: application/json; indent=4`).
"""

import threading
from collections.abc import Callable

from django.http import HttpResponse
from rest_framework.renderers import JSONRenderer

JSON_MEDIA_TYPE = "application/json"
_RENDERER = JSONRenderer()


def render_json(data) -> bytes:
    """`data` as DRF's JSONRenderer writes it for a plain `application/json` answer."""
    return _RENDERER.render(data)


def accepts_plain_json(request) -> bool:
    """DRF's content negotiation chose JSONRenderer, without an `indent=` (which changes the text)."""
    return type(getattr(request, "accepted_renderer", None)) is JSONRenderer and (
        "indent" not in request.accepted_media_type
    )


def json_response(body: bytes, status: int = 200) -> HttpResponse:
    """An answer with this JSON text, headed as a DRF Response of JSONRenderer is."""
    return HttpResponse(body, status=status, content_type=JSON_MEDIA_TYPE)


class KeptJson:
    """`represent(row)` as JSON text, kept per process by the row it was made from.

    A row is a `.values()` dict; any change of a column is a different row, so a
    new text (nothing to invalidate). The oldest texts go first once `kept` are
    kept, so memory stays bounded.
    """

    def __init__(self, represent: Callable[[dict], dict], *, kept: int):
        self.represent = represent
        self.kept = kept
        self._texts: dict[tuple, bytes] = {}
        self._lock = threading.Lock()

    def __call__(self, row: dict) -> bytes:
        key = tuple(row.values())
        text = self._texts.get(key)
        if text is None:
            text = self._keep(key, render_json(self.represent(row)))
        return text

    def from_raw(self, raw: tuple, rows) -> bytes:
        """The text of a row given as the database driver's tuple (shopkit.prepared's
        `raw_page`), kept by that tuple and its column names: a kept row is found
        without Django's converters or a dict; `rows.as_dict(raw)` makes the row only
        for a text not kept yet. `rows` has `columns` and `as_dict` (shopkit.prepared's
        RawRows, or its PreparedPages for a page's tuples).
        """
        # (names, values): no dict row's values begin with a tuple of column names.
        key = (rows.columns, raw)
        text = self._texts.get(key)
        if text is None:
            text = self._keep(key, render_json(self.represent(rows.as_dict(raw))))
        return text

    def _keep(self, key: tuple, text: bytes) -> bytes:
        with self._lock:
            self._texts[key] = text
            while len(self._texts) > self.kept:
                del self._texts[next(iter(self._texts))]  # the oldest
        return text

    def forget(self) -> None:
        """Drop every kept text (tests that change settings)."""
        with self._lock:
            self._texts.clear()
