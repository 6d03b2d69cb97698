"""Budget item form (reporters), compliance table and institution history (everyone), CSV import."""

from __future__ import annotations

import sqlalchemy as sa
from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from tracker import permissions
from tracker.budget import profiles, queries, services
from tracker.budget.forms import BudgetForm, CsvImportForm, budget_form_class
from tracker.budget.models import AMOUNTS, LINE_FIELDS, BudgetStage
from tracker.db import db
from tracker.domain import PermissionDenied, WorkflowError
from tracker.forms import options
from tracker.i18n import format_money, plan_money_format
from tracker.permissions import cycle_or_404, ensure, plan_or_404, require
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
        if name in form:  # the plan's profile has this figure
            setattr(data, name, form[name].data)
    return data


def _fill(form: BudgetForm, data: services.BudgetInput, version: int) -> None:
    form.stage.data = data.stage.value if data.stage else ""
    for name in (*LINE_FIELDS, *AMOUNTS, "figures_as_of"):
        if name in form:
            form[name].data = getattr(data, name)
    form.actions.data = data.action_codes
    while len(form.external_support):
        form.external_support.pop_entry()
    for support in data.external_support + [None] * 2:
        row = form.external_support.append_entry()
        if support:
            row.donor.data, row.amount.data, row.currency.data, row.purpose.data = support.donor, support.amount, support.currency, support.purpose
    form.version.data = str(version)


def _budget_form(plan, institution, cycle, entry, formdata=True) -> BudgetForm:
    """The budget item form; it offers the institution's actions in force in the cycle's year, and those the item
    already finances (a retired action stays linked, it is not offered anew)."""
    form_class = budget_form_class(plan)
    form = form_class() if formdata else form_class(formdata=None)
    in_force = [a.code for a in progress.assigned_items(db.session, plan.id, institution.id, cycle.year)[1]]
    linked = [link.action.code for link in entry.budget.financed_actions] if entry is not None and entry.budget else []
    form.actions.choices = options((c, c) for c in dict.fromkeys(in_force + linked))
    return form


def _item_page(plan, cycle, entry, form: BudgetForm, import_form: CsvImportForm | None, conflict=None, status: int = 200):
    profile = profiles.profile_of(plan)
    return render_template("budget/item.html", plan=plan, cycle=cycle, entry=entry, form=form, conflict=conflict,
                           import_form=import_form if profile.spending_portal else None, profile=profile,
                           bound=services.is_bound(db.session, plan, current_user.institution),
                           currency_name=profiles.currency_name(plan)), status


def _spending_portal_or_404(plan) -> None:
    """The spending-portal CSV import exists only for plans classified as Peru's public budget."""
    if not profiles.profile_of(plan).spending_portal:
        abort(404)


@bp.app_template_global()
def budget_profile(plan) -> profiles.Profile:
    """The plan's budget profile, for templates outside this blueprint (the entry page)."""
    return profiles.profile_of(plan)


@bp.app_template_global()
def support_money(support, plan) -> str:
    """External support in its own currency, written the way the plan's country writes amounts."""
    return format_money(support.amount, support.currency, plan_money_format(plan)[1])


@bp.route("/<int:year>", methods=["GET", "POST"])
@require(permissions.can_report)
def item(code: str, year: int):
    """The reporter's budget item for the year."""
    plan = plan_or_404(code)
    ensure(permissions.can_report, plan)
    cycle = cycle_or_404(plan, year)
    institution = current_user.institution
    entry = services.find_budget_entry(db.session, cycle, institution.id)
    if entry is not None and not permissions.can_edit_entry(current_user, entry):
        return redirect(url_for("progress.show_entry", entry_id=entry.id))
    form = _budget_form(plan, institution, cycle, entry)
    outcome = entry_forms.Outcome()
    if request.method == "GET" and entry is not None:
        _fill(form, services.input_from_entry(entry), entry.version)
    if form.validate_on_submit():
        outcome = entry_forms.save_entry_form(
            form,
            lambda version: services.save_budget_item(db.session, current_user, cycle, institution, _form_input(form), version,
                                                      submit=form.send.data, request_key=form.request_key.data),
            done_url=url_for("budget.item", code=plan.code, year=year),
            back_url=url_for("progress.worklist", code=plan.code, year=year),
        )
        if outcome.response:
            return outcome.response
    return _item_page(plan, cycle, entry, form, CsvImportForm(formdata=None), outcome.conflict,
                      outcome.status() if request.method == "POST" else 200)


@bp.post("/<int:year>/import")
@require(permissions.can_report)
def import_csv(code: str, year: int):
    """Figures from the public spending portal's CSV, matched to the item's budget line; refusals show the page again (400)."""
    plan = plan_or_404(code)
    ensure(permissions.can_report, plan)
    _spending_portal_or_404(plan)
    cycle = cycle_or_404(plan, year)
    form = CsvImportForm()
    errors = _import_errors(form, cycle)
    if not errors:
        db.session.commit()
        flash(_("Figures imported from the spending portal file."), "success")
        return redirect(url_for("budget.item", code=plan.code, year=year))
    db.session.rollback()
    form.file.errors = errors
    entry = services.find_budget_entry(db.session, cycle, current_user.institution.id)
    if entry is not None and not permissions.can_edit_entry(current_user, entry):
        for message in errors:
            flash(message, "danger")
        return redirect(url_for("progress.show_entry", entry_id=entry.id))
    item_form = _budget_form(plan, current_user.institution, cycle, entry, formdata=False)
    if entry is not None:
        _fill(item_form, services.input_from_entry(entry), entry.version)
    return _item_page(plan, cycle, entry, item_form, form, status=400)


def _import_errors(form: CsvImportForm, cycle) -> list[str]:
    """Read the upload within the size limit and import it; the errors to show (none: imported, not committed)."""
    if not form.validate_on_submit() or not form.file.data:
        return [_("Choose a CSV file.")]
    data = form.file.data.read(uploads.max_bytes() + 1)
    if len(data) > uploads.max_bytes():
        return [_("The file is larger than %(mb)d MB.", mb=current_app.config["MAX_UPLOAD_MB"])]
    if not data.strip():
        return [_("The file is empty.")]
    try:
        return services.import_mef_figures(db.session, current_user, cycle, current_user.institution, data)
    except (WorkflowError, PermissionDenied) as exc:
        return [str(exc) or _("This entry cannot be changed.")]
    except progress.ConflictError:
        return [_("Someone saved this entry at the same moment. Check it and save again.")]


@bp.get("/<int:year>/compliance")
@require(permissions.can_view_dashboard)
def compliance(code: str, year: int):
    """Which implementing institutions have their budget item, and how much was spent (approved data)."""
    plan = plan_or_404(code)
    table = queries.compliance_table(db.session, plan, year)
    years = [c.year for c in progress.list_cycles(db.session, plan)]
    return render_template("budget/compliance.html", plan=plan, table=table, year=year, years=years,
                           profile=profiles.profile_of(plan))


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
    return render_template("budget/history.html", plan=plan, institution=institution, profile=profiles.profile_of(plan),
                           rows=queries.institution_history(db.session, plan, institution))
