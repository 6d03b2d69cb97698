"""The budget section of the annual report (the budget clause per institution, and external support)."""

from __future__ import annotations

from flask_babel import gettext as _
from sqlalchemy.orm import Session

from tracker.budget import queries
from tracker.i18n import localized
from tracker.labels import label_stage
from tracker.plan.models import Plan
from tracker.reports.dataset import Column, Section, Table


def budget_section(session: Session, plan: Plan, year: int, include_pending: bool = False) -> Section:
    """Per implementing institution: stage, PIA, PIM, devengado, execution rate and the clause; external support."""
    table = queries.compliance_table(session, plan, year, include_pending)
    counted = table.counted_states
    columns = [
        Column("institution", _("Institution")), Column("stage", _("Budget clause")),
        Column("pia", "PIA", "money"), Column("pim", "PIM", "money"), Column("devengado", _("Accrued (devengado)"), "money"),
        Column("execution_rate", _("Execution"), "percent"), Column("complies", _("Complies"))
    ]
    rows = []
    support_rows = []
    for row in table.rows:
        item = row.item if row.entry is not None and row.entry.state.value in counted else None
        rows.append({
            "institution": f"{row.institution.code} · {localized(row.institution, 'name')}",
            "stage": label_stage(row.status) if row.status != "not_reported" else _("No approved item"),
            "pia": item.pia if item else None, "pim": item.pim if item else None, "devengado": item.devengado if item else None,
            "execution_rate": item.execution_rate if item else None,
            "complies": "—" if row.complies is None else (_("Yes") if row.complies else _("No")),
        })
        support_rows += [
            {"institution": row.institution.code, "donor": s.donor, "amount": s.amount, "currency": s.currency, "purpose": s.purpose}
            for s in (item.external_support if item else [])
        ]
    share = table.result.share
    summary = _("%(n)d of %(total)d implementing institutions have an approved budget item for their NAP activities (%(share)s).",
                n=table.result.complying, total=table.result.counted, share="—" if share is None else f"{round(share * 100)}%")
    support_columns = [Column("institution", _("Institution")), Column("donor", _("Donor")), Column("amount", _("Amount"), "decimal"),
                       Column("currency", _("Currency")), Column("purpose", _("Purpose"))]
    return Section("budget", _("Budget"), [summary], [
        Table("budget", _("Budget items by institution (soles)"), columns, rows, _("No implementing institution.")),
        Table("external_support", _("External support"), support_columns, support_rows, _("None recorded.")),
    ])
