"""DRF's content negotiation, its choice kept per Accept header, format and renderers.

Parsing the Accept header and matching it against each renderer's media type cost
every API request about 0.035 CPU ms, most of DRF's own work on a product read
(bench/README.md), though clients send the same few headers again and again. The
choice depends on nothing else (renderers' media types and formats are constants
of their classes), so it is kept per process; refusals (406, an unknown
`?format=`) are raised every time, as before.
"""

import threading

from rest_framework.negotiation import DefaultContentNegotiation

MAX_KEPT_CHOICES = 256
# Longer Accept headers are negotiated every time rather than kept.
MAX_KEPT_ACCEPT_LENGTH = 256

_kept: dict[tuple, tuple[int, str]] = {}
_lock = threading.Lock()


class KeptContentNegotiation(DefaultContentNegotiation):
    def select_renderer(self, request, renderers, format_suffix=None):
        accept = request.META.get("HTTP_ACCEPT", "*/*")
        format_query_param = self.settings.URL_FORMAT_OVERRIDE
        format_query = request.query_params.get(format_query_param) if format_query_param else None
        key = (accept, format_suffix, format_query, tuple(type(renderer) for renderer in renderers))
        kept = _kept.get(key)
        if kept is not None:
            index, media_type = kept
            return renderers[index], media_type
        renderer, media_type = super().select_renderer(request, renderers, format_suffix)
        if len(accept) <= MAX_KEPT_ACCEPT_LENGTH:
            index = next(i for i, candidate in enumerate(renderers) if candidate is renderer)
            with _lock:
                _kept[key] = (index, media_type)
                while len(_kept) > MAX_KEPT_CHOICES:
                    del _kept[next(iter(_kept))]  # the oldest
        return renderer, media_type
