"""Budget item form (reporters), compliance table and institution history (everyone), CSV import."""

from __future__ import annotations

import sqlalchemy as sa
from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from tracker import permissions
from tracker.budget import queries, services
from tracker.budget.forms import BudgetForm, CsvImportForm
from tracker.budget.models import AMOUNTS, LINE_FIELDS, BudgetStage
from tracker.db import db
from tracker.domain import PermissionDenied, WorkflowError
from tracker.forms import options
from tracker.permissions import cycle_or_404, plan_or_404, require
from tracker.plan.models import Institution
from tracker.progress import services as progress
from tracker.progress import entry_forms, uploads

bp = Blueprint("budget", __name__, url_prefix="/plans/<code>/budget")


def _form_input(form: BudgetForm) -> services.BudgetInput:
    data = services.BudgetInput(
        stage=BudgetStage(form.stage.data) if form.stage.data else None,
        figures_as_of=form.figures_as_of.data,
        action_codes=list(form.actions.data or []),
        external_support=[
            services.SupportInput(row.donor.data or "", row.amount.data, (row.currency.data or "").strip(), row.purpose.data or "")
            for row in form.external_support
            if (row.donor.data or "").strip() and row.amount.data is not None
        ],
    )
    for name in (*LINE_FIELDS, *AMOUNTS):
        setattr(data, name, getattr(form, name).data)
    return data


def _fill(form: BudgetForm, data: services.BudgetInput, version: int) -> None:
    form.stage.data = data.stage.value if data.stage else ""
    for name in (*LINE_FIELDS, *AMOUNTS, "figures_as_of"):
        getattr(form, name).data = getattr(data, name)
    form.actions.data = data.action_codes
    while len(form.external_support):
        form.external_support.pop_entry()
    for support in data.external_support + [None] * 2:
        row = form.external_support.append_entry()
        if support:
            row.donor.data, row.amount.data, row.currency.data, row.purpose.data = support.donor, support.amount, support.currency, support.purpose
    form.version.data = str(version)


@bp.route("/<int:year>", methods=["GET", "POST"])
@require(permissions.can_report)
def item(code: str, year: int):
    """The reporter's budget item for the year."""
    plan = plan_or_404(code)
    cycle = cycle_or_404(plan, year)
    institution = current_user.institution
    entry = services.find_budget_entry(db.session, cycle, institution.id)
    if entry is not None and not permissions.can_edit_entry(current_user, entry):
        return redirect(url_for("progress.show_entry", entry_id=entry.id))
    form = BudgetForm()
    form.actions.choices = options((a.code, a.code) for a in progress.assigned_items(db.session, plan.id, institution.id)[1])
    outcome = entry_forms.Outcome()
    if request.method == "GET" and entry is not None:
        _fill(form, services.input_from_entry(entry), entry.version)
    if form.validate_on_submit():
        outcome = entry_forms.save_entry_form(
            form,
            lambda version: services.save_budget_item(db.session, current_user, cycle, institution, _form_input(form), version, submit=form.send.data),
            done_url=url_for("budget.item", code=plan.code, year=year),
            back_url=url_for("progress.worklist", code=plan.code, year=year),
        )
        if outcome.response:
            return outcome.response
    return render_template("budget/item.html", plan=plan, cycle=cycle, entry=entry, form=form, conflict=outcome.conflict,
                           import_form=CsvImportForm()), (outcome.status() if request.method == "POST" else 200)


@bp.post("/<int:year>/import")
@require(permissions.can_report)
def import_csv(code: str, year: int):
    """Figures from the public spending portal's CSV, matched to the item's budget line."""
    plan = plan_or_404(code)
    cycle = cycle_or_404(plan, year)
    form = CsvImportForm()
    if not form.validate_on_submit() or not form.file.data:
        flash(_("Choose a CSV file."), "danger")
        return redirect(url_for("budget.item", code=plan.code, year=year))
    data = form.file.data.read(uploads.max_bytes() + 1)
    if len(data) > uploads.max_bytes():
        errors = [_("The file is too large.")]
    else:
        try:
            errors = services.import_mef_figures(db.session, current_user, cycle, current_user.institution, data)
        except (WorkflowError, PermissionDenied) as exc:
            errors = [str(exc) or _("This entry cannot be changed.")]
    if errors:
        db.session.rollback()
        for message in errors:
            flash(message, "danger")
    else:
        db.session.commit()
        flash(_("Figures imported from the spending portal file."), "success")
    return redirect(url_for("budget.item", code=plan.code, year=year))


@bp.get("/<int:year>/compliance")
@require(permissions.can_view_dashboard)
def compliance(code: str, year: int):
    """Which implementing institutions have their budget item, and how much was spent (approved data)."""
    plan = plan_or_404(code)
    table = queries.compliance_table(db.session, plan, year)
    years = [c.year for c in progress.list_cycles(db.session, plan)]
    return render_template("budget/compliance.html", plan=plan, table=table, year=year, years=years)


@bp.get("/institutions/<institution_code>")
@require(permissions.can_view_dashboard)
def history(code: str, institution_code: str):
    """One institution's budget items across the years."""
    plan = plan_or_404(code)
    institution = db.session.scalars(
        sa.select(Institution).filter_by(code=institution_code, country_id=plan.country_id)
    ).one_or_none()
    if institution is None:
        abort(404)
    return render_template("budget/history.html", plan=plan, institution=institution,
                           rows=queries.institution_history(db.session, plan, institution))
