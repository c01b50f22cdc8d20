"""Conditional GETs: an ETag from the answer's bytes, and 304 Not Modified to a match;
how long a shared cache may answer an anonymous read stale while it refreshes it."""

import hashlib

from django.utils.cache import get_conditional_response, patch_cache_control
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


# How long past its expiry the gateway's cache tier may answer an anonymous read from
# an expired entry while one request refreshes it (nginx honours the answer's
# stale-while-revalidate; gateway_nginx/render.py). Past that a read waits for the
# fresh answer, so a page nobody read for a while never shows an old price.
STALE_WHILE_REVALIDATE_SECONDS = 1


def with_stale_while_revalidate(request, response):
    """`Cache-Control: stale-while-revalidate=N` on 200 answers to anonymous GET/HEAD."""
    if (
        request.method in ("GET", "HEAD")
        and response.status_code == 200
        and not request.user.is_authenticated
    ):
        patch_cache_control(response, stale_while_revalidate=STALE_WHILE_REVALIDATE_SECONDS)
    return response
