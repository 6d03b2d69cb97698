"""Logs a machine can read (issue 18): a request id on every response, and JSON log lines that carry it."""

from __future__ import annotations

import json
import logging

from tracker import logs


def test_every_response_carries_a_request_id(client):
    first, second = client.get("/login"), client.get("/dashboard")  # the second is redirected to the login
    ids = {first.headers[logs.HEADER], second.headers[logs.HEADER]}
    assert len(ids) == 2 and all(len(i) == 32 for i in ids)
    assert client.get("/login", headers={logs.HEADER: "proxy-id-1234"}).headers[logs.HEADER] == "proxy-id-1234"
    assert client.get("/login", headers={logs.HEADER: "<script>"}).headers[logs.HEADER] != "<script>"


def test_a_json_log_line_names_the_request(app):
    formatter = logs.JsonFormatter()
    with app.test_request_context("/review", headers={logs.HEADER: "proxy-id-5678"}):
        logs._assign_id()
        try:
            raise ValueError("boom")
        except ValueError:
            record = logging.LogRecord("tracker", logging.ERROR, __file__, 1, "failed: %s", ("x",), exc_info=True)
            import sys

            record.exc_info = sys.exc_info()
        line = json.loads(formatter.format(record))
    assert (line["level"], line["message"], line["request_id"], line["path"], line["method"]) == (
        "ERROR", "failed: x", "proxy-id-5678", "/review", "GET")
    assert "ValueError: boom" in line["traceback"] and line["time"].endswith("+00:00")
