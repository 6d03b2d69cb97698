from __future__ import annotations

import sqlalchemy as sa
from flask import Blueprint, current_app, flash, redirect, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user

from tracker import permissions
from tracker.auth.services import save_language_preference
from tracker.db import db
from tracker.forms import EmptyForm
from tracker.urls import safe_next

bp = Blueprint("core", __name__)


@bp.get("/health")
def health():
    """Liveness and database check for load balancers; no login needed."""
    try:
        db.session.execute(sa.text("SELECT 1"))
    except sa.exc.SQLAlchemyError:
        return {"status": "error", "database": "unreachable"}, 503
    return {"status": "ok", "database": "ok"}


@bp.get("/")
def index():
    """Each role's start page: reporters their institution's home, everyone else the dashboard."""
    if permissions.can_report(current_user):
        return redirect(url_for("dashboard.reporter_home"))
    return redirect(url_for("dashboard.committee_dashboard"))


@bp.post("/language/<lang>")
def set_language(lang: str):
    """Remember the chosen language for this browser session (and the user, once logged in)."""
    form = EmptyForm()
    if form.validate_on_submit() and lang in current_app.config["LANGUAGES"]:
        session["lang"] = lang
        save_language_preference(db.session, current_user, lang)
        db.session.commit()
    else:
        flash(_("The language could not be changed."), "warning")
    return redirect(safe_next(request.form.get("next")) or url_for("core.index"))
