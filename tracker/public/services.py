"""What the public page shows, and the committee's setting that publishes it."""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass
from decimal import Decimal

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Session

from tracker import audit, opendata
from tracker.audit import AuditEvent
from tracker.dashboard import services as dashboard
from tracker.domain import ValidationFailed
from tracker.plan import models as pm

MIN_THRESHOLD, MAX_THRESHOLD = 2, 100


@dataclass(frozen=True)
class PublicIndicator:
    indicator: pm.Indicator
    performance: object  # tracker.status.Performance
    target: Decimal | None
    total: opendata.Row | None
    women: opendata.Row | None
    men: opendata.Row | None

    @property
    def suppressed(self) -> bool:
        return any(row is not None and row.status for row in (self.total, self.women, self.men))

    @property
    def women_share(self) -> Decimal | None:
        """Women among the people counted, unless a count is suppressed (it would give it away)."""
        if not (self.women and self.men) or self.women.status or self.men.status:
            return None
        people = (self.women.value or 0) + (self.men.value or 0)
        return self.women.value / people if people else None


@dataclass(frozen=True)
class PublicPlan:
    plan: pm.Plan
    sections: dict[str, pm.PlanSection]
    year: int | None
    board: dashboard.Dashboard | None
    indicators: list[PublicIndicator]
    threshold: int
    finals: list[tuple[int, int]]  # (year, version) of the final reports


def is_published(plan: pm.Plan) -> bool:
    return plan.profile is not None and plan.profile.public


def public_plan(session: Session, plan: pm.Plan) -> PublicPlan:
    """The page's content for the latest year with a cycle: completion, each indicator's national figure (suppressed
    where small), budget compliance; the plan's eight tabs; the years and versions of its final reports."""
    from tracker.reports.models import FinalReport

    threshold = opendata.threshold(plan)
    year = dashboard.default_year(session, plan)
    board = dashboard.build_dashboard(session, plan, year, published=True) if year else None
    rows = {(r.indicator, r.sex): r for r in opendata.national(session, plan, threshold) if r.year == year}
    indicators = [PublicIndicator(row.indicator, row.result.performance, row.result.target,
                                  rows.get((row.indicator.code, "")), rows.get((row.indicator.code, "female")),
                                  rows.get((row.indicator.code, "male")))
                  for card in (board.cards if board else []) for row in card.indicators]
    sections = {s.tab.value: s for s in plan.sections}
    finals = sorted({(y, v) for y, v in session.execute(sa.select(FinalReport.year, FinalReport.version)
                                                          .filter_by(plan_id=plan.id))}, reverse=True)
    return PublicPlan(plan, sections, year, board, indicators, threshold, finals)


# Rendered pages and files by (what, plan, language, the plan's latest change): see `_stamp`.
_CACHE: OrderedDict = OrderedDict()
CACHE_SIZE = 64


def _stamp(session: Session, plan: pm.Plan) -> tuple:
    """What changes whenever the page could: the latest audit event (approvals, reopenings, this setting), the
    plan's latest edit and target change (its history), and its entries' latest version; with their times, as ids
    can repeat after a restore. One statement."""
    from tracker.plan.models import IndicatorTargetChange, PlanChange
    from tracker.progress.models import Entry, EntryVersion, ReportingCycle

    entries = (sa.select(sa.func.max(EntryVersion.at)).join(Entry, Entry.id == EntryVersion.entry_id)
               .join(ReportingCycle, ReportingCycle.id == Entry.cycle_id).where(ReportingCycle.plan_id == plan.id))
    parts = [sa.select(sa.func.max(AuditEvent.id)), sa.select(sa.func.max(AuditEvent.at)),
             sa.select(sa.func.max(PlanChange.id)).where(PlanChange.plan_id == plan.id),
             sa.select(sa.func.max(IndicatorTargetChange.id)), entries]
    return tuple(session.execute(sa.select(*[p.scalar_subquery() for p in parts])).one())


def cached(session: Session, what: str, plan: pm.Plan, language: str, make):
    """`make()`'s result (the page's content, its CSV), from this process's cache while nothing it shows changed."""
    key = (what, plan.id, language, *_stamp(session, plan))
    if key not in _CACHE:
        _CACHE[key] = make()
        while len(_CACHE) > CACHE_SIZE:
            _CACHE.popitem(last=False)
    _CACHE.move_to_end(key)
    return _CACHE[key]


def save_settings(session: Session, plan: pm.Plan, published: bool, threshold: int | None, reason: str, actor) -> None:
    """Publish (or withdraw) the plan's public page and set its small-cell threshold; audited with the reason."""
    if threshold is None or not MIN_THRESHOLD <= threshold <= MAX_THRESHOLD:
        raise ValidationFailed([("threshold", str(_l("Give a whole number from 2 to 100.")))])
    profile = plan.profile or pm.PlanProfile(plan=plan)
    before = {"public": bool(profile.public), "threshold": profile.public_threshold or opendata.DEFAULT_THRESHOLD}
    profile.public, profile.public_threshold = published, threshold
    session.add(profile)
    after = {"public": published, "threshold": threshold}
    changes = {k: [before[k], after[k]] for k in after if before[k] != after[k]}
    if changes:
        audit.record(session, "plan.public_page_updated", actor=actor, target=plan, plan=plan.code, changes=changes,
                     reason=reason.strip())
    session.flush()
