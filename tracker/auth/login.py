"""Flask-Login wiring: the user comes from the request's server-side session record (tracker.auth.sessions)."""

from __future__ import annotations

from flask import Flask
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from tracker.db import db
from tracker.security import is_static_file
from tracker.extensions import login_manager


@login_manager.user_loader
def _load_user(user_id: str):
    from tracker.auth.sessions import load_user

    return load_user(db.session, user_id)


def _load_user_first() -> None:
    """Read the session record before anything else uses the database, so that its once-a-minute
    last_seen_at write can be committed on its own (a page that only reads commits nothing).
    Static files skip it: they need no user and would cost a query each."""
    if not is_static_file():
        current_user._get_current_object()


def init_app(app: Flask) -> None:
    import tracker.auth.sessions  # noqa: F401  (registers the hook that ends sessions when credentials change)

    login_manager.init_app(app)
    app.before_request(_load_user_first)
    login_manager.login_view = "auth.login"
    login_manager.login_message = _l("Please log in to see this page.")
    login_manager.login_message_category = "info"
    login_manager.session_protection = "strong"
