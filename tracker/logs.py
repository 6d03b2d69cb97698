"""Logs a machine can read: every request gets an id (the proxy's X-Request-Id, or a new one), sent back in the
response's X-Request-Id; with TRACKER_LOG_FORMAT=json (the production default) each log line is one JSON object
with the time, level, logger, message, request id, method, path and user, and the traceback when there is one."""

from __future__ import annotations

import json
import logging
import re
import sys
import uuid
from datetime import datetime, timezone

from flask import Flask, g, has_request_context, request

HEADER = "X-Request-Id"
GIVEN_ID = re.compile(r"^[A-Za-z0-9._-]{8,64}$")  # a proxy's id is kept only when it is a plain token


def request_id() -> str | None:
    return g.get("request_id") if has_request_context() else None


class JsonFormatter(logging.Formatter):
    """One JSON object per line."""

    def format(self, record: logging.LogRecord) -> str:
        line = {
            "time": datetime.fromtimestamp(record.created, timezone.utc).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        if has_request_context():
            from flask_login import current_user

            line.update(request_id=request_id(), method=request.method, path=request.path,
                        user_id=getattr(current_user, "id", None) if current_user else None)
        if record.exc_info:
            line["traceback"] = self.formatException(record.exc_info)
        return json.dumps(line, ensure_ascii=False, default=str)


def _assign_id() -> None:
    given = request.headers.get(HEADER, "")
    g.request_id = given if GIVEN_ID.fullmatch(given) else uuid.uuid4().hex


def _send_id(response):
    if request_id():
        response.headers[HEADER] = request_id()
    return response


def init_app(app: Flask) -> None:
    app.before_request(_assign_id)
    app.after_request(_send_id)
    if app.config.get("LOG_FORMAT") == "json":
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(JsonFormatter())
        app.logger.handlers[:] = [handler]
        app.logger.setLevel(logging.INFO)
        app.logger.propagate = False
