"""What a reviewer needs beside an indicator entry to judge it: the year's target and the baseline, the
institution's approved figures of earlier years, the other institutions' approved figures for the same year, the
national figure and the status the year would have with this entry approved, the women's share, and the
data-quality flags (tracker.quality). Two queries whatever the number of years and institutions.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.orm import Session, joinedload

from tracker import quality
from tracker import status as st
from tracker.plan.models import Indicator, IndicatorTarget, Institution
from tracker.progress.models import Entry, EntryKind, Evidence, ReportingCycle
from tracker.review import states


def indicator_spec(indicator: Indicator) -> st.IndicatorSpec:
    """The status engine's view of an indicator."""
    return st.IndicatorSpec(
        id=indicator.id,
        measure=indicator.measure.value,
        direction=indicator.direction.value,
        cumulative=indicator.cumulative,
        counts_people=indicator.counts_people,
        baseline=indicator.baseline_value,
        tags=tuple(indicator.tags.split()),
    )


def indicator_rules(indicator: Indicator) -> quality.Rules:
    """The quality rules the indicator sets (its threshold and range), with the defaults where it sets none."""
    return quality.Rules(
        threshold=indicator.change_threshold / 100 if indicator.change_threshold is not None else quality.CHANGE_THRESHOLD,
        expected_min=indicator.expected_min, expected_max=indicator.expected_max,
        names_verification=bool(indicator.means_of_verification_es or indicator.means_of_verification_en),
    )


def entry_value(e: Entry, year: int) -> st.Value:
    """The status engine's view of one institution's report for a year."""
    return st.Value(e.indicator_id, year, e.value, e.women, e.men, e.numerator, e.denominator, e.value_bool, e.value_text)


@dataclass(frozen=True)
class EarlierYear:
    """The institution's approved figure of an earlier year, and its change from the year before it."""

    year: int
    figure: Decimal | None
    change: Decimal | None


@dataclass(frozen=True)
class OtherReport:
    """Another institution's approved report on the same indicator and year."""

    institution: Institution
    figure: Decimal | None


@dataclass(frozen=True)
class ReviewContext:
    year: int
    target: Decimal | None
    earlier: list[EarlierYear]
    others: list[OtherReport]
    result: st.IndicatorResult  # the year's national figure and status with this entry counted as approved
    flags: list[quality.Flag]

    @property
    def national(self) -> st.Actual | None:
        return self.result.actual


def review_context(session: Session, entry: Entry) -> ReviewContext | None:
    """The context of an indicator entry (None for actions and budget items)."""
    if entry.kind != EntryKind.indicator:
        return None
    indicator, year = entry.indicator, entry.cycle.year
    spec = indicator_spec(indicator)
    targets = dict(session.execute(sa.select(IndicatorTarget.year, IndicatorTarget.value).filter_by(indicator_id=indicator.id)).all())
    approved = session.execute(
        sa.select(Entry, ReportingCycle.year).join(ReportingCycle, ReportingCycle.id == Entry.cycle_id)
        .where(Entry.indicator_id == indicator.id, Entry.state.in_(states.COUNTED), Entry.id != entry.id)
        .options(joinedload(Entry.institution)).order_by(ReportingCycle.year)
    ).all()
    this = entry_value(entry, year)
    own = [(y, entry_value(e, y)) for e, y in approved if e.institution_id == entry.institution_id and y < year]
    others = [(e, y) for e, y in approved if e.institution_id != entry.institution_id]
    counted = [entry_value(e, y) for e, y in others] + [v for _, v in own] + [this]
    previous = own[-1][1] if own else None
    return ReviewContext(
        year=year,
        target=targets.get(year),
        earlier=_earlier(spec, own),
        others=[OtherReport(e.institution, quality.figure(spec, entry_value(e, y))) for e, y in others if y == year],
        result=st.indicator_performance(spec, targets, counted, year),
        flags=quality.flags(spec, this, previous, len(entry.evidence), indicator_rules(indicator), entry.reported_total),
    )


def _earlier(spec: st.IndicatorSpec, own: list[tuple[int, st.Value]]) -> list[EarlierYear]:
    out, before = [], None
    for year, value in own:
        figure = quality.figure(spec, value)
        out.append(EarlierYear(year, figure, quality.relative_change(before, figure)))
        before = figure
    return out


def queue_flags(session: Session, entries: list[Entry]) -> dict[int, list[quality.Flag]]:
    """The data-quality flags of a review-queue page's indicator entries, each against its institution's previous
    approved year (two queries for the page, whatever its entries)."""
    reports = [e for e in entries if e.kind == EntryKind.indicator]
    if not reports:
        return {}
    pairs = {(e.indicator_id, e.institution_id) for e in reports}
    approved = session.execute(
        sa.select(Entry, ReportingCycle.year).join(ReportingCycle, ReportingCycle.id == Entry.cycle_id)
        .where(Entry.state.in_(states.COUNTED), Entry.indicator_id.in_({i for i, _ in pairs}),
               Entry.institution_id.in_({i for _, i in pairs}))
        .order_by(ReportingCycle.year)
    ).all()
    files = dict(session.execute(sa.select(Evidence.entry_id, sa.func.count()).where(Evidence.entry_id.in_([e.id for e in reports]))
                                 .group_by(Evidence.entry_id)).all())
    return {e.id: _entry_flags(e, approved, files.get(e.id, 0)) for e in reports}


def _entry_flags(entry: Entry, approved: list[tuple[Entry, int]], files: int) -> list[quality.Flag]:
    year, indicator = entry.cycle.year, entry.indicator
    earlier = [entry_value(a, y) for a, y in approved if (a.indicator_id, a.institution_id) == (entry.indicator_id, entry.institution_id)
               and y < year and a.id != entry.id]
    return quality.flags(indicator_spec(indicator), entry_value(entry, year), earlier[-1] if earlier else None, files,
                         indicator_rules(indicator), entry.reported_total)
