"""Compliance tables: a fixed number of queries per page, the rules in tracker.status."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.orm import Session, joinedload

from tracker import status as st
from tracker.budget.models import AMOUNTS, BudgetItem
from tracker.budget.services import clause_institutions
from tracker.plan.models import Institution, Plan
from tracker.progress.models import Entry, EntryKind, ReportingCycle
from tracker.review import states


@dataclass
class ComplianceRow:
    institution: Institution
    entry: Entry | None
    status: str  # included_pia | added_pim | not_included | not_applicable | not_reported

    @property
    def item(self) -> BudgetItem | None:
        return self.entry.budget if self.entry else None

    @property
    def complies(self) -> bool | None:
        return None if self.status == "not_applicable" else self.status in st.COMPLYING_STAGES


@dataclass
class ComplianceTable:
    year: int
    rows: list[ComplianceRow]
    result: st.BudgetCompliance
    totals: dict[str, Decimal]
    counted_states: frozenset[str] = frozenset(s.value for s in states.COUNTED)

    @property
    def execution_rate(self) -> Decimal | None:
        return st.execution_rate(self.totals.get("pim"), self.totals.get("devengado"))


def budget_entries(session: Session, plan: Plan, year: int | None = None) -> list[tuple[Entry, int]]:
    """The plan's budget entries (with their figures, actions and external support) and their years."""
    query = (
        sa.select(Entry, ReportingCycle.year)
        .join(ReportingCycle, ReportingCycle.id == Entry.cycle_id)
        .where(ReportingCycle.plan_id == plan.id, Entry.kind == EntryKind.budget)
        .options(
            joinedload(Entry.cycle),  # the policy reads each entry's plan
            joinedload(Entry.budget).selectinload(BudgetItem.external_support),
            joinedload(Entry.budget).selectinload(BudgetItem.financed_actions),
        )
    )
    if year is not None:
        query = query.where(ReportingCycle.year == year)
    return [tuple(row) for row in session.execute(query).unique()]


def facts(pairs: list[tuple[Entry, int]]) -> list[st.BudgetFact]:
    return [
        st.BudgetFact(e.institution_id, e.state.value, e.budget.stage.value if e.budget and e.budget.stage else None,
                      *(getattr(e.budget, a) if e.budget else None for a in ("pia", "pim", "devengado", "girado")))
        for e, _year in pairs
    ]


def compliance_table(session: Session, plan: Plan, year: int, include_pending: bool = False) -> ComplianceTable:
    """Every institution the budget clause binds with its budget item for the year, the compliance share and totals.

    The denominator is the institutions the plan's clause names, else every institution with assigned
    items. Approved items count; with `include_pending` (provisional reports) submitted ones count too.
    """
    counted = frozenset(s.value for s in (states.COUNTED_PROVISIONALLY if include_pending else states.COUNTED))
    institutions = clause_institutions(session, plan)
    pairs = budget_entries(session, plan, year)
    result = st.budget_compliance([i.id for i in institutions], facts(pairs), counted)
    by_institution = {e.institution_id: e for e, _ in pairs}
    rows = [ComplianceRow(i, by_institution.get(i.id), result.by_institution[i.id]) for i in institutions]
    bound = {i.id for i in institutions}  # an item of an institution the clause does not bind is not in the totals
    totals = _totals(e for e, _ in pairs if e.state.value in counted and e.institution_id in bound)
    return ComplianceTable(year, rows, result, totals, counted)


def _totals(entries) -> dict[str, Decimal]:
    totals = {a: Decimal(0) for a in AMOUNTS}
    for e in entries:
        for a in AMOUNTS:
            totals[a] += getattr(e.budget, a) or 0
    return totals


def institution_history(session: Session, plan: Plan, institution: Institution) -> list[tuple[int, Entry | None]]:
    """The institution's budget item for every reporting year of the plan."""
    years = session.scalars(sa.select(ReportingCycle.year).filter_by(plan_id=plan.id).order_by(ReportingCycle.year)).all()
    mine = {y: e for e, y in budget_entries(session, plan) if e.institution_id == institution.id}
    return [(y, mine.get(y)) for y in years]
