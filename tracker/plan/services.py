"""Read services for plan pages: each loads what a page needs in a fixed number of queries."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
import yaml
from sqlalchemy.orm import Session, joinedload, selectinload

from tracker.plan import models as m


class NotFound(LookupError):
    """The requested plan item does not exist."""


def list_plans(session: Session, user=None, with_bodies: bool = False) -> list[m.Plan]:
    """The plans the user may read (all plans without a user), with their country (and their monitoring
    bodies, in one more query), newest adoption first."""
    from tracker import permissions

    query = sa.select(m.Plan).options(joinedload(m.Plan.country), *([selectinload(m.Plan.bodies)] if with_bodies else []))
    query = query.order_by(m.Plan.adoption_year.desc(), m.Plan.code)
    plans = list(session.scalars(query))
    return plans if user is None else [p for p in plans if permissions.can_view_plan(user, p)]


def use_plan(plan: m.Plan) -> None:
    """Make this the request's plan: numbers and amounts follow its country's locale and currency, and
    it is remembered as the user's last plan (the navigation and the dashboard open it next time)."""
    from flask import g, has_request_context, session
    from flask_babel import refresh

    if not has_request_context():
        return
    g.plan = plan
    if session.get("plan") != plan.code:
        session["plan"] = plan.code
    refresh()


def remembered_plan(session: Session, user) -> m.Plan | None:
    """The plan the user used last, if they may still read it; else the first plan they may read."""
    from flask import session as flask_session

    plans = list_plans(session, user)
    code = flask_session.get("plan")
    return next((p for p in plans if p.code == code), plans[0] if plans else None)


def cycle_years(session: Session, plan_ids: list[int]) -> dict[int, list[int]]:
    """Each plan's years with a reporting cycle, newest first (one query for all the plans)."""
    from tracker.progress.models import ReportingCycle  # progress builds on the plan, not the other way round

    years: dict[int, list[int]] = defaultdict(list)
    query = sa.select(ReportingCycle.plan_id, ReportingCycle.year).where(ReportingCycle.plan_id.in_(plan_ids))
    for plan_id, year in session.execute(query.order_by(ReportingCycle.year.desc())):
        years[plan_id].append(year)
    return years


def plan_timezone(plan: m.Plan) -> ZoneInfo:
    """The time zone the plan's dates are read in: its country's (UTC when the country names none)."""
    return ZoneInfo(plan.country.timezone or "UTC")


def monitoring_body(plan: m.Plan | None) -> m.MonitoringBody | None:
    """The plan's active monitoring body (the one whose members review it), or None."""
    if plan is None:
        return None
    return next((b for b in plan.bodies if b.active), None)


def reviewing_body(plan: m.Plan | None) -> str:
    """The body that reviews the plan, for a sentence: "the monitoring body (its name)", or just "the
    monitoring body" when the plan names none. Lower case: it never opens a sentence."""
    from flask_babel import gettext as _

    from tracker.i18n import localized

    body = monitoring_body(plan)
    if body is None:
        return _("the monitoring body")
    return _("the monitoring body (%(name)s)", name=str(localized(body, "name")))


def objective_pillars(pillar_ids) -> sa.CTE:
    """Each objective's pillar, for the pillars in `pillar_ids` (a list or a select of ids): the one it names
    or, when it names none, the nearest one named by its ancestors. Columns: objective_id, pillar_id.

    The one rule for "the pillar of an objective" on plan pages and in queries; the dashboard applies
    the same rule in memory (tracker.dashboard.services.PlanRows.objective_pillar)."""
    named = sa.select(m.Objective.id.label("objective_id"), m.Objective.pillar_id.label("pillar_id"))
    tree = named.where(m.Objective.pillar_id.in_(pillar_ids)).cte("objective_pillar", recursive=True)
    # UNION (not UNION ALL) drops repeats, so a loop of parents ends instead of recursing for ever.
    inherited = (
        sa.select(m.Objective.id, tree.c.pillar_id)
        .join(tree, m.Objective.parent_id == tree.c.objective_id)
        .where(m.Objective.pillar_id.is_(None))
    )
    return tree.union(inherited)


def indicator_pillar(session: Session, indicator: m.Indicator) -> m.Pillar | None:
    """The pillar an indicator belongs to: its own, else its action's, else its objective's (inherited from
    the objective's ancestors, see objective_pillars)."""
    if indicator.pillar_id is not None:
        return indicator.pillar
    if indicator.action is not None:
        return indicator.action.pillar
    if indicator.objective_id is None:
        return None
    tree = objective_pillars(sa.select(m.Pillar.id).where(m.Pillar.plan_id == indicator.plan_id))
    query = sa.select(m.Pillar).join(tree, tree.c.pillar_id == m.Pillar.id).where(tree.c.objective_id == indicator.objective_id)
    return session.scalars(query.limit(1)).first()


def get_plan(session: Session, code: str) -> m.Plan:
    """The plan with this code, its country, lead institution, sections, pillars and monitoring bodies
    (pages name the reviewing body: loaded here, a page costs the same whether it names it or not); or NotFound."""
    query = (
        sa.select(m.Plan)
        .filter_by(code=code)
        .options(
            joinedload(m.Plan.country),
            joinedload(m.Plan.lead_institution),
            selectinload(m.Plan.sections),
            selectinload(m.Plan.pillars),
            selectinload(m.Plan.bodies),
        )
    )
    plan = session.scalars(query).one_or_none()
    if plan is None:
        raise NotFound(code)
    return plan


@dataclass
class PlanOverview:
    """Everything the plan page shows."""

    plan: m.Plan
    actors: list[m.PlanActor]
    monitoring: list[m.MonitoringParticipant]
    objectives: list[m.Objective]
    children: dict[int | None, list[m.Objective]]
    actions_by_pillar: dict[int, list[m.Action]]
    indicators: list[m.Indicator]
    sections: dict[str, m.PlanSection] = field(default_factory=dict)


def plan_overview(session: Session, code: str) -> PlanOverview:
    """The plan page's data: tabs, actors, M&E, objectives tree, actions by pillar, indicators."""
    plan = get_plan(session, code)
    objectives = _plan_rows(session, m.Objective, plan.id)
    children: dict[int | None, list[m.Objective]] = defaultdict(list)
    for o in objectives:
        children[o.parent_id].append(o)
    actions_by_pillar: dict[int, list[m.Action]] = defaultdict(list)
    for a in _plan_rows(session, m.Action, plan.id, selectinload(m.Action.institutions).joinedload(m.ActionInstitution.institution)):
        actions_by_pillar[a.pillar_id].append(a)
    return PlanOverview(
        plan=plan,
        actors=_plan_rows(session, m.PlanActor, plan.id, joinedload(m.PlanActor.institution)),
        monitoring=_plan_rows(session, m.MonitoringParticipant, plan.id, joinedload(m.MonitoringParticipant.institution)),
        objectives=objectives,
        children=children,
        actions_by_pillar=actions_by_pillar,
        indicators=_plan_rows(session, m.Indicator, plan.id),
        sections={s.tab.value: s for s in plan.sections},
    )


def _plan_rows(session: Session, model: type, plan_id: int, *options) -> list:
    query = sa.select(model).filter_by(plan_id=plan_id).order_by(model.position, model.id).options(*options)
    return list(session.scalars(query).unique())


@dataclass
class PillarPage:
    plan: m.Plan
    pillar: m.Pillar
    objectives: list[m.Objective]
    actions: list[m.Action]
    indicators_by_action: dict[int | None, list[m.Indicator]]


def pillar_page(session: Session, plan_code: str, pillar_code: str) -> PillarPage:
    """A pillar with its objectives (those that name it or inherit it), actions (and their institutions)
    and indicators (its own, its actions', and those of its objectives)."""
    plan = get_plan(session, plan_code)
    pillar = next((p for p in plan.pillars if p.code == pillar_code), None)
    if pillar is None:
        raise NotFound(pillar_code)
    actions = list(
        session.scalars(
            sa.select(m.Action)
            .filter_by(pillar_id=pillar.id)
            .order_by(m.Action.position)
            .options(selectinload(m.Action.institutions).joinedload(m.ActionInstitution.institution))
        ).unique()
    )
    action_ids = [a.id for a in actions]
    by_action: dict[int | None, list[m.Indicator]] = defaultdict(list)
    for ind in _pillar_indicators(session, pillar, action_ids):
        by_action[ind.action_id if ind.action_id in action_ids else None].append(ind)
    action_objectives = {a.objective_id for a in actions if a.objective_id}
    of_pillar = sa.select(objective_pillars([pillar.id]).c.objective_id)
    objectives = list(
        session.scalars(
            sa.select(m.Objective)
            .where(sa.or_(m.Objective.id.in_(of_pillar), m.Objective.id.in_(action_objectives)))
            .order_by(m.Objective.position, m.Objective.id)
        )
    )
    return PillarPage(plan, pillar, objectives, actions, by_action)


def _pillar_indicators(session: Session, pillar: m.Pillar, action_ids: list[int]) -> list[m.Indicator]:
    """The pillar's indicators: named by the indicator, by its action, or by its objective (or an ancestor)."""
    of_objectives = sa.and_(
        m.Indicator.pillar_id.is_(None),
        m.Indicator.action_id.is_(None),
        m.Indicator.objective_id.in_(sa.select(objective_pillars([pillar.id]).c.objective_id)),
    )
    query = sa.select(m.Indicator).where(
        m.Indicator.plan_id == pillar.plan_id,
        sa.or_(m.Indicator.pillar_id == pillar.id, m.Indicator.action_id.in_(action_ids), of_objectives),
    )
    return list(session.scalars(query.order_by(m.Indicator.position, m.Indicator.id)))


def get_indicator(session: Session, plan_code: str, indicator_code: str) -> m.Indicator:
    """An indicator with everything its page shows: plan, pillar, objective, action, institutions, targets."""
    query = (
        sa.select(m.Indicator)
        .join(m.Plan, m.Plan.id == m.Indicator.plan_id)
        .where(m.Plan.code == plan_code, m.Indicator.code == indicator_code)
        .options(
            joinedload(m.Indicator.pillar),
            joinedload(m.Indicator.objective),
            joinedload(m.Indicator.action).joinedload(m.Action.pillar),
            selectinload(m.Indicator.responsible).joinedload(m.IndicatorInstitution.institution),
            selectinload(m.Indicator.targets),
        )
    )
    indicator = session.scalars(query).unique().one_or_none()
    if indicator is None:
        raise NotFound(indicator_code)
    return indicator


def target_history(session: Session, indicator_id: int) -> list[m.IndicatorTargetChange]:
    """Every change to the indicator's targets, newest first."""
    query = (
        sa.select(m.IndicatorTargetChange)
        .filter_by(indicator_id=indicator_id)
        .order_by(m.IndicatorTargetChange.changed_at.desc(), m.IndicatorTargetChange.id.desc())
    )
    return list(session.scalars(query))


@dataclass(frozen=True)
class VersionSummary:
    """One version of a plan: when it was in force, what replaced it and why, and what was reported against it."""

    version: int
    title: Any  # a row with title_es/title_en (the plan, or the kept version)
    in_force_from: Any  # datetime | None: since the plan was loaded
    in_force_until: Any  # datetime | None: still in force
    superseded_by: str
    reason: str
    entries: int
    years: list[int]

    @property
    def current(self) -> bool:
        return self.in_force_until is None


def plan_versions(session: Session, plan: m.Plan) -> list[VersionSummary]:
    """The plan's versions, newest first (the one in force first), with the entries created while each was in
    force: an entry belongs to the version it was reported against. Two queries whatever the number of versions."""
    from tracker.progress.models import Entry, ReportingCycle  # progress builds on the plan

    kept = list(session.scalars(sa.select(m.PlanVersion).filter_by(plan_id=plan.id).order_by(m.PlanVersion.version)))
    ends = [v.superseded_at for v in kept]
    bucket = sa.case(*[(Entry.created_at < end, i) for i, end in enumerate(ends)], else_=len(ends)) if ends else sa.literal(0)
    query = (sa.select(bucket.label("bucket"), ReportingCycle.year, sa.func.count())
             .select_from(Entry).join(ReportingCycle, ReportingCycle.id == Entry.cycle_id)
             .where(ReportingCycle.plan_id == plan.id).group_by(bucket, ReportingCycle.year))
    counts: dict[int, dict[int, int]] = defaultdict(dict)
    for index, year, n in session.execute(query):
        counts[index][year] = n
    summaries = [
        VersionSummary(v.version, v, ends[i - 1] if i else None, v.superseded_at, v.superseded_by, v.reason,
                       sum(counts[i].values()), sorted(counts[i]))
        for i, v in enumerate(kept)
    ]
    current = VersionSummary(plan.version, plan, ends[-1] if ends else None, None, "", "",
                             sum(counts[len(kept)].values()), sorted(counts[len(kept)]))
    return [current, *reversed(summaries)]


def kept_version(session: Session, plan: m.Plan, version: int):
    """A version a revision replaced: its stored row and its plan file (validated), with the items that were in
    force then (retired ones left out); or NotFound."""
    from tracker.plan.loader import validate_plan_data

    row = session.scalars(sa.select(m.PlanVersion).filter_by(plan_id=plan.id, version=version)).one_or_none()
    if row is None:
        raise NotFound(version)
    parsed = validate_plan_data(yaml.safe_load(row.snapshot), f"{plan.code} version {version}")
    retired = row.retired_codes()
    p = parsed.plan
    in_force = p.model_copy(update={
        "objectives": [x for x in p.objectives if f"objective:{x.code}" not in retired],
        "actions": [x for x in p.actions if f"action:{x.code}" not in retired],
        "indicators": [x for x in p.indicators if f"indicator:{x.code}" not in retired],
    })
    return row, parsed.model_copy(update={"plan": in_force})
