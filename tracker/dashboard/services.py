"""Dashboard data: loads a plan's rows and approved values in a fixed number of queries,
then computes everything with the pure status engine (tracker.status)."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field, replace
from datetime import date
from functools import cached_property
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.orm import Session

from tracker import quality
from tracker import status as st
from tracker.dashboard.reference import STRATEGY_YEARS, parity_targets
from tracker.progress.context import entry_value, indicator_spec
from tracker.plan import models as pm
from tracker.progress.models import ActionStatus, Entry, EntryKind, ReportingCycle
from tracker.progress.services import deadline_exceptions, deadline_moment, institution_deadline
from tracker.review import states

PEACEKEEPING_TAG = "peacekeeping"


# -- loading --------------------------------------------------------------------------------------


@dataclass
class PlanRows:
    """A plan's structure, targets and assignments."""

    plan: pm.Plan
    pillars: list[pm.Pillar]
    objectives: list[pm.Objective]
    actions: list[pm.Action]
    indicators: list[pm.Indicator]
    action_links: list[pm.ActionInstitution]
    indicator_links: list[pm.IndicatorInstitution]
    targets: dict[int, dict[int, Decimal]]
    institutions: dict[int, pm.Institution]
    cycles: list[ReportingCycle]
    budget_bound: set[int] = field(default_factory=set)  # the institutions the budget clause names (none: all)

    def indicator_pillar(self, indicator: pm.Indicator) -> int | None:
        if indicator.pillar_id:
            return indicator.pillar_id
        if indicator.action_id:
            return self.action_by_id[indicator.action_id].pillar_id
        if indicator.objective_id:
            return self.objective_pillar(indicator.objective_id)
        return None

    def objective_pillar(self, objective_id: int) -> int | None:
        """The pillar an objective names, or the nearest one named by its ancestors."""
        seen: set[int] = set()
        current: int | None = objective_id
        while current is not None and current not in seen:
            seen.add(current)
            objective = self.objective_by_id[current]
            if objective.pillar_id:
                return objective.pillar_id
            current = objective.parent_id
        return None

    @cached_property
    def action_by_id(self) -> dict[int, pm.Action]:
        return {a.id: a for a in self.actions}

    @cached_property
    def objective_by_id(self) -> dict[int, pm.Objective]:
        return {o.id: o for o in self.objectives}

    def in_force(self, year: int) -> tuple[list[pm.Action], list[pm.Indicator]]:
        """The actions and indicators asked for in the year's cycle (`Lifecycle.in_force`)."""
        return [a for a in self.actions if a.in_force(year)], [i for i in self.indicators if i.in_force(year)]

    def assigned_to(self, institution_id: int) -> tuple[set[int], set[int]]:
        """The ids of the actions and indicators the institution is responsible for, in any year: callers keep
        those in force in the year they show (`in_force`)."""
        actions = {link.action_id for link in self.action_links if link.institution_id == institution_id}
        indicators = {link.indicator_id for link in self.indicator_links if link.institution_id == institution_id}
        return actions, indicators


def _rows(session: Session, model, plan_id: int) -> list:
    return list(session.scalars(sa.select(model).filter_by(plan_id=plan_id).order_by(model.position, model.id)))


def load_plan_rows(session: Session, plan: pm.Plan) -> PlanRows:
    """Eight queries whatever the plan's size."""
    action_links = session.scalars(
        sa.select(pm.ActionInstitution).join(pm.Action).where(pm.Action.plan_id == plan.id)
    ).all()
    indicator_links = session.scalars(
        sa.select(pm.IndicatorInstitution).join(pm.Indicator).where(pm.Indicator.plan_id == plan.id)
    ).all()
    targets: dict[int, dict[int, Decimal]] = defaultdict(dict)
    for t in session.scalars(sa.select(pm.IndicatorTarget).join(pm.Indicator).where(pm.Indicator.plan_id == plan.id)):
        targets[t.indicator_id][t.year] = t.value
    institutions = {i.id: i for i in session.scalars(sa.select(pm.Institution).filter_by(country_id=plan.country_id))}
    cycles = list(session.scalars(sa.select(ReportingCycle).filter_by(plan_id=plan.id).order_by(ReportingCycle.year)))
    return PlanRows(
        plan=plan,
        pillars=_rows(session, pm.Pillar, plan.id),
        objectives=_rows(session, pm.Objective, plan.id),
        actions=_rows(session, pm.Action, plan.id),
        indicators=_rows(session, pm.Indicator, plan.id),
        action_links=list(action_links),
        indicator_links=list(indicator_links),
        targets=targets,
        institutions=institutions,
        cycles=cycles,
        budget_bound=set(session.scalars(sa.select(pm.BudgetBinding.institution_id).filter_by(plan_id=plan.id))),
    )


@dataclass
class EntryRows:
    """Every entry of the plan (light columns), with its cycle year."""

    rows: list[tuple]  # (Entry, year)

    def counted(self, institution_id: int | None = None, include_pending: bool = False) -> list[tuple[Entry, int]]:
        """Approved entries (and submitted ones too when pending data is included, as provisional)."""
        counted = states.COUNTED_PROVISIONALLY if include_pending else states.COUNTED
        return [(e, y) for e, y in self.rows if e.state in counted and (institution_id is None or e.institution_id == institution_id)]


def load_entries(session: Session, plan: pm.Plan) -> EntryRows:
    """One query: all of the plan's entries with their year."""
    query = (
        sa.select(Entry, ReportingCycle.year)
        .join(ReportingCycle, ReportingCycle.id == Entry.cycle_id)
        .where(ReportingCycle.plan_id == plan.id)
    )
    return EntryRows([tuple(row) for row in session.execute(query)])


# -- computing ------------------------------------------------------------------------------------


def values_by_indicator(approved: list[tuple[Entry, int]]) -> dict[int, list[st.Value]]:
    out: dict[int, list[st.Value]] = defaultdict(list)
    for e, year in approved:
        if e.kind == EntryKind.indicator:
            out[e.indicator_id].append(entry_value(e, year))
    return out


def action_reports(rows: PlanRows, approved: list[tuple[Entry, int]]) -> dict[int, list[st.ActionReport]]:
    leads = {(link.action_id, link.institution_id) for link in rows.action_links if link.role == pm.ResponsibilityRole.lead}
    out: dict[int, list[st.ActionReport]] = defaultdict(list)
    for e, year in approved:
        if e.kind == EntryKind.action and e.action_status is not None:
            out[e.action_id].append(
                st.ActionReport(e.action_id, year, e.action_status.value, (e.action_id, e.institution_id) in leads, e.reviewed_at)
            )
    return out


@dataclass
class ActionRow:
    action: pm.Action
    status: ActionStatus | None


@dataclass
class IndicatorRow:
    indicator: pm.Indicator
    result: st.IndicatorResult


@dataclass
class PillarCard:
    pillar: pm.Pillar | None
    completion: st.Completion
    actions: list[ActionRow]
    indicators: list[IndicatorRow]


@dataclass
class ObjectiveRow:
    objective: pm.Objective
    pillar_id: int | None
    completion: st.Completion


@dataclass
class InstitutionRow:
    institution: pm.Institution
    completeness: st.Completeness
    extended_to: date | None = None  # the institution's own deadline, when it was given more time


@dataclass
class ParityRow:
    indicator: pm.Indicator
    actual: st.Actual | None
    target: Decimal | None
    performance: st.Performance


@dataclass
class Dashboard:
    plan: pm.Plan
    year: int
    years: list[int]
    cycle: ReportingCycle | None
    cards: list[PillarCard]
    overall: st.Completion
    institutions: list[InstitutionRow]
    women: list[IndicatorRow]
    gender_data_gap: int
    parity: list[ParityRow]
    parity_target: st.ParityTarget | None
    trend: list[tuple[int, Decimal | None, Decimal | None]]
    demo_entries: int
    filters: dict[str, str] = field(default_factory=dict)
    action_narratives: dict[int, dict[str, str]] = field(default_factory=dict)
    budget: st.BudgetCompliance | None = None
    objectives: list[ObjectiveRow] = field(default_factory=list)
    history: dict[int, list[tuple[int, st.IndicatorResult]]] = field(default_factory=dict)
    in_parity_strategy: bool = False  # the year is one of the UN strategy's (2018-2028): an admin can enter its targets


def _year_results(rows: PlanRows, values: dict[int, list[st.Value]], indicators: list[pm.Indicator], year: int) -> dict[int, st.IndicatorResult]:
    return {i.id: st.indicator_performance(indicator_spec(i), rows.targets.get(i.id, {}), values.get(i.id, []), year) for i in indicators}


def _action_statuses(reports: dict[int, list[st.ActionReport]], actions: list[pm.Action], year: int) -> dict[int, str | None]:
    return {a.id: st.action_status(reports.get(a.id, []), year) for a in actions}


def build_dashboard(
    session: Session,
    plan: pm.Plan,
    year: int,
    institution_id: int | None = None,
    pillar_code: str | None = None,
    include_pending: bool = False,
    with_history: bool = False,
    published: bool = False,
) -> Dashboard:
    """Everything the committee dashboard shows for a year, optionally for one institution or pillar.

    `include_pending` also counts submitted entries (for provisional reports); `with_history` adds every
    indicator's results for the years up to `year`; `published` leaves demo entries out (the public page and its
    open data never show them).
    """
    rows = load_plan_rows(session, plan)
    if institution_id is not None:
        # Targets are national: one institution's figure is never scored against them (issue 16).
        rows = replace(rows, targets={})
    entries = load_entries(session, plan)
    every_action, every_indicator = _of_institution(rows, institution_id)  # every year's: the trend filters per year
    actions = [a for a in every_action if a.in_force(year)]
    indicators = [i for i in every_indicator if i.in_force(year)]
    if published:
        entries = EntryRows([(e, y) for e, y in entries.rows if not e.is_demo])
    approved = entries.counted(institution_id, include_pending)
    values = values_by_indicator(approved)
    reports = action_reports(rows, approved)
    results = _year_results(rows, values, indicators, year)
    statuses = _action_statuses(reports, actions, year)
    parity = st.parity_target(parity_targets(session), year)
    cards = _cards(rows, actions, indicators, results, statuses, pillar_code)
    cycle = next((c for c in rows.cycles if c.year == year), None)
    years = sorted({c.year for c in rows.cycles} | {y for _, y in approved})
    return Dashboard(
        plan=plan,
        year=year,
        years=years,
        cycle=cycle,
        cards=cards,
        overall=st.completion(statuses, results),
        institutions=_institution_rows(session, rows, entries, cycle, institution_id),
        women=[IndicatorRow(i, results[i.id]) for i in indicators if i.counts_people and results[i.id].actual],
        gender_data_gap=st.gender_data_gap(r.actual for r in results.values()),
        parity=_parity_rows(indicators, results, parity),
        parity_target=parity,
        trend=_trend(rows, values, reports, every_action, every_indicator, years),
        demo_entries=sum(1 for e, _ in approved if e.is_demo),
        filters={"institution": rows.institutions[institution_id].code if institution_id else "", "pillar": pillar_code or ""},
        action_narratives=_action_narratives(rows, approved, year),
        budget=_budget_compliance(rows, entries, year, institution_id),
        objectives=_objective_rows(rows, year, actions, indicators, results, statuses, pillar_code),
        history=_histories(rows, values, indicators, [y for y in years if y <= year]) if with_history else {},
        in_parity_strategy=year in STRATEGY_YEARS,
    )


def _of_institution(rows: PlanRows, institution_id: int | None) -> tuple[list[pm.Action], list[pm.Indicator]]:
    """The plan's actions and indicators, or those the institution is responsible for (retired ones included)."""
    if institution_id is None:
        return rows.actions, rows.indicators
    actions, indicators = rows.assigned_to(institution_id)
    return [a for a in rows.actions if a.id in actions], [i for i in rows.indicators if i.id in indicators]


def _objective_rows(rows: PlanRows, year: int, actions, indicators, results, statuses, pillar_code) -> list[ObjectiveRow]:
    """Completion per objective in force in the year, for the objectives that have actions or indicators
    (in force too) linked to them."""
    pillar_ids = {p.id for p in rows.pillars if p.code == pillar_code} if pillar_code else None
    out = []
    for objective in (o for o in rows.objectives if o.in_force(year)):
        o_actions = [a for a in actions if a.objective_id == objective.id]
        action_ids = {a.id for a in o_actions}
        o_indicators = [i for i in indicators if i.objective_id == objective.id or i.action_id in action_ids]
        if not (o_actions or o_indicators):
            continue
        pillar_id = rows.objective_pillar(objective.id) or next((a.pillar_id for a in o_actions), None) or next((rows.indicator_pillar(i) for i in o_indicators), None)
        if pillar_ids is not None and pillar_id not in pillar_ids:
            continue
        completion = st.completion({a.id: statuses[a.id] for a in o_actions}, {i.id: results[i.id] for i in o_indicators})
        out.append(ObjectiveRow(objective, pillar_id, completion))
    return out


def _budget_compliance(rows: PlanRows, entries: EntryRows, year: int, only: int | None) -> st.BudgetCompliance:
    """The budget clause for the year among the institutions it binds: those the plan names, else every
    implementing institution (the same denominator as the compliance page)."""
    implementing = set(rows.budget_bound) or (
        {link.institution_id for link in rows.action_links} | {link.institution_id for link in rows.indicator_links})
    if only is not None:
        implementing &= {only}
    facts = [
        st.BudgetFact(e.institution_id, e.state.value, e.budget.stage.value if e.budget is not None and e.budget.stage else None)
        for e, y in entries.rows
        if y == year and e.kind == EntryKind.budget
    ]
    return st.budget_compliance(sorted(implementing), facts)


def _action_narratives(rows: PlanRows, counted: list[tuple[Entry, int]], year: int) -> dict[int, dict[str, str]]:
    """What was done, challenges and next steps per action, every reporting institution's text in turn."""
    out: dict[int, dict[str, list[str]]] = defaultdict(lambda: defaultdict(list))
    for e, y in sorted(counted, key=lambda pair: rows.institutions[pair[0].institution_id].code):
        if y == year and e.kind == EntryKind.action:
            for name in ("done", "challenges", "next_steps"):
                if getattr(e, name):
                    out[e.action_id][name].append(f"{rows.institutions[e.institution_id].code}: {getattr(e, name)}")
    return {action_id: {k: "\n".join(v) for k, v in texts.items()} for action_id, texts in out.items()}


def _histories(rows: PlanRows, values, indicators, years: list[int]) -> dict[int, list[tuple[int, st.IndicatorResult]]]:
    return {
        i.id: [(y, st.indicator_performance(indicator_spec(i), rows.targets.get(i.id, {}), values.get(i.id, []), y)) for y in years]
        for i in indicators
    }


def _cards(rows: PlanRows, actions, indicators, results, statuses, pillar_code) -> list[PillarCard]:
    cards = []
    for pillar in rows.pillars:
        if pillar_code and pillar.code != pillar_code:
            continue
        p_actions = [a for a in actions if a.pillar_id == pillar.id]
        p_indicators = [i for i in indicators if rows.indicator_pillar(i) == pillar.id]
        cards.append(_card(pillar, p_actions, p_indicators, results, statuses))
    loose = [i for i in indicators if rows.indicator_pillar(i) is None]
    if loose and not pillar_code:
        cards.append(_card(None, [], loose, results, statuses))
    return cards


def _card(pillar, actions, indicators, results, statuses) -> PillarCard:
    completion = st.completion({a.id: statuses[a.id] for a in actions}, {i.id: results[i.id] for i in indicators})
    action_rows = [ActionRow(a, ActionStatus(statuses[a.id]) if statuses[a.id] else None) for a in actions]
    return PillarCard(pillar, completion, action_rows, [IndicatorRow(i, results[i.id]) for i in indicators])


def _institution_rows(session: Session, rows: PlanRows, entries: EntryRows, cycle: ReportingCycle | None,
                      only: int | None) -> list[InstitutionRow]:
    if cycle is None:
        return []
    actions, indicators = rows.in_force(cycle.year)  # a retired item is neither asked for nor counted as reported
    action_ids, indicator_ids = {a.id for a in actions}, {i.id for i in indicators}
    facts = [
        st.EntryFact(e.institution_id, e.state.value, e.submitted_at)
        for e, year in entries.rows
        if year == cycle.year and (e.action_id in action_ids or e.indicator_id in indicator_ids)  # budget: its own table
    ]
    exceptions = deadline_exceptions(session, cycle)  # institutions given more time: their own deadline day
    own_due = {i: deadline_moment(cycle, i, exceptions) for i in exceptions}
    assigned = _assigned_counts(rows, action_ids, indicator_ids)
    table = st.completeness(assigned, facts, deadline_moment(cycle), own_due)  # deadline days in the plan's country
    ids = [only] if only else sorted(table, key=lambda i: rows.institutions[i].code)
    extended = {i: institution_deadline(cycle, i, exceptions) for i in exceptions}
    return [InstitutionRow(rows.institutions[i], table[i], extended.get(i)) for i in ids if i in table]


def _assigned_counts(rows: PlanRows, action_ids: set[int], indicator_ids: set[int]) -> dict[int, int]:
    """How many of these actions and indicators each institution is responsible for (none: no row)."""
    assigned: dict[int, int] = defaultdict(int)
    for link in rows.action_links:
        if link.action_id in action_ids:
            assigned[link.institution_id] += 1
    for link in rows.indicator_links:
        if link.indicator_id in indicator_ids:
            assigned[link.institution_id] += 1
    return dict(assigned)


def _parity_rows(indicators, results, target: st.ParityTarget | None) -> list[ParityRow]:
    share = target.contingents if target else None
    return [
        ParityRow(i, results[i.id].actual, share, st.parity_comparison(results[i.id].actual, share))
        for i in indicators
        if PEACEKEEPING_TAG in i.tags.split() and i.counts_people
    ]


def _trend(rows, values, reports, actions, indicators, years) -> list[tuple[int, Decimal | None, Decimal | None]]:
    """Completion year by year, each year over the items in force in it (a retired item leaves the later years)."""
    by_year = {}
    for year in years:
        results = _year_results(rows, values, [i for i in indicators if i.in_force(year)], year)
        statuses = _action_statuses(reports, [a for a in actions if a.in_force(year)], year)
        completion = st.completion(statuses, results)
        if completion.actions_reported or completion.indicators_reported:
            by_year[year] = completion
    return st.trend(by_year)


def default_year(session: Session, plan: pm.Plan) -> int | None:
    """The latest cycle's year (None when the plan has no cycle yet)."""
    return session.scalar(sa.select(sa.func.max(ReportingCycle.year)).filter_by(plan_id=plan.id))


@dataclass(frozen=True)
class IndicatorHistory:
    """An indicator's years: the national figure, target and status of each, and what each institution's approved
    report contributed (the institutions' figures are never scored against the national target)."""

    years: list[tuple[int, st.IndicatorResult]]
    institutions: list[pm.Institution]
    contributions: dict[tuple[int, int], Decimal | None]  # (year, institution id) -> figure

    def __iter__(self):
        return iter(self.years)


def indicator_history(session: Session, plan: pm.Plan, indicator: pm.Indicator) -> IndicatorHistory:
    """The indicator's value, target and status for every year with a cycle or a target, while it was in force
    (a retired indicator is not expected, so not "without data", from the year of its retirement on), with each
    institution's contribution."""
    rows = load_plan_rows(session, plan)
    approved = [(e, y) for e, y in load_entries(session, plan).counted() if e.indicator_id == indicator.id]
    values = values_by_indicator(approved)
    years = sorted(y for y in {c.year for c in rows.cycles} | set(rows.targets.get(indicator.id, {})) if indicator.in_force(y))
    spec = indicator_spec(indicator)
    results = [(y, st.indicator_performance(spec, rows.targets.get(indicator.id, {}), values.get(indicator.id, []), y)) for y in years]
    contributions = {(y, e.institution_id): quality.figure(spec, entry_value(e, y)) for e, y in approved}
    reporting = sorted({i for _, i in contributions}, key=lambda i: rows.institutions[i].code)
    return IndicatorHistory(results, [rows.institutions[i] for i in reporting], contributions)
