"""The budget section of the annual report (the budget clause per institution, and external support)."""

from __future__ import annotations

from flask_babel import gettext as _
from sqlalchemy.orm import Session

from tracker.budget import profiles, queries
from tracker.budget.services import bound_institution_ids
from tracker.i18n import localized
from tracker.plan.models import Plan
from tracker.reports.dataset import Column, Section, Table


def budget_section(session: Session, plan: Plan, year: int, include_pending: bool = False) -> Section:
    """Per institution the clause binds: stage, the profile's amounts (PIA, PIM, devengado for Peru;
    allocated, executed elsewhere), execution rate and the clause; external support."""
    profile = profiles.profile_of(plan)
    table = queries.compliance_table(session, plan, year, include_pending)
    counted = table.counted_states
    amounts = [profile.figure(name) for name in profile.columns]
    columns = [
        Column("institution", _("Institution")), Column("stage", _("Budget clause")),
        *(Column(f.report_key, profiles.label(f, plan, short=True), "money") for f in amounts),
        Column("execution_rate", _("Execution"), "percent"), Column("complies", _("Complies")),
    ]
    rows = []
    support_rows = []
    for row in table.rows:
        item = row.item if row.entry is not None and row.entry.state.value in counted else None
        rows.append({
            "institution": f"{row.institution.code} · {localized(row.institution, 'name')}",
            "stage": profile.stage_label(row.status) if row.status != "not_reported" else _("No approved item"),
            **{f.report_key: getattr(item, f.name) if item else None for f in amounts},
            "execution_rate": item.execution_rate if item else None,
            "complies": "—" if row.complies is None else (_("Yes") if row.complies else _("No")),
        })
        support_rows += [
            {"institution": row.institution.code, "donor": s.donor, "amount": s.amount, "currency": s.currency, "purpose": s.purpose}
            for s in (item.external_support if item else [])
        ]
    support_columns = [Column("institution", _("Institution")), Column("donor", _("Donor")), Column("amount", _("Amount"), "decimal"),
                       Column("currency", _("Currency")), Column("purpose", _("Purpose"))]
    return Section("budget", _("Budget"), [_summary(session, plan, table)], [
        Table("budget", _table_title(plan), columns, rows, _("No implementing institution.")),
        Table("external_support", _("External support"), support_columns, support_rows, _("None recorded.")),
    ])


def _summary(session: Session, plan: Plan, table: queries.ComplianceTable) -> str:
    share = table.result.share
    values = {"n": table.result.complying, "total": table.result.counted, "share": "—" if share is None else f"{round(share * 100)}%"}
    if bound_institution_ids(session, plan):
        return _("%(n)d of %(total)d institutions bound by the budget clause have an approved budget item for their NAP activities (%(share)s).", **values)
    return _("%(n)d of %(total)d implementing institutions have an approved budget item for their NAP activities (%(share)s).", **values)


def _table_title(plan: Plan) -> str:
    """The table's title with the plan's currency ("soles peruanos", "Chilean pesos"); none without one."""
    name = profiles.currency_name(plan)
    return _("Budget items by institution (%(currency)s)", currency=name) if name else _("Budget items by institution")
