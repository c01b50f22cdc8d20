"""The one check that a response is an RFC 9457 problem document, for every suite.

Works on Django test client responses and on `requests` responses alike (both have
`status_code`, `headers` and `json()`).
"""

PROBLEM_CONTENT_TYPE = "application/problem+json"
PROBLEM_TYPE_PREFIX = "urn:tienda:problem:"


def _text(response) -> str:
    text = getattr(response, "text", None)
    if isinstance(text, str):
        return text
    return response.content.decode(errors="replace")


def assert_problem(response, status: int, code: str | None = None) -> dict:
    """The response is a problem document with this status (and this code); returns its body.

    Every problem has `type` (`urn:tienda:problem:<code>`), `title`, `status`,
    `detail` and `code`, and the `application/problem+json` content type.
    """
    assert response.status_code == status, _text(response)
    assert response.headers["Content-Type"].startswith(PROBLEM_CONTENT_TYPE), response.headers
    body = response.json()
    assert body["status"] == status, body
    if code is not None:
        assert body["code"] == code, body
    assert body["type"] == PROBLEM_TYPE_PREFIX + body["code"], body
    assert body["title"] and body["detail"], body
    return body
