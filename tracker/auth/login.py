"""Flask-Login wiring."""

from __future__ import annotations

from flask import Flask
from flask_babel import lazy_gettext as _l

from tracker.db import db
from tracker.extensions import login_manager


@login_manager.user_loader
def _load_user(user_id: str):
    from tracker.auth.services import load_user

    return load_user(db.session, user_id)


def init_app(app: Flask) -> None:
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = _l("Please log in to see this page.")
    login_manager.login_message_category = "info"
    login_manager.session_protection = "strong"
