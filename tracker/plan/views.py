"""Read-only plan pages: the plan with its eight tabs, a page per pillar, a page per indicator."""

from __future__ import annotations

from flask import Blueprint, abort, render_template

from tracker import permissions
from tracker.db import db
from tracker.permissions import require
from tracker.plan import services
from tracker.plan.models import PlanTab

bp = Blueprint("plan", __name__, url_prefix="/plans")


def _or_404(load, *args):
    try:
        return load(db.session, *args)
    except services.NotFound:
        abort(404)


@bp.get("/")
@require(permissions.can_view_plan)
def index():
    return render_template("plan/index.html", plans=services.list_plans(db.session))


@bp.get("/<code>")
@require(permissions.can_view_plan)
def show(code: str):
    overview = _or_404(services.plan_overview, code)
    return render_template("plan/show.html", o=overview, plan=overview.plan, tabs=list(PlanTab))


@bp.get("/<code>/pillars/<pillar_code>")
@require(permissions.can_view_plan)
def pillar(code: str, pillar_code: str):
    page = _or_404(services.pillar_page, code, pillar_code)
    return render_template("plan/pillar.html", page=page, plan=page.plan)


@bp.get("/<code>/indicators/<indicator_code>")
@require(permissions.can_view_plan)
def indicator(code: str, indicator_code: str):
    ind = _or_404(services.get_indicator, code, indicator_code)
    plan = _or_404(services.get_plan, code)
    history = services.target_history(db.session, ind.id)
    return render_template("plan/indicator.html", ind=ind, plan=plan, history=history)
