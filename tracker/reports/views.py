"""Annual report pages: list and download reports, the committee's validation, marking a year final."""

from __future__ import annotations

import io
from collections import defaultdict

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, send_file, url_for
from flask_babel import gettext as _
from flask_login import current_user

from tracker import permissions
from tracker.db import db
from tracker.domain import ValidationFailed, WorkflowError
from tracker.forms import EmptyForm, apply_errors
from tracker.i18n import current_language
from tracker.permissions import ensure, plan_or_404, require
from tracker.plan import services as plan_services
from tracker.plan.models import Plan
from tracker.reports import services
from tracker.reports.exporters import FORMATS, export
from tracker.reports.exporters.common import cover_lines, format_value, marks, numbers_of, words
from tracker.reports.forms import ValidationForm, commentary_form
from tracker.reports.models import FinalReport
from tracker.tasks import services as tasks
from tracker.urls import YEAR_MAX, YEAR_MIN, year_arg

bp = Blueprint("reports", __name__)


@bp.get("/reports")
@require(permissions.can_download_reports)
def index():
    """Every plan's years with downloads and final versions; the committee validates and finalizes here."""
    return _render_index(request.args.get("plan"), year_arg())


def _render_index(plan_code: str | None, year: int | None, form: ValidationForm | None = None, status: int = 200):
    plans = plan_services.list_plans(db.session, current_user)
    plan = next((p for p in plans if p.code == plan_code), None) or plan_services.remembered_plan(db.session, current_user)
    if plan is not None:
        plan_services.use_plan(plan)
    years = plan_services.cycle_years(db.session, [p.id for p in plans])
    year = year or (years[plan.id][0] if plan and years[plan.id] else None)
    validation = services.get_validation(db.session, plan.id, year) if plan and year else None
    commented = len(services.commentary(db.session, plan, year)) if plan and year else 0
    if form is None and plan and year:
        form = ValidationForm(obj=validation, formdata=None)
    finals: dict[tuple[int, int], dict[int, list[FinalReport]]] = defaultdict(lambda: defaultdict(list))
    for row in services.final_reports(db.session, [p.id for p in plans]):
        finals[(row.plan_id, row.year)][row.version].append(row)
    return render_template(
        "reports/index.html", plans=plans, plan=plan, years=years, year=year, validation=validation, form=form,
        finals=finals, formats=FORMATS, finalize_form=EmptyForm(), language=current_language(), commented=commented,
    ), status


@bp.get("/reports/<code>/<int:year>.<fmt>")
@require(permissions.can_download_reports)
def download(code: str, year: int, fmt: str):
    """The live report in any format and language; `pending=1` (committee) also counts submitted data."""
    if fmt not in FORMATS:
        abort(404)
    plan, year, language, pending = _report_request(code, year)
    data = export(services.annual_report(db.session, plan, year, language, include_pending=pending), fmt)
    name = services.download_name(plan.code, year, language, fmt, "-provisional" if pending else "")
    return send_file(io.BytesIO(data), mimetype=FORMATS[fmt].mimetype, as_attachment=True, download_name=name)


@bp.get("/reports/<code>/<int:year>/file")
@require(permissions.can_download_reports)
def choose(code: str, year: int):
    """The reports page's choice of format and language, sent on to the file's own address."""
    fmt = request.args.get("fmt") or "pdf"
    if fmt not in FORMATS:
        abort(404)
    plan, year, language, pending = _report_request(code, year)
    return redirect(url_for("reports.download", code=plan.code, year=year, fmt=fmt, lang=language,
                            pending=1 if pending else None))


@bp.get("/reports/<code>/<int:year>/preview")
@require(permissions.can_download_reports)
def preview(code: str, year: int):
    """The live report as a page: the same dataset, sections, tables and charts as the files."""
    plan, year, language, pending = _report_request(code, year)
    dataset = services.annual_report(db.session, plan, year, language, include_pending=pending)
    return render_template("reports/preview.html", plan=plan, year=year, dataset=dataset, language=language,
                           pending=pending, numbers=numbers_of(dataset), format_value=format_value,
                           marks=marks(dataset), words=words(dataset), cover=cover_lines(dataset))


def _report_request(code: str, year: int) -> tuple[Plan, int, str, bool]:
    """The plan (404 if unreadable), year, language (?lang=, default the user's) and whether pending data counts
    (?pending=1, for the plan's reviewers only) of a report request."""
    if not YEAR_MIN <= year <= YEAR_MAX:
        abort(404)
    language = request.args.get("lang") or current_language()
    if language not in services.LANGUAGES:
        abort(404)
    plan = plan_or_404(code)
    pending = request.args.get("pending") == "1"
    if pending and not permissions.can_include_pending_in_reports(current_user, plan):
        abort(403)
    return plan, year, language, pending


@bp.post("/reports/<code>/<int:year>/validation")
@require(permissions.can_validate_reports)
def save_validation(code: str, year: int):
    """The committee records (or corrects) its validation of the year's report."""
    plan = plan_or_404(code)
    ensure(permissions.can_validate_reports, plan)
    form = ValidationForm()
    if form.validate_on_submit():
        try:
            services.save_validation(db.session, plan, year, form.to_input(), current_user)
        except ValidationFailed as exc:
            apply_errors(form, exc)
        except WorkflowError as exc:
            form.form_errors.append(str(exc))
        else:
            db.session.commit()
            flash(_("The committee's validation for %(year)s was saved.", year=year), "success")
            return redirect(url_for("reports.index", plan=plan.code, year=year))
    db.session.rollback()
    return _render_index(plan.code, year, form, 400)


@bp.route("/reports/<code>/<int:year>/commentary", methods=["GET", "POST"])
@require(permissions.can_validate_reports)
def commentary(code: str, year: int):
    """The committee writes its findings and recommendations for the year, on the whole plan and per pillar."""
    plan = plan_or_404(code)
    ensure(permissions.can_validate_reports, plan)
    if not YEAR_MIN <= year <= YEAR_MAX or not services.has_cycle(db.session, plan, year):
        abort(404)
    scopes = services.commentary_scopes(db.session, plan)
    form = commentary_form(scopes, {row.scope: row for row in services.commentary(db.session, plan, year)})
    if form.validate_on_submit():
        try:
            changed = services.save_commentary(db.session, plan, year, form.texts(scopes), current_user)
        except (ValidationFailed, WorkflowError) as exc:
            db.session.rollback()
            form.form_errors.append(exc.message)
        else:
            db.session.commit()
            flash(_("Commentary saved (%(count)d changed). It is part of the report from now on; a final version "
                    "already stored keeps what it had.", count=len(changed)), "success")
            return redirect(url_for("reports.commentary", code=plan.code, year=year))
    pillars = {p.code: p for p in plan.pillars}
    return render_template("reports/commentary.html", plan=plan, year=year, form=form,
                           scopes=[(n, pillars.get(scope)) for n, scope in enumerate(scopes)]), \
        (400 if form.is_submitted() else 200)


@bp.post("/reports/<code>/<int:year>/finalize")
@require(permissions.can_finalize_reports)
def finalize(code: str, year: int):
    """Store the year's report in every format and both languages as a new final version."""
    plan = plan_or_404(code)
    ensure(permissions.can_finalize_reports, plan)
    if not EmptyForm().validate_on_submit():
        abort(400)
    try:
        services.check_finalizable(db.session, plan, year)
    except WorkflowError as exc:
        flash(str(exc), "error")
        return redirect(url_for("reports.index", plan=plan.code, year=year))
    task = tasks.start(db.session, "finalize_report", current_user, plan_id=plan.id, year=year)
    db.session.commit()  # the task runs now (no queue) or on the worker; its page follows it
    return redirect(url_for("tasks.show", task_id=task.id))


@bp.get("/reports/final/<int:report_id>")
@require(permissions.can_download_reports)
def final(report_id: int):
    """A stored final report file, exactly as it was when the year was marked final."""
    row = db.session.get(FinalReport, report_id)
    if row is None or not permissions.can_download_reports(current_user, db.session.get(Plan, row.plan_id)):
        abort(404)
    try:
        data = services.read_final(row)
    except (OSError, WorkflowError) as exc:
        current_app.logger.error("final report %s cannot be served: %s", row.id, exc)
        abort(500)
    name = services.download_name(db.session.get(Plan, row.plan_id).code, row.year, row.language, row.format, f"-final-v{row.version}")
    return send_file(io.BytesIO(data), mimetype=FORMATS[row.format].mimetype, as_attachment=True, download_name=name)
