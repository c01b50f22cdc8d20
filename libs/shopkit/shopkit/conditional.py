"""Conditional GETs: an ETag from the answer's bytes, and 304 Not Modified to a match."""

import hashlib

from django.utils.cache import get_conditional_response
from django.utils.http import quote_etag


def with_etag(request, response):
    """Render `response`, tag it with a strong ETag of its body; 304 when If-None-Match matches.

    Only for 200 answers to GET/HEAD. The tag is a hash of the exact bytes, so it
    changes with anything the client sees (price, stock, fields) and nothing else;
    If-None-Match compares weakly (RFC 9110), so the W/ tag that gzip in the
    gateway makes of it still matches.
    """
    if request.method not in ("GET", "HEAD") or response.status_code != 200:
        return response
    if hasattr(response, "render") and not response.is_rendered:
        response.render()
    etag = quote_etag(hashlib.blake2b(response.content, digest_size=16).hexdigest())
    response["ETag"] = etag
    return get_conditional_response(request, etag=etag, response=response)
