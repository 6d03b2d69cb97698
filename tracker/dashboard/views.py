"""Committee dashboard, drill-down pages, the reporter's home, and the status rules page."""

from __future__ import annotations

from pathlib import Path

import markdown
from flask import Blueprint, abort, render_template, request
from flask_login import current_user
from markupsafe import Markup

from tracker import PROJECT_ROOT, permissions
from tracker.dashboard import presenters, services
from tracker.db import db
from tracker.i18n import current_language
from tracker.permissions import plan_or_404, require
from tracker.plan import services as plan_services
from tracker.progress import queries as progress_queries
from tracker.progress import services as progress_services
from tracker.urls import year_arg

bp = Blueprint("dashboard", __name__)

RULES_DOCS = {"en": PROJECT_ROOT / "docs" / "status-rules.en.md", "es": PROJECT_ROOT / "docs" / "status-rules.es.md"}


def _chosen_plan(code: str | None):
    """The plan in the query string, else the one the user used last, else the first they may read."""
    if code:
        return plan_or_404(code)
    plan = plan_services.remembered_plan(db.session, current_user)
    if plan is None:
        abort(404)
    return plan_or_404(plan.code)


def _year(plan) -> int:
    year = year_arg()
    return year or services.default_year(db.session, plan) or (plan.adoption_year or 0)


def _institution_id(plan, code: str | None) -> int | None:
    """The filter's institution, among those reporting on the plan (404 otherwise)."""
    if not code:
        return None
    institution = next((i for i in progress_queries.reporting_institutions(db.session, plan) if i.code == code), None)
    if institution is None:
        abort(404)
    return institution.id


@bp.get("/dashboard")
@require(permissions.can_view_dashboard)
def committee_dashboard():
    plan = _chosen_plan(request.args.get("plan"))
    year = _year(plan)
    institution_id = _institution_id(plan, request.args.get("institution"))
    data = services.build_dashboard(db.session, plan, year, institution_id, request.args.get("pillar") or None)
    return render_template(
        "dashboard/index.html", d=data, plan=plan, institutions=progress_queries.reporting_institutions(db.session, plan),
        pillar_chart=presenters.pillar_chart(data), trend_chart=presenters.trend_chart(data),
    )


@bp.get("/dashboard/<code>/pillars/<pillar_code>")
@require(permissions.can_view_dashboard)
def pillar(code: str, pillar_code: str):
    plan = plan_or_404(code)
    if pillar_code not in {p.code for p in plan.pillars}:
        abort(404)
    data = services.build_dashboard(db.session, plan, _year(plan), pillar_code=pillar_code)
    return render_template("dashboard/pillar.html", d=data, plan=plan, card=data.cards[0])


@bp.get("/dashboard/<code>/indicators/<indicator_code>")
@require(permissions.can_view_dashboard)
def indicator(code: str, indicator_code: str):
    plan = plan_or_404(code)
    try:
        ind = plan_services.get_indicator(db.session, code, indicator_code)
    except plan_services.NotFound:
        abort(404)
    history = services.indicator_history(db.session, plan, ind)
    return render_template("dashboard/indicator.html", plan=plan, ind=ind, history=history)


@bp.get("/home")
@require(permissions.can_report)
def reporter_home():
    """The reporter's institution: completeness and what is due in the open cycles."""
    institution = current_user.institution
    cycle = progress_queries.latest_cycle(db.session, institution.id)
    data = items = exception = deadline = days_left = None
    plan = cycle.plan if cycle is not None else plan_services.remembered_plan(db.session, current_user)
    if plan is not None:
        plan_services.use_plan(plan)
    if cycle is not None:
        data = services.build_dashboard(db.session, cycle.plan, cycle.year, institution.id)
        items = progress_services.worklist(db.session, cycle, institution.id)
        exceptions = progress_services.deadline_exceptions(db.session, cycle)  # the institution's own deadline, if extended
        exception = exceptions.get(institution.id)
        deadline = progress_services.institution_deadline(cycle, institution.id, exceptions)
        days_left = progress_services.days_left(cycle, institution_id=institution.id, exceptions=exceptions)
    return render_template("dashboard/reporter_home.html", institution=institution, cycle=cycle, d=data, items=items,
                           plan=plan, days_left=days_left, exception=exception, deadline=deadline)


@bp.get("/help/status-rules")
def status_rules():
    """How statuses and percentages are computed (the document in docs/, in the user's language)."""
    text = Path(RULES_DOCS.get(current_language(), RULES_DOCS["es"])).read_text(encoding="utf-8")
    return render_template("dashboard/rules.html", body=Markup(markdown.markdown(text, extensions=["tables"])))
