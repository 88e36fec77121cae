"""Structured JSON logs on stderr, one object per line, carrying the request id.

The request id lives in a context variable set by the middleware, so every log line written while
a request is handled (including from worker threads, which copy the context) names its request.
"""

from __future__ import annotations

import json
import logging
import os
import sys
import traceback
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any

request_id_var: ContextVar[str | None] = ContextVar("request_id", default=None)

LOGGER_NAME = "phase_mirror.api"
#: The settings `serve` hands its workers (and the managed runtimes read): log level, access log.
ENV_LOG_LEVEL = "PHASE_MIRROR_LOG_LEVEL"
ENV_ACCESS_LOG = "PHASE_MIRROR_ACCESS_LOG"

_RESERVED = set(vars(logging.makeLogRecord({}))) | {"message", "asctime", "color_message"}


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
            "pid": os.getpid(),
        }
        request_id = request_id_var.get()
        if request_id is not None:
            entry["request_id"] = request_id
        for name, value in vars(record).items():
            if name not in _RESERVED and not name.startswith("_"):
                entry[name] = value
        if record.exc_info:
            entry["error"] = "".join(traceback.format_exception(*record.exc_info)).rstrip()
        return json.dumps(entry, default=str)


def configure(level: str = "info") -> None:
    """Route our logs and uvicorn's through the JSON formatter on stderr."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter())
    for name in (LOGGER_NAME, "uvicorn", "uvicorn.error", "phase_mirror"):
        logger = logging.getLogger(name)
        logger.handlers[:] = [handler]
        logger.setLevel(level.upper())
        logger.propagate = False
    # uvicorn's own access log is replaced by ours (which has the request id and the route).
    logging.getLogger("uvicorn.access").disabled = True


def configure_from_env() -> None:
    """`configure` at the level of $PHASE_MIRROR_LOG_LEVEL (default info)."""
    configure(os.environ.get(ENV_LOG_LEVEL, "info"))


def get_logger() -> logging.Logger:
    return logging.getLogger(LOGGER_NAME)
