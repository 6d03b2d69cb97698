"""Reminders from the cycles page: the committee previews, per institution, who is reminded of what and in
which words, then sends (in-app notifications now, e-mails once the transaction commits)."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import HiddenField

from tracker import permissions
from tracker.db import db
from tracker.domain import ValidationFailed, WorkflowError
from tracker.forms import apply_errors
from tracker.permissions import cycle_or_404, ensure, plan_or_404, require
from tracker.plan.models import Institution, Plan
from tracker.progress import notifications, schedule
from tracker.progress.forms import ReminderSettingsForm
from tracker.progress.views import bp


class ReminderForm(FlaskForm):
    """Send the reminders previewed: to every institution with something missing, or to the one named."""

    institution = HiddenField()


def _institution_or_404(plan: Plan, code: str | None) -> Institution | None:
    """The plan's reporting institution with this code (None: all of them); a code it has not is 404."""
    if not code:
        return None
    found = next((i for i in notifications.reminder_institutions(db.session, plan) if i.code == code), None)
    if found is None:
        abort(404)
    return found


@bp.route("/plans/<code>/cycles/<int:year>/reminders", methods=["GET", "POST"])
@require(permissions.can_manage_cycles)
def reminders(code: str, year: int):
    """GET: the preview (recipients and the exact message per institution); POST: send them."""
    plan = plan_or_404(code)
    ensure(permissions.can_manage_cycles, plan)
    cycle = cycle_or_404(plan, year)
    if not cycle.is_open:
        flash(_("The reporting cycle %(year)s is closed; nothing to remind.", year=cycle.year), "warning")
        return redirect(url_for("progress.cycles", code=plan.code))
    form = ReminderForm()
    asked = form.institution.data if request.method == "POST" else request.args.get("institution")
    institution = _institution_or_404(plan, asked)
    institution_id = institution.id if institution else None
    if request.method == "POST":
        if not form.validate_on_submit():
            abort(400)
        return _send(plan, cycle, institution_id)
    return render_template("progress/reminders.html", plan=plan, cycle=cycle, institution=institution,
                           reminders=notifications.plan_reminders(db.session, cycle, institution_id))


def _send(plan: Plan, cycle, institution_id: int | None):
    try:
        sent = notifications.send_cycle_reminders(db.session, cycle, current_user, institution_id)
    except WorkflowError as exc:
        db.session.rollback()
        flash(str(exc), "warning")
        return redirect(url_for("progress.cycles", code=plan.code))
    db.session.commit()
    if sent:
        flash(ngettext("%(num)d reminder sent.", "%(num)d reminders sent.", sent), "success")
    else:
        flash(_("Nobody to remind: nothing is missing, or no active reporter receives it."), "info")
    return redirect(url_for("progress.cycles", code=plan.code))


@bp.route("/plans/<code>/reminder-schedule", methods=["GET", "POST"])
@require(permissions.can_manage_cycles)
def reminder_settings(code: str):
    """The plan's reminder schedule: shown, and changed by its committee with a reason (in the audit log)."""
    plan = plan_or_404(code)
    ensure(permissions.can_manage_cycles, plan)
    settings = schedule.Settings.of(plan)
    form = ReminderSettingsForm()
    if request.method == "GET":
        form.reminder_days.data = settings.days_text
        for name in schedule.AGE_FIELDS:
            getattr(form, name).data = getattr(settings, name)
    if form.validate_on_submit():
        ages = {name: getattr(form, name).data for name in schedule.AGE_FIELDS}
        try:
            schedule.save_settings(db.session, plan, form.reminder_days.data or "", ages, form.reason.data, current_user)
        except ValidationFailed as exc:
            db.session.rollback()
            apply_errors(form, exc)
        else:
            db.session.commit()
            flash(_("The reminder schedule of %(code)s was saved.", code=plan.code), "success")
            return redirect(url_for("progress.cycles", code=plan.code))
    return render_template("progress/reminder_settings.html", plan=plan, form=form), 400 if form.is_submitted() else 200
