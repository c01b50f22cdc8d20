"""The one JSON parser of the four APIs: malformed, too deep or non-standard JSON is a 400.

Python's decoder recurses once per nesting level, so a body of 1,000 `[` used to
reach the interpreter's recursion limit and end as a 500. Bodies deeper than
MAX_JSON_DEPTH (far beyond any document a Tienda API takes) are refused before
they are decoded, and anything the decoder still chokes on becomes the same
`invalid_json` problem.
"""

import codecs
import json

from django.conf import settings
from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser

MAX_JSON_DEPTH = 32


class InvalidJson(ParseError):
    default_detail = "The body is not valid JSON."
    default_code = "invalid_json"


def _refuse_constant(name: str):
    raise ValueError(f"{name} is not valid JSON")  # NaN, Infinity: json.loads accepts them


def json_nesting_depth(text: str) -> int:
    """The deepest nesting of arrays and objects in a JSON text, without decoding it.

    Brackets inside strings do not count (escapes are followed); malformed text
    gets some depth back and is refused by the decoder afterwards.
    """
    depth = deepest = 0
    in_string = escaped = False
    for char in text:
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif char in "]}":
            depth -= 1
    return deepest


def json_loads_strict(text: str, *, max_depth: int = MAX_JSON_DEPTH):
    """Decode a JSON text or raise InvalidJson (also for NaN/Infinity and deep nesting)."""
    # Quick exit for the usual small body; the scan is only needed when many brackets exist.
    if text.count("[") + text.count("{") > max_depth and json_nesting_depth(text) > max_depth:
        raise InvalidJson(f"The JSON is nested more than {max_depth} levels deep.")
    try:
        return json.loads(text, parse_constant=_refuse_constant)
    except (ValueError, RecursionError) as exc:
        raise InvalidJson(f"The body is not valid JSON: {exc}"[:300])


class StrictJSONParser(JSONParser):
    """DRF's JSONParser with the limits above; every parse error is `invalid_json`."""

    def parse(self, stream, media_type=None, parser_context=None):
        parser_context = parser_context or {}
        encoding = parser_context.get("encoding", settings.DEFAULT_CHARSET)
        try:
            text = codecs.getreader(encoding)(stream).read()
        except (UnicodeDecodeError, LookupError) as exc:
            raise InvalidJson(f"The body is not valid {encoding}: {exc}"[:300])
        return json_loads_strict(text)
