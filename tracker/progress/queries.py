"""Read helpers for the progress pages (each a fixed number of queries)."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import sqlalchemy as sa
from flask_babel import gettext as _
from sqlalchemy.orm import Session, joinedload

from tracker import permissions
from tracker.forms import options
from tracker.i18n import localized
from tracker.plan.models import (
    Action,
    ActionInstitution,
    Indicator,
    IndicatorInstitution,
    IndicatorTarget,
    Institution,
    Pillar,
    Plan,
)
from tracker.plan.services import objective_pillars
from tracker.progress.models import CycleState, Entry, EntryKind, EntryState, ReportingCycle


def latest_cycle(session: Session, institution_id: int | None = None) -> ReportingCycle | None:
    """The most recent open cycle (or the most recent cycle when none is open), among the plans the
    institution reports on when one is given."""
    query = sa.select(ReportingCycle).options(joinedload(ReportingCycle.plan))
    if institution_id is not None:
        query = query.where(ReportingCycle.plan_id.in_(_plans_of(institution_id)))
    open_first = sa.case((ReportingCycle.state == CycleState.open, 0), else_=1)
    return session.scalars(query.order_by(open_first, ReportingCycle.year.desc()).limit(1)).first()


def _plans_of(institution_id: int):
    via_actions = sa.select(Action.plan_id).join(ActionInstitution).where(ActionInstitution.institution_id == institution_id)
    via_indicators = sa.select(Indicator.plan_id).join(IndicatorInstitution).where(IndicatorInstitution.institution_id == institution_id)
    return via_actions.union(via_indicators)


def reporting_institutions(session: Session, plan: Plan) -> list[Institution]:
    """Institutions responsible for at least one indicator or action of the plan."""
    via_actions = sa.select(ActionInstitution.institution_id).join(Action).where(Action.plan_id == plan.id)
    via_indicators = sa.select(IndicatorInstitution.institution_id).join(Indicator).where(Indicator.plan_id == plan.id)
    query = sa.select(Institution).where(Institution.id.in_(via_actions.union(via_indicators))).order_by(Institution.code)
    return list(session.scalars(query))


def worklist_institution(session: Session, user, plan: Plan, code: str | None) -> Institution | None:
    """A reporter sees their own institution; the committee chooses any of the plan's (default: the first)."""
    if permissions.can_review(user, plan):
        institutions = reporting_institutions(session, plan)
        return next((i for i in institutions if i.code == code), None) if code else (institutions[0] if institutions else None)
    return user.institution


def target_for(indicator: Indicator, year: int) -> IndicatorTarget | None:
    return next((t for t in indicator.targets if t.year == year), None)


def fill_review_choices(session: Session, form, plan_ids: frozenset[int]) -> None:
    """The filters' choices, within the plans the reviewer reviews (the queue is limited to them too)."""
    plans = session.scalars(sa.select(Plan).where(Plan.id.in_(plan_ids)).order_by(Plan.code)).all()
    form.plan.choices = options([("", _("All my plans") if len(plans) > 1 else "—")] + [(p.code, p.code) for p in plans])
    chosen = [p.id for p in plans if p.code == form.plan.data]
    form.plan_ids = frozenset(chosen or plan_ids)
    countries = sa.select(Plan.country_id).where(Plan.id.in_(form.plan_ids))
    institutions = session.scalars(sa.select(Institution).where(Institution.country_id.in_(countries))
                                   .order_by(Institution.code)).all()
    form.institution.choices = options([("", "—")] + sorted({(i.code, i.code) for i in institutions}))
    pillars = session.scalars(sa.select(Pillar).where(Pillar.plan_id.in_(form.plan_ids))
                              .order_by(Pillar.plan_id, Pillar.position)).all()
    seen: dict[str, str] = {}
    for p in pillars:
        seen.setdefault(p.code, str(localized(p, "name")))
    form.pillar.choices = options([("", "—")] + list(seen.items()))
    if not form.state.raw_data:
        form.state.data = EntryState.submitted.value


REVIEW_PAGE_SIZE = 50


@dataclass(frozen=True)
class ReviewPage:
    """One page of the review queue, with the true number of entries that match the filters."""

    entries: list[Entry]
    total: int
    page: int
    per_page: int = REVIEW_PAGE_SIZE

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))

    @property
    def first(self) -> int:
        """Position of the page's first entry (1-based; 0 when there are none)."""
        return (self.page - 1) * self.per_page + 1 if self.entries else 0

    @property
    def last(self) -> int:
        return self.first + len(self.entries) - 1 if self.entries else 0


def _review_filtered(form) -> sa.Select:
    """The entries the review filters select, joined for filtering only."""
    query = (
        sa.select(Entry)
        .join(ReportingCycle, ReportingCycle.id == Entry.cycle_id)
        .join(Institution, Institution.id == Entry.institution_id)
        .outerjoin(Indicator, Indicator.id == Entry.indicator_id)
        .outerjoin(Action, Action.id == Entry.action_id)
        .where(ReportingCycle.plan_id.in_(form.plan_ids))
    )
    if form.year.data:
        query = query.where(ReportingCycle.year == form.year.data)
    if form.institution.data:
        query = query.where(Institution.code == form.institution.data)
    if form.state.data in {s.value for s in EntryState}:
        query = query.where(Entry.state == EntryState(form.state.data))
    if form.flagged_ids is not None:
        query = query.where(Entry.id.in_(form.flagged_ids))
    if form.pillar.data:
        pillars = sa.select(Pillar.id).where(Pillar.code == form.pillar.data, Pillar.plan_id.in_(form.plan_ids))
        # An indicator naming neither pillar nor action belongs to its objective's pillar (or an ancestor's).
        of_objectives = sa.and_(
            Indicator.pillar_id.is_(None),
            Indicator.action_id.is_(None),
            Indicator.objective_id.in_(sa.select(objective_pillars(pillars).c.objective_id)),
        )
        query = query.where(
            sa.or_(
                Action.pillar_id.in_(pillars),
                Indicator.pillar_id.in_(pillars),
                Indicator.action_id.in_(sa.select(Action.id).where(Action.pillar_id.in_(pillars))),
                of_objectives,
            )
        )
    return query


def apply_flag_filter(session: Session, form) -> None:
    """With "only entries worth a second look" ticked, narrow the filters to the matching entries that have
    data-quality flags (three queries: the matching indicator entries, their institutions' approved years,
    their evidence counts)."""
    from tracker.progress.context import queue_flags

    if not form.flagged.data:
        return
    matching = session.scalars(_review_filtered(form).where(Entry.kind == EntryKind.indicator)
                               .options(joinedload(Entry.cycle), joinedload(Entry.indicator))).unique().all()
    form.flagged_ids = frozenset(entry_id for entry_id, found in queue_flags(session, list(matching)).items() if found)


def review_page(session: Session, form, page: int = 1, per_page: int = REVIEW_PAGE_SIZE) -> ReviewPage:
    """A page of the entries matching the review filters, oldest submission first (two queries)."""
    filtered = _review_filtered(form)
    total = session.scalar(sa.select(sa.func.count()).select_from(filtered.subquery())) or 0
    page = min(max(page, 1), max(1, -(-total // per_page)))
    query = (
        filtered.options(
            joinedload(Entry.cycle).joinedload(ReportingCycle.plan).joinedload(Plan.country),
            joinedload(Entry.institution),
            joinedload(Entry.indicator),
            joinedload(Entry.action),
        )
        .order_by(Entry.submitted_at.is_(None), Entry.submitted_at, Entry.id)
        .offset((page - 1) * per_page)
        .limit(per_page)
    )
    return ReviewPage(list(session.scalars(query).unique()), total, page, per_page)


@dataclass(frozen=True)
class Decidable:
    """Every submitted entry the filters select, on every page, at the version it is now."""

    versions: dict[int, int]

    @property
    def fingerprint(self) -> str:
        """Changes when any of these entries changes, leaves or is replaced: what "all that match" confirms."""
        listed = ",".join(f"{i}:{v}" for i, v in sorted(self.versions.items()))
        return hashlib.sha256(listed.encode()).hexdigest()


def decidable(session: Session, form) -> Decidable:
    """What a bulk decision on "all that match" would act on (one query of two columns)."""
    query = (_review_filtered(form).where(Entry.state == EntryState.submitted)
             .with_only_columns(Entry.id, Entry.version).order_by(Entry.id))
    return Decidable({entry_id: version for entry_id, version in session.execute(query)})
