"""The status engine: pure functions from plan rows, targets and approved values to statuses and percentages.

No Flask, no SQL: callers (dashboards, reports, API) load the rows and pass plain values in.
The rules are documented, with a worked example, in docs/status-rules.md (English) and
docs/reglas-de-estado.md (Spanish).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone, tzinfo
from decimal import Decimal
from typing import Iterable, Mapping

HUNDRED = Decimal(100)
ON_TRACK = Decimal("0.75")  # achievement at or above this is "on track"
AT_RISK = Decimal("0.50")  # at or above this (and below on track) is "at risk"; below is "not met"
MAINTAIN_TOLERANCE = Decimal("0.05")  # "maintain" indicators may fall this much below target and still be met


class Performance(enum.StrEnum):
    met = "met"
    on_track = "on_track"
    at_risk = "at_risk"
    not_met = "not_met"
    no_target = "no_target"
    no_data = "no_data"


# -- inputs ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class IndicatorSpec:
    id: int
    measure: str  # number | percentage | qualitative | yes_no
    direction: str = "increase"  # increase | decrease | maintain
    cumulative: bool = False
    counts_people: bool = False
    baseline: Decimal | None = None
    tags: tuple[str, ...] = ()


@dataclass(frozen=True)
class Value:
    """One approved entry's values for an indicator and year (one institution's report)."""

    indicator_id: int
    year: int
    value: Decimal | None = None
    women: int | None = None
    men: int | None = None
    numerator: Decimal | None = None
    denominator: Decimal | None = None
    value_bool: bool | None = None
    text: str = ""


@dataclass(frozen=True)
class Actual:
    """An indicator's combined approved figure for a year (all reporting institutions together)."""

    value: Decimal | None
    women: int | None = None
    men: int | None = None
    unsplit: int = 0  # people-counting reports without a women/men split
    reports: int = 0

    @property
    def women_share(self) -> Decimal | None:
        if self.women is None or self.men is None or self.women + self.men == 0:
            return None
        return Decimal(self.women) / Decimal(self.women + self.men)


@dataclass(frozen=True)
class IndicatorResult:
    performance: Performance
    actual: Actual | None
    target: Decimal | None
    achievement: Decimal | None  # 0..1, capped; None when there is no target or no data


# -- combining reports ----------------------------------------------------------------------------


def combine(spec: IndicatorSpec, values: Iterable[Value]) -> Actual | None:
    """Add up the institutions' reports for one year: counts and numbers add, percentages add their parts."""
    values = list(values)
    if not values:
        return None
    if spec.measure == "yes_no":
        answers = [v.value_bool for v in values if v.value_bool is not None]
        return Actual(Decimal(int(any(answers))) if answers else None, reports=len(values))
    if spec.measure == "qualitative":
        return Actual(None, reports=len(values))
    women, men, unsplit = _sex_totals(spec, values)
    if spec.measure == "percentage":
        num = sum((_numerator(spec, v) for v in values if _numerator(spec, v) is not None), Decimal(0))
        den = sum((v.denominator for v in values if v.denominator), Decimal(0))
        return Actual((num / den * HUNDRED) if den else None, women, men, unsplit, len(values))
    numbers = [v.value for v in values if v.value is not None]
    return Actual(sum(numbers, Decimal(0)) if numbers else None, women, men, unsplit, len(values))


def people_numerator(counts_people: bool, women: int | None, men: int | None, numerator: Decimal | None) -> Decimal | None:
    """Where an indicator counts people, its figure is women + men; otherwise the numerator given."""
    if counts_people:
        return Decimal(women + men) if women is not None and men is not None else None
    return numerator


def _numerator(spec: IndicatorSpec, v: Value) -> Decimal | None:
    return people_numerator(spec.counts_people, v.women, v.men, v.numerator)


def _sex_totals(spec: IndicatorSpec, values: list[Value]) -> tuple[int | None, int | None, int]:
    if not spec.counts_people:
        return None, None, 0
    split = [v for v in values if v.women is not None and v.men is not None]
    unsplit = len(values) - len(split)
    if not split:
        return None, None, unsplit
    return sum(v.women for v in split), sum(v.men for v in split), unsplit


def actual_for_year(spec: IndicatorSpec, values: Iterable[Value], year: int) -> Actual | None:
    """The year's figure; cumulative indicators add every year up to and including this one."""
    values = list(values)
    in_year = [v for v in values if v.year == year]
    if not in_year:
        return None
    if not spec.cumulative or spec.measure not in ("number",):
        return combine(spec, in_year)
    up_to = [v for v in values if v.year <= year]
    return combine(spec, up_to)


# -- performance ----------------------------------------------------------------------------------


def achievement(spec: IndicatorSpec, actual: Decimal, target: Decimal) -> Decimal:
    """How far the indicator has come towards its target, from 0 to 1 (capped)."""
    base = spec.baseline
    if spec.direction == "decrease":
        if base is not None and base > target:
            ratio = (base - actual) / (base - target)
        else:
            ratio = Decimal(1) if actual <= target else (target / actual if actual else Decimal(0))
    elif spec.direction == "maintain":
        floor = target * (1 - MAINTAIN_TOLERANCE)
        ratio = Decimal(1) if actual >= floor else (actual / floor if floor else Decimal(1))
    elif base is not None and target > base:
        ratio = (actual - base) / (target - base)
    else:
        ratio = actual / target if target else Decimal(1)
    return max(Decimal(0), min(Decimal(1), ratio))


def _grade(ratio: Decimal) -> Performance:
    if ratio >= 1:
        return Performance.met
    if ratio >= ON_TRACK:
        return Performance.on_track
    if ratio >= AT_RISK:
        return Performance.at_risk
    return Performance.not_met


def indicator_performance(
    spec: IndicatorSpec, targets: dict[int, Decimal], values: Iterable[Value], year: int
) -> IndicatorResult:
    """Performance of one indicator in one year from its targets and approved values."""
    actual = actual_for_year(spec, values, year)
    target = targets.get(year)
    if actual is None or (spec.measure != "qualitative" and actual.value is None):
        return IndicatorResult(Performance.no_data, actual, target, None)
    if spec.measure == "qualitative" or target is None:
        return IndicatorResult(Performance.no_target, actual, target, None)
    if spec.measure == "yes_no":
        met = actual.value == target
        return IndicatorResult(Performance.met if met else Performance.not_met, actual, target, Decimal(int(met)))
    ratio = achievement(spec, actual.value, target)
    return IndicatorResult(_grade(ratio), actual, target, ratio)


# -- actions --------------------------------------------------------------------------------------

DONE_STATUSES = frozenset({"completed", "ongoing"})


@dataclass(frozen=True)
class ActionReport:
    action_id: int
    year: int
    status: str
    is_lead: bool = False
    reported_at: datetime | None = None


def action_status(reports: Iterable[ActionReport], year: int) -> str | None:
    """An action's status for the year: the lead institution's approved report, else the latest one."""
    in_year = [r for r in reports if r.year == year]
    if not in_year:
        return None
    in_year.sort(key=lambda r: (r.is_lead, r.reported_at is not None, r.reported_at.timestamp() if r.reported_at else 0))
    return in_year[-1].status


# -- pillars and objectives -----------------------------------------------------------------------


@dataclass
class Completion:
    """Two measures side by side, each with its coverage. None measures mean "nothing to measure"."""

    actions_total: int = 0
    actions_reported: int = 0
    actions_done: int = 0
    indicators_total: int = 0
    indicators_with_target: int = 0
    indicators_reported: int = 0
    achievements: list[Decimal] = field(default_factory=list)

    @property
    def has_actions(self) -> bool:
        return self.actions_total > 0

    @property
    def actions_share(self) -> Decimal | None:
        """Share of the actions completed or ongoing (None when the pillar has no actions)."""
        return Decimal(self.actions_done) / self.actions_total if self.actions_total else None

    @property
    def mean_achievement(self) -> Decimal | None:
        """Mean achievement of indicators with a target and approved data (None when there are none)."""
        return sum(self.achievements, Decimal(0)) / len(self.achievements) if self.achievements else None


def completion(
    action_statuses: dict[int, str | None], indicator_results: dict[int, IndicatorResult]
) -> Completion:
    """Completion of a group of actions and indicators (a pillar, an objective, or the whole plan)."""
    c = Completion(actions_total=len(action_statuses), indicators_total=len(indicator_results))
    for status in action_statuses.values():
        if status is not None:
            c.actions_reported += 1
            c.actions_done += status in DONE_STATUSES
    for result in indicator_results.values():
        c.indicators_with_target += result.target is not None
        c.indicators_reported += result.performance != Performance.no_data
        if result.achievement is not None and result.target is not None:
            c.achievements.append(result.achievement)
    return c


# -- reporting completeness -----------------------------------------------------------------------


@dataclass(frozen=True)
class EntryFact:
    institution_id: int
    state: str  # draft | submitted | returned | approved
    submitted_at: datetime | None


@dataclass
class Completeness:
    assigned: int
    submitted: int = 0
    approved: int = 0
    on_time: int = 0

    @property
    def share_submitted(self) -> Decimal | None:
        return Decimal(self.submitted) / self.assigned if self.assigned else None

    @property
    def share_approved(self) -> Decimal | None:
        return Decimal(self.approved) / self.assigned if self.assigned else None

    @property
    def missing(self) -> int:
        return self.assigned - self.submitted


def completeness(assigned: dict[int, int], entries: Iterable[EntryFact], due: datetime,
                 due_by_institution: Mapping[int, datetime] | None = None) -> dict[int, Completeness]:
    """Per institution: items assigned, submitted (or approved), approved, and submitted on time.

    `due` is the moment the deadline day ends in the plan's country (`deadline_end`); a submission is on
    time strictly before it. An institution given more time (a deadline exception) has its own moment in
    `due_by_institution`. Submission times are aware, so the comparison holds in any time zone.
    """
    own_due = due_by_institution or {}
    out = {institution_id: Completeness(n) for institution_id, n in assigned.items()}
    for e in entries:
        row = out.setdefault(e.institution_id, Completeness(0))
        if e.state in ("submitted", "approved"):
            row.submitted += 1
            row.approved += e.state == "approved"
            row.on_time += bool(e.submitted_at and e.submitted_at < own_due.get(e.institution_id, due))
    return out


def deadline_end(deadline: date, zone: tzinfo) -> datetime:
    """The moment a deadline day ends in a time zone, in UTC: the start of the next day there.

    A day whose midnight a daylight-saving change skips (Chile moves 24:00 to 01:00) ends at the change.
    """
    next_day = datetime.combine(deadline + timedelta(days=1), time(0), tzinfo=zone)
    return next_day.astimezone(timezone.utc)


# -- sex-disaggregated data and UN parity -----------------------------------------------------------


@dataclass(frozen=True)
class ParityTarget:
    year: int
    contingents: Decimal  # share of women, 0..1
    observers_staff: Decimal
    source: str


def parity_target(targets: Iterable[ParityTarget], year: int) -> ParityTarget | None:
    """The UN Uniformed Gender Parity Strategy's target for exactly this year, if known."""
    return next((t for t in targets if t.year == year), None)


def parity_comparison(actual: Actual | None, target: Decimal | None) -> Performance:
    """Women's share of peacekeepers against the year's UN target share."""
    share = actual.women_share if actual else None
    if share is None:
        return Performance.no_data
    if target is None:
        return Performance.no_target
    return _grade(min(Decimal(1), share / target) if target else Decimal(1))


def gender_data_gap(actuals: Iterable[Actual | None]) -> int:
    """How many people-counting reports lack a women/men split."""
    return sum(a.unsplit for a in actuals if a is not None)


def trend(results_by_year: dict[int, Completion]) -> list[tuple[int, Decimal | None, Decimal | None]]:
    """(year, actions share, mean achievement) for every year with data, oldest first."""
    return [(y, c.actions_share, c.mean_achievement) for y, c in sorted(results_by_year.items())]


# -- the budget clause ------------------------------------------------------------------------------

COMPLYING_STAGES = frozenset({"included_pia", "added_pim"})


@dataclass(frozen=True)
class BudgetFact:
    institution_id: int
    state: str  # workflow state of the budget entry
    stage: str | None
    pia: Decimal | None = None
    pim: Decimal | None = None
    devengado: Decimal | None = None
    girado: Decimal | None = None


@dataclass(frozen=True)
class BudgetCompliance:
    """Per institution: its approved stage ('not_reported' when no approved item); the plan's share."""

    by_institution: dict[int, str]
    complying: int
    counted: int  # institutions the clause applies to (not "not applicable")

    @property
    def share(self) -> Decimal | None:
        return Decimal(self.complying) / self.counted if self.counted else None


def budget_compliance(
    institution_ids: Iterable[int], facts: Iterable[BudgetFact], counted_states: frozenset[str] = frozenset({"approved"})
) -> BudgetCompliance:
    """The budget clause for a year: an institution complies with an approved item in its PIA or PIM.

    Institutions whose approved item says "not applicable" leave the denominator. Provisional reports
    also count submitted items (`counted_states`).
    """
    approved = {f.institution_id: f.stage for f in facts if f.state in counted_states and f.stage}
    by_institution = {i: approved.get(i, "not_reported") for i in institution_ids}
    complying = sum(stage in COMPLYING_STAGES for stage in by_institution.values())
    counted = sum(stage != "not_applicable" for stage in by_institution.values())
    return BudgetCompliance(by_institution, complying, counted)


def execution_rate(pim: Decimal | None, devengado: Decimal | None) -> Decimal | None:
    """Avance %: devengado / PIM (None without a PIM)."""
    if pim is None or devengado is None or pim == 0:
        return None
    return devengado / pim
