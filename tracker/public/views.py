"""The public page (`/public/<code>`), its open data, and the committee's page that publishes it."""

from __future__ import annotations

import json

from flask import Blueprint, Response, abort, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import refresh
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from markupsafe import Markup
from wtforms import BooleanField, IntegerField, SubmitField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length

import sqlalchemy as sa

from tracker import opendata, permissions
from tracker.db import db
from tracker.domain import ValidationFailed
from tracker.forms import apply_errors
from tracker.i18n import current_language
from tracker.permissions import ensure, plan_or_404, require
from tracker.plan.models import Plan, PlanTab
from tracker.public import services

bp = Blueprint("public", __name__)


def _published_or_404(code: str) -> Plan:
    plan = db.session.scalars(sa.select(Plan).filter_by(code=code)).one_or_none()
    if plan is None or not services.is_published(plan):
        abort(404)
    g.plan = plan  # numbers and dates in the plan's country's locale, as on its other pages (no session: no cookie)
    refresh()
    return plan


@bp.get("/public/<code>")
def page(code: str):
    """A plan's approved progress for everyone: no login, nothing unpublished."""
    plan = _published_or_404(code)
    # Only the content is cached: the menu around it is each visitor's own (their name, a form's CSRF token).
    content = services.cached(db.session, "page", plan, current_language(), lambda: render_template(
        "public/_content.html", view=services.public_plan(db.session, plan), tabs=list(PlanTab)))
    return render_template("public/plan.html", plan=plan, content=Markup(content))


@bp.get("/public/<code>/data.csv")
def data(code: str):
    """The page's figures as open data (Open SDG layout): national, small cells suppressed."""
    plan = _published_or_404(code)
    data = services.cached(db.session, "csv", plan, "", lambda: opendata.csv_bytes(
        opendata.national(db.session, plan, opendata.threshold(plan))))
    return Response(data, mimetype="text/csv",
                    headers={"Content-Disposition": f"attachment; filename={plan.code}-{opendata.CSV_NAME}"})


@bp.get("/public/<code>/datapackage.json")
def datapackage(code: str):
    """The Frictionless Data Package descriptor of data.csv."""
    plan = _published_or_404(code)
    descriptor = opendata.descriptor(plan, public=True, threshold=opendata.threshold(plan))
    descriptor["resources"][0]["path"] = url_for("public.data", code=plan.code, _external=True)
    return Response(json.dumps(descriptor, indent=2, ensure_ascii=False), mimetype="application/json")


class PublicSettingsForm(FlaskForm):
    published = BooleanField(_l("Publish the plan's public page"),
                             description=_l("Anyone can then read its approved figures at the address below, without "
                                            "logging in."))
    threshold = IntegerField(_l("Smallest number of people shown"), validators=[InputRequired()],
                             description=_l("People counts below it are shown as “< N”, and the other sex of the same "
                                            "figure is hidden too, so that the total does not give it away."))
    reason = TextAreaField(_l("Reason for the change"), validators=[DataRequired(), Length(max=500)], render_kw={"rows": 2})
    submit = SubmitField(_l("Save"))


@bp.route("/plans/<code>/public-page", methods=["GET", "POST"])
@require(permissions.can_manage_public_page)
def settings(code: str):
    """The committee publishes (or withdraws) its plan's public page, with a reason (in the audit log)."""
    plan = plan_or_404(code)
    ensure(permissions.can_manage_public_page, plan)
    form = PublicSettingsForm()
    if request.method == "GET":
        form.published.data = services.is_published(plan)
        form.threshold.data = opendata.threshold(plan)
    if form.validate_on_submit():
        try:
            services.save_settings(db.session, plan, form.published.data, form.threshold.data, form.reason.data,
                                   current_user)
        except ValidationFailed as exc:
            db.session.rollback()
            apply_errors(form, exc)
        else:
            db.session.commit()
            flash(_("The public page of %(code)s is published.", code=plan.code) if form.published.data
                  else _("The public page of %(code)s is not published.", code=plan.code), "success")
            return redirect(url_for("public.settings", code=plan.code))
    return render_template("public/settings.html", plan=plan, form=form,
                           published=services.is_published(plan)), 400 if form.is_submitted() else 200
