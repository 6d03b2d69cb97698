"""Error pages: HTML for people, JSON for clients that ask for it."""

from __future__ import annotations

from flask import Flask, render_template, request
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

MESSAGES = {
    400: lambda: _("The request could not be understood."),
    403: lambda: _("You do not have permission to see this page."),
    404: lambda: _("This page does not exist."),
    405: lambda: _("This action is not allowed here."),
    413: lambda: _("The file is too large."),
    429: lambda: _("Too many attempts. Please wait and try again."),
    500: lambda: _("Something went wrong on our side. The error has been logged."),
}


def wants_json() -> bool:
    best = request.accept_mimetypes.best_match(["application/json", "text/html"])
    return best == "application/json" and request.accept_mimetypes[best] > request.accept_mimetypes["text/html"]


def render_error(code: int, message: str | None = None):
    message = message or MESSAGES.get(code, MESSAGES[500])()
    if wants_json():
        return {"error": code, "message": message}, code
    return render_template("errors/error.html", code=code, message=message), code


def handle_http_error(exc: HTTPException):
    code = exc.code or 500
    if code >= 500:
        from tracker.db import db

        db.session.rollback()  # the page must render even after a failed flush
    return render_error(code)


def handle_csrf_error(_exc: CSRFError):
    return render_error(400, _("This form has expired or is invalid. Please reload the page and try again."))


def init_app(app: Flask) -> None:
    app.register_error_handler(CSRFError, handle_csrf_error)
    app.register_error_handler(HTTPException, handle_http_error)
