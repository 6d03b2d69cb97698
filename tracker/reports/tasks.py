"""The final report as a background task: ten files (five formats, two languages) of a large plan take longer than
a page should (tracker.tasks)."""

from __future__ import annotations

from flask import url_for
from flask_babel import gettext as _
from sqlalchemy.orm import Session

from tracker import permissions
from tracker.auth.models import User
from tracker.domain import PermissionDenied
from tracker.plan.models import Plan
from tracker.reports import services
from tracker.tasks.services import Progress, kind
from tracker.tasks.models import Task


def _plan(session: Session, task: Task) -> Plan:
    return session.get(Plan, task.params["plan_id"])


def _title(task: Task) -> str:
    return _("The final report for %(year)s", year=task.params["year"])


def _outcome(task: Task) -> list[tuple[str, str]]:
    return [("success", _("The report for %(year)s is final (version %(version)d).", year=task.params["year"],
                          version=task.result["version"]))]


def _link(task: Task) -> tuple[str, str]:
    from tracker.db import db

    plan = _plan(db.session, task)
    return url_for("reports.index", plan=plan.code, year=task.params["year"]), _("Back to the reports")


@kind("finalize_report", _title, _outcome, _link)
def finalize_report(session: Session, task: Task, progress: Progress) -> dict:
    """Every format in both languages, stored as the year's next final version (all or nothing)."""
    plan, user = _plan(session, task), session.get(User, task.user_id)
    if not permissions.can_finalize_reports(user, plan):  # the account may have changed since it asked
        raise PermissionDenied(_("your account may no longer mark reports final."))
    rows = services.finalize(session, plan, task.params["year"], user, progress)
    return {"version": rows[0].version}
