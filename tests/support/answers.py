"""Answers of the neighbours the tests stand in for (http.server handlers)."""

from http.server import BaseHTTPRequestHandler


def answer_json(
    handler: BaseHTTPRequestHandler, body: bytes, status: int = 200, headers: dict | None = None
) -> None:
    """A complete JSON answer, framed by Content-Length (so a kept-alive connection goes on)."""
    handler.send_response(status)
    handler.send_header("Content-Type", "application/json")
    handler.send_header("Content-Length", str(len(body)))
    for name, value in (headers or {}).items():
        handler.send_header(name, value)
    handler.end_headers()
    handler.wfile.write(body)
