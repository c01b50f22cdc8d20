"""Reading the JSON-lines logs of the system's processes (services and nginx)."""

import json
import time


def json_lines(text: str) -> list[dict]:
    lines = []
    for line in text.splitlines():
        if line.startswith("{"):
            try:
                lines.append(json.loads(line))
            except ValueError:
                continue  # a line being written while we read
    return lines


def wait_for_log_line(read_log, predicate, timeout: float = 5.0) -> dict | None:
    """The first JSON line of `read_log()` that satisfies `predicate`, polling until timeout."""
    deadline = time.monotonic() + timeout
    while True:
        for line in json_lines(read_log()):
            if predicate(line):
                return line
        if time.monotonic() > deadline:
            return None
        time.sleep(0.1)


def lines_with_request_id(read_log, request_id: str) -> list[dict]:
    return [line for line in json_lines(read_log()) if line.get("request_id") == request_id]
