"""Read-only plan pages: the plan with its eight tabs, a page per pillar, a page per indicator."""

from __future__ import annotations

from flask import Blueprint, abort, render_template
from flask_login import current_user

from tracker import permissions
from tracker.db import db
from tracker.permissions import plan_or_404, require, visible_or_404
from tracker.plan import services
from tracker.plan.models import PlanTab

bp = Blueprint("plan", __name__, url_prefix="/plans")


def _or_404(load, *args):
    try:
        return load(db.session, *args)
    except services.NotFound:
        abort(404)


@bp.get("/")
@require(permissions.is_logged_in)
def index():
    return render_template("plan/index.html", plans=services.list_plans(db.session, current_user))


@bp.get("/<code>")
@require(permissions.is_logged_in)
def show(code: str):
    overview = _or_404(services.plan_overview, code)
    visible_or_404(overview.plan)
    return render_template("plan/show.html", o=overview, plan=overview.plan, tabs=list(PlanTab))


@bp.get("/<code>/pillars/<pillar_code>")
@require(permissions.is_logged_in)
def pillar(code: str, pillar_code: str):
    page = _or_404(services.pillar_page, code, pillar_code)
    visible_or_404(page.plan)
    return render_template("plan/pillar.html", page=page, plan=page.plan)


@bp.get("/<code>/indicators/<indicator_code>")
@require(permissions.is_logged_in)
def indicator(code: str, indicator_code: str):
    plan = plan_or_404(code)
    ind = _or_404(services.get_indicator, code, indicator_code)
    history = services.target_history(db.session, ind.id)
    return render_template("plan/indicator.html", ind=ind, plan=plan, history=history)
