"""Read services for plan pages: each loads what a page needs in a fixed number of queries."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

import sqlalchemy as sa
from sqlalchemy.orm import Session, joinedload, selectinload

from tracker.plan import models as m


class NotFound(LookupError):
    """The requested plan item does not exist."""


def list_plans(session: Session, user=None) -> list[m.Plan]:
    """The plans the user may read (all plans without a user), with their country, newest adoption first."""
    from tracker import permissions

    query = sa.select(m.Plan).options(joinedload(m.Plan.country)).order_by(m.Plan.adoption_year.desc(), m.Plan.code)
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


def get_plan(session: Session, code: str) -> m.Plan:
    """The plan with this code, its country, lead institution, sections and pillars; or NotFound."""
    query = (
        sa.select(m.Plan)
        .filter_by(code=code)
        .options(
            joinedload(m.Plan.country),
            joinedload(m.Plan.lead_institution),
            selectinload(m.Plan.sections),
            selectinload(m.Plan.pillars),
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
    """A pillar with its objectives, actions (and their institutions) and indicators."""
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
    indicators = session.scalars(
        sa.select(m.Indicator)
        .where(sa.or_(m.Indicator.pillar_id == pillar.id, m.Indicator.action_id.in_(action_ids)))
        .order_by(m.Indicator.position)
    )
    by_action: dict[int | None, list[m.Indicator]] = defaultdict(list)
    for ind in indicators:
        by_action[ind.action_id if ind.action_id in action_ids else None].append(ind)
    objective_ids = {a.objective_id for a in actions if a.objective_id}
    objectives = list(
        session.scalars(
            sa.select(m.Objective)
            .where(sa.or_(m.Objective.pillar_id == pillar.id, m.Objective.id.in_(objective_ids)))
            .order_by(m.Objective.position)
        )
    )
    return PillarPage(plan, pillar, objectives, actions, by_action)


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
