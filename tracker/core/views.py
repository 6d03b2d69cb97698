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


@bp.get("/ready")
def ready():
    """Readiness for a load balancer: the database, the throttling storage and the job queue all answer (503
    naming what does not). /health says only that the process and its database are alive."""
    checks = {"database": _database_answers(), "throttling": _throttling_answers(), "queue": _queue_answers()}
    failing = [name for name, state in checks.items() if state == "unreachable"]
    return {"status": "error" if failing else "ok", **checks}, (503 if failing else 200)


def _database_answers() -> str:
    try:
        db.session.execute(sa.text("SELECT 1"))
    except sa.exc.SQLAlchemyError:
        db.session.rollback()
        return "unreachable"
    return "ok"


def _throttling_answers() -> str:
    from tracker.extensions import limiter

    if current_app.config["RATELIMIT_STORAGE_URI"].startswith("memory://"):
        return "in memory"
    try:
        return "ok" if limiter.storage.check() else "unreachable"
    except Exception:  # noqa: BLE001 - the storage drivers raise their own types
        return "unreachable"


def _queue_answers() -> str:
    from tracker import jobs

    if jobs.queue_url() is None:
        return "in process"
    try:
        from redis import Redis

        Redis.from_url(jobs.queue_url(), socket_timeout=2, socket_connect_timeout=2).ping()
    except Exception:  # noqa: BLE001 - connection errors of several kinds
        return "unreachable"
    return "ok"


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
