"""Error pages: HTML for people, JSON for clients that ask for it."""

from __future__ import annotations

import sqlalchemy as sa
from flask import Flask, current_app, render_template, request, session
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError
from sqlalchemy.orm.exc import StaleDataError
from werkzeug.exceptions import HTTPException

MESSAGES = {
    400: lambda: _("The request could not be understood."),
    403: lambda: _("You do not have permission to see this page."),
    404: lambda: _("This page does not exist."),
    405: lambda: _("This action is not allowed here."),
    409: lambda: _("Someone changed this at the same moment. Reload the page, check it and try again."),
    413: lambda: _("The file is too large."),
    429: lambda: _("Too many attempts. Please wait and try again."),
    500: lambda: _("Something went wrong on our side. The error has been logged."),
    503: lambda: _("The database is busy or unavailable for a moment. Please try again."),
}


API_CODES = {401: "unauthorized", 404: "not_found", 405: "method_not_allowed", 409: "conflict", 429: "rate_limited",
             503: "unavailable"}


def wants_json() -> bool:
    best = request.accept_mimetypes.best_match(["application/json", "text/html"])
    return best == "application/json" and request.accept_mimetypes[best] > request.accept_mimetypes["text/html"]


def render_error(code: int, message: str | None = None):
    message = message or MESSAGES.get(code, MESSAGES[500])()
    if code >= 500 or code == 409:
        # The failed request may have queued "Saved" before its commit failed: that would be a lie.
        session.pop("_flashes", None)
    if request.path.startswith("/api/"):  # the read API answers its own error shape (tracker.api.schemas.Error)
        return {"error": API_CODES.get(code, "error"), "message": message}, code
    if wants_json():
        return {"error": code, "message": message}, code
    return render_template("errors/error.html", code=code, message=message), code


def handle_http_error(exc: HTTPException):
    code = exc.code or 500
    if code >= 500:
        from tracker.db import db

        db.session.rollback()  # the page must render even after a failed flush
    return render_error(code)


def handle_concurrent_write(_exc: Exception):
    """A write that lost a race the services did not foresee: a conflict for the user, never a 500."""
    from tracker.db import db

    db.session.rollback()
    # Logged: a constraint the forms should have caught is a bug, not only a race.
    current_app.logger.warning("write refused by the database: %s", getattr(_exc, "orig", _exc))
    return render_error(409, _("Someone changed this at the same moment. Reload the page, check it and try again."))


def handle_operational_error(exc: sa.exc.OperationalError):
    """A database that is busy or gone for a moment: ask to retry (503) instead of a bare 500."""
    from tracker.db import db

    db.session.rollback()
    current_app.logger.warning("database unavailable: %s", exc.orig)
    return render_error(503, _("The database is busy or unavailable for a moment. Please try again."))


def handle_csrf_error(_exc: CSRFError):
    return render_error(400, _("This form has expired or is invalid. Please reload the page and try again."))


def init_app(app: Flask) -> None:
    app.register_error_handler(CSRFError, handle_csrf_error)
    app.register_error_handler(sa.exc.IntegrityError, handle_concurrent_write)
    app.register_error_handler(StaleDataError, handle_concurrent_write)
    app.register_error_handler(sa.exc.OperationalError, handle_operational_error)
    app.register_error_handler(HTTPException, handle_http_error)
