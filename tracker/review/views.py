"""The sign-off pages: the monitoring body's setting per institution, and the focal point's entries to sign off."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import SelectMultipleField, TextAreaField
from wtforms.validators import DataRequired, Length

from tracker import permissions
from tracker.db import db
from tracker.domain import PermissionDenied, ValidationFailed
from tracker.forms import apply_errors
from tracker.permissions import ensure, plan_or_404, require
from tracker.review import signoff

bp = Blueprint("review", __name__)


class SignoffForm(FlaskForm):
    """The institutions whose focal point endorses their entries before the monitoring body sees them."""

    institutions = SelectMultipleField(_l("Institutions that sign off their entries"), choices=[],
                                       validate_choice=False, coerce=str)
    reason = TextAreaField(_l("Reason for the change"), validators=[
        DataRequired(message=_l("Say why the sign-off changes.")), Length(max=2000)],
        description=_l("Kept in the audit log with the change, for example the session that agreed it."))


@bp.route("/plans/<code>/sign-off", methods=["GET", "POST"])
@require(permissions.can_manage_signoff)
def settings(code: str):
    """Which institutions sign off their entries in this plan, their focal points and what waits for them."""
    plan = plan_or_404(code)
    ensure(permissions.can_manage_signoff, plan)
    rows = signoff.overview(db.session, plan)
    form = SignoffForm()
    by_code = {row.institution.code: row.institution.id for row in rows}
    if form.validate_on_submit():
        try:
            chosen = {by_code[c] for c in form.institutions.data if c in by_code}
            added, removed = signoff.set_required(db.session, plan, chosen, form.reason.data, current_user)
        except ValidationFailed as exc:
            db.session.rollback()
            apply_errors(form, exc)
        except PermissionDenied:
            abort(403)
        else:
            db.session.commit()
            flash(_("Sign-off saved. Added: %(added)s. Removed: %(removed)s.", added=", ".join(added) or "—",
                    removed=", ".join(removed) or "—"), "success")
            return redirect(url_for("review.settings", code=plan.code))
    chosen = set(form.institutions.data) if form.is_submitted() else {r.institution.code for r in rows if r.required}
    return render_template("review/signoff_settings.html", plan=plan, rows=rows, form=form, chosen=chosen), \
        (400 if form.errors else 200)


@bp.get("/sign-off")
@require(permissions.is_logged_in)
def waiting():
    """The focal point's list: entries of their institution waiting for their sign-off."""
    if not current_user.is_focal_point or not permissions.can_report(current_user):
        abort(403)
    return render_template("review/waiting.html", entries=signoff.waiting_for(db.session, current_user))
