"""JSON-lines logging in which every line carries the request id."""

import json
import logging
from datetime import UTC, datetime

from shopkit.requestid import current_request_id

# What the JSON lines never show, so no record gathers it: the caller's file and
# line (a walk up the stack per record), thread and process names (the logging
# HOWTO's "Optimization"). It cost each request's access line about a third.
logging._srcfile = None
logging.logThreads = False
logging.logProcesses = False
logging.logMultiprocessing = False

# Attributes every LogRecord has; anything else was passed with `extra=`.
_STANDARD_ATTRS = set(vars(logging.makeLogRecord({}))) | {"message", "asctime"}


class RequestIdFilter(logging.Filter):
    def filter(self, record):
        record.request_id = current_request_id()
        return True


class JsonLinesFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, service, request_id, message, extras."""

    def __init__(self, *args, service="-", **kwargs):
        super().__init__(*args, **kwargs)
        self.service = service

    def format(self, record):
        line = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "service": self.service,
            "request_id": getattr(record, "request_id", current_request_id()),
            "message": record.getMessage(),
        }
        for key, value in vars(record).items():
            if key not in _STANDARD_ATTRS and key not in line:
                line[key] = (
                    value if isinstance(value, (str, int, float, bool, type(None))) else str(value)
                )
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return json.dumps(line, ensure_ascii=False)


def logging_config(service: str, level: str = "INFO") -> dict:
    """The LOGGING setting: JSON lines on stderr, the request id on every line."""
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"request_id": {"()": RequestIdFilter}},
        "formatters": {"json": {"()": JsonLinesFormatter, "service": service}},
        "handlers": {
            "console": {
                "class": "logging.StreamHandler",
                "filters": ["request_id"],
                "formatter": "json",
            }
        },
        "root": {"handlers": ["console"], "level": level},
        "loggers": {
            # Our access line replaces Django's own request warnings for 4xx.
            "django.request": {"level": "ERROR"},
            "django.server": {"level": "ERROR"},
        },
    }
