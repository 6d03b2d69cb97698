"""Read-only plan pages: the plan with its eight tabs, a page per pillar, a page per indicator."""

from __future__ import annotations

from dataclasses import dataclass

from flask import Blueprint, abort, flash, g, redirect, render_template, session, url_for
from flask_babel import gettext as _
from flask_login import current_user

from tracker import permissions
from tracker.db import db
from tracker.permissions import plan_or_404, require, visible_or_404
from tracker.plan import services
from tracker.plan.loader import PlanFileError
from tracker.plan.models import Plan, PlanTab

bp = Blueprint("plan", __name__, url_prefix="/plans")


@dataclass(frozen=True)
class PlanSwitcher:
    """The plans the navigation offers, and the one in use (the page's, else the remembered one)."""

    plans: list[Plan]
    current: Plan | None


@bp.app_context_processor
def _navigation():
    def plan_switcher() -> PlanSwitcher:
        """One query, and none for visitors who are not logged in."""
        if not permissions.is_logged_in(current_user):
            return PlanSwitcher([], None)
        plans = services.list_plans(db.session, current_user)
        code = getattr(g.get("plan"), "code", None) or session.get("plan")
        return PlanSwitcher(plans, next((p for p in plans if p.code == code), plans[0] if plans else None))

    def awaiting_review() -> int:
        """The review queue's badge: one query, for reviewers only."""
        from tracker.progress.notifications import awaiting_review_count  # progress builds on the plan

        return awaiting_review_count(db.session, current_user)

    def awaiting_confirmation(plan: Plan) -> int:
        """The menu's count of derived items the plan's monitoring body has not decided on (one query)."""
        from tracker.plan.editing import awaiting_confirmation_count

        return awaiting_confirmation_count(db.session, plan)

    return {"plan_switcher": plan_switcher, "reviewing_body": services.reviewing_body,
            "monitoring_body": services.monitoring_body, "awaiting_review": awaiting_review,
            "awaiting_confirmation": awaiting_confirmation}


def _or_404(load, *args):
    try:
        return load(db.session, *args)
    except services.NotFound:
        abort(404)


@bp.get("/")
@require(permissions.is_logged_in)
def index():
    plans = services.list_plans(db.session, current_user)
    years = services.cycle_years(db.session, [p.id for p in plans])
    return render_template("plan/index.html", plans=plans, years=years)


@bp.get("/<code>")
@require(permissions.is_logged_in)
def show(code: str):
    overview = _or_404(services.plan_overview, code)
    visible_or_404(overview.plan)
    years = services.cycle_years(db.session, [overview.plan.id])[overview.plan.id]
    return render_template("plan/show.html", o=overview, plan=overview.plan, tabs=list(PlanTab), years=years)


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
    pillar = services.indicator_pillar(db.session, ind)
    return render_template("plan/indicator.html", ind=ind, plan=plan, history=history, pillar=pillar)


@bp.get("/<code>/versions")
@require(permissions.is_logged_in)
def versions(code: str):
    """The plan's versions: the one in force and those revisions replaced, with what was reported against each."""
    plan = plan_or_404(code)
    return render_template("plan/versions.html", plan=plan, versions=services.plan_versions(db.session, plan))


@bp.get("/<code>/versions/<int:version>")
@require(permissions.is_logged_in)
def version(code: str, version: int):
    """An earlier version as it stood when a revision replaced it (the version in force is the plan page)."""
    plan = plan_or_404(code)
    if version == plan.version:
        return redirect(url_for("plan.show", code=plan.code))
    try:
        kept, parsed = _or_404(services.kept_version, plan, version)
    except PlanFileError as exc:  # a stored snapshot that a later format no longer reads
        flash(_("Version %(n)s of the plan is kept but cannot be shown: %(problem)s", n=version, problem=exc.one_line()), "warning")
        return redirect(url_for("plan.versions", code=plan.code))
    summary = next((v for v in services.plan_versions(db.session, plan) if v.version == version), None)
    return render_template("plan/version.html", plan=plan, kept=kept, file=parsed, summary=summary)
