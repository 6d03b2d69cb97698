"""The status engine's rules, with boundary values (pure functions: no app, no database)."""

from __future__ import annotations

from datetime import date, datetime, timezone
from zoneinfo import ZoneInfo
from decimal import Decimal as D

import pytest
from hypothesis import given
from hypothesis import strategies as hs

from tracker import status as s
from tracker.status import Performance as P

PEOPLE = s.IndicatorSpec(id=1, measure="number", counts_people=True)
NUMBER = s.IndicatorSpec(id=2, measure="number")


def v(year, value=None, **kw):
    return s.Value(indicator_id=kw.pop("indicator_id", 2), year=year, value=None if value is None else D(value), **kw)


@pytest.mark.parametrize(
    ("actual", "expected"),
    [("100", P.met), ("120", P.met), ("99.99", P.on_track), ("75", P.on_track), ("74.99", P.at_risk), ("50", P.at_risk), ("49.99", P.not_met), ("0", P.not_met)],
)
def test_increasing_indicator_boundaries(actual, expected):
    result = s.indicator_performance(NUMBER, {2025: D(100)}, [v(2025, actual)], 2025)
    assert result.performance == expected
    assert result.achievement == min(D(1), D(actual) / 100)


def test_baseline_is_used_for_increasing_indicators():
    spec = s.IndicatorSpec(id=2, measure="number", baseline=D(40))
    result = s.indicator_performance(spec, {2025: D(100)}, [v(2025, "70")], 2025)
    assert result.achievement == D("0.5") and result.performance == P.at_risk


@pytest.mark.parametrize(("actual", "expected"), [("10", P.met), ("8", P.met), ("12.5", P.on_track), ("15", P.at_risk), ("17.5", P.not_met), ("20", P.not_met)])
def test_decreasing_indicator_with_baseline(actual, expected):
    spec = s.IndicatorSpec(id=2, measure="number", direction="decrease", baseline=D(20))
    assert s.indicator_performance(spec, {2025: D(10)}, [v(2025, actual)], 2025).performance == expected


def test_decreasing_indicator_without_baseline():
    spec = s.IndicatorSpec(id=2, measure="number", direction="decrease")
    assert s.indicator_performance(spec, {2025: D(10)}, [v(2025, "10")], 2025).performance == P.met
    assert s.indicator_performance(spec, {2025: D(10)}, [v(2025, "12.5")], 2025).achievement == D("0.8")


def test_maintain_tolerance():
    spec = s.IndicatorSpec(id=2, measure="number", direction="maintain")
    assert s.indicator_performance(spec, {2025: D(100)}, [v(2025, "95")], 2025).performance == P.met
    assert s.indicator_performance(spec, {2025: D(100)}, [v(2025, "94")], 2025).performance == P.on_track


def test_cumulative_indicator_adds_previous_years():
    spec = s.IndicatorSpec(id=2, measure="number", cumulative=True)
    values = [v(2023, "30"), v(2024, "30"), v(2025, "40")]
    result = s.indicator_performance(spec, {2025: D(100)}, values, 2025)
    assert result.actual.value == D(100) and result.performance == P.met
    assert s.indicator_performance(spec, {2024: D(100)}, values, 2024).actual.value == D(60)


def test_no_target_is_not_zero_percent():
    result = s.indicator_performance(NUMBER, {}, [v(2025, "12")], 2025)
    assert (result.performance, result.achievement, result.actual.value) == (P.no_target, None, D(12))


def test_no_data():
    result = s.indicator_performance(NUMBER, {2025: D(10)}, [v(2024, "12")], 2025)
    assert (result.performance, result.achievement) == (P.no_data, None)


def test_qualitative_indicator_is_reported_without_a_target():
    spec = s.IndicatorSpec(id=3, measure="qualitative")
    assert s.indicator_performance(spec, {}, [v(2025, text="Convenio firmado")], 2025).performance == P.no_target
    assert s.indicator_performance(spec, {}, [], 2025).performance == P.no_data


def test_yes_no_indicator():
    spec = s.IndicatorSpec(id=4, measure="yes_no")
    yes = s.indicator_performance(spec, {2025: D(1)}, [v(2025, value_bool=True), v(2025, value_bool=False)], 2025)
    no = s.indicator_performance(spec, {2025: D(1)}, [v(2025, value_bool=False)], 2025)
    assert (yes.performance, no.performance) == (P.met, P.not_met)


def test_people_are_added_across_institutions_and_split_by_sex():
    values = [v(2025, "25", women=5, men=20, indicator_id=1), v(2025, "11", women=6, men=5, indicator_id=1)]
    actual = s.actual_for_year(PEOPLE, values, 2025)
    assert (actual.value, actual.women, actual.men) == (D(36), 11, 25)
    assert actual.women_share == D(11) / D(36)


def test_percentage_adds_numerators_and_denominators():
    spec = s.IndicatorSpec(id=5, measure="percentage")
    values = [v(2025, numerator=D(1), denominator=D(4)), v(2025, numerator=D(3), denominator=D(4))]
    assert s.actual_for_year(spec, values, 2025).value == D(50)


def test_gender_data_gap_counts_unsplit_people_values():
    values = [v(2025, "10", indicator_id=1), v(2025, "4", women=1, men=3, indicator_id=1)]
    actual = s.actual_for_year(PEOPLE, values, 2025)
    assert actual.unsplit == 1 and s.gender_data_gap([actual, None]) == 1


def test_action_status_prefers_the_lead_institution():
    reports = [
        s.ActionReport(1, 2025, "delayed", is_lead=False, reported_at=datetime(2025, 12, 1)),
        s.ActionReport(1, 2025, "in_progress", is_lead=True, reported_at=datetime(2025, 6, 1)),
    ]
    assert s.action_status(reports, 2025) == "in_progress"
    assert s.action_status(reports, 2024) is None


def test_completion_two_measures_with_coverage():
    results = {
        1: s.IndicatorResult(P.met, None, D(10), D(1)),
        2: s.IndicatorResult(P.at_risk, None, D(10), D("0.5")),
        3: s.IndicatorResult(P.no_target, None, None, None),
        4: s.IndicatorResult(P.no_data, None, D(5), None),
    }
    c = s.completion({10: "completed", 11: "ongoing", 12: "delayed", 13: None}, results)
    assert (c.actions_total, c.actions_reported, c.actions_done, c.actions_share) == (4, 3, 2, D("0.5"))
    assert (c.indicators_total, c.indicators_with_target, c.indicators_reported) == (4, 3, 3)
    assert c.mean_achievement == D("0.75")


def test_pillar_without_actions_has_no_measure():
    c = s.completion({}, {})
    assert not c.has_actions and c.actions_share is None and c.mean_achievement is None


def test_completeness_and_timeliness():
    due = s.deadline_end(date(2026, 3, 31), timezone.utc)
    entries = [
        s.EntryFact(1, "approved", datetime(2026, 3, 31, 23, 0, tzinfo=timezone.utc)),
        s.EntryFact(1, "submitted", datetime(2026, 4, 1, 9, 0, tzinfo=timezone.utc)),
        s.EntryFact(1, "draft", None),
        s.EntryFact(2, "returned", datetime(2026, 3, 1, tzinfo=timezone.utc)),
    ]
    result = s.completeness({1: 4, 2: 2, 3: 1}, entries, due)
    assert (result[1].submitted, result[1].approved, result[1].on_time, result[1].missing) == (2, 1, 1, 2)
    assert (result[2].submitted, result[3].submitted) == (0, 0)
    assert result[1].share_submitted == D("0.5")


def test_un_parity_comparison():
    targets = [s.ParityTarget(2021, D("0.08"), D("0.18"), "UN")]
    target = s.parity_target(targets, 2021)
    actual = s.Actual(D(205), women=26, men=179)
    assert s.parity_comparison(actual, target.contingents) == P.met  # 12.7 % against 8 %
    assert s.parity_comparison(s.Actual(D(100), women=4, men=96), target.contingents) == P.at_risk  # 4 % of 8 %
    assert s.parity_comparison(actual, None) == P.no_target
    assert s.parity_target(targets, 2022) is None


amounts = hs.decimals(min_value=0, max_value=10**6, places=2, allow_nan=False, allow_infinity=False)


@given(actual=amounts, target=amounts.filter(lambda t: t > 0), baseline=hs.none() | amounts,
       direction=hs.sampled_from(["increase", "decrease", "maintain"]))
def test_achievement_stays_between_zero_and_one(actual, target, baseline, direction):
    spec = s.IndicatorSpec(id=1, measure="number", direction=direction, baseline=baseline)
    assert D(0) <= s.achievement(spec, actual, target) <= D(1)


@given(low=amounts, high=amounts, target=amounts.filter(lambda t: t > 0))
def test_more_is_never_worse_for_increasing_indicators(low, high, target):
    low, high = min(low, high), max(low, high)
    assert s.achievement(NUMBER, high, target) >= s.achievement(NUMBER, low, target)


LIMA, SANTIAGO = ZoneInfo("America/Lima"), ZoneInfo("America/Santiago")


@pytest.mark.parametrize("zone, deadline, end", [
    (LIMA, date(2026, 12, 31), datetime(2027, 1, 1, 5, 0, tzinfo=timezone.utc)),  # UTC-5 all year
    (SANTIAGO, date(2026, 12, 31), datetime(2027, 1, 1, 3, 0, tzinfo=timezone.utc)),  # summer time, UTC-3
    (SANTIAGO, date(2026, 6, 30), datetime(2026, 7, 1, 4, 0, tzinfo=timezone.utc)),  # winter time, UTC-4
    # Chile's clocks go from 24:00 to 01:00 that night: the day ends at the change.
    (SANTIAGO, date(2026, 9, 5), datetime(2026, 9, 6, 4, 0, tzinfo=timezone.utc)),
    # and from 24:00 back to 23:00: that day lasts 25 hours.
    (SANTIAGO, date(2027, 4, 3), datetime(2027, 4, 4, 4, 0, tzinfo=timezone.utc)),
])
def test_a_deadline_ends_at_the_next_local_midnight(zone, deadline, end):
    assert s.deadline_end(deadline, zone) == end


def test_deadline_is_the_end_of_the_local_day():
    due = s.deadline_end(date(2027, 3, 31), LIMA)
    late_evening_in_lima = datetime(2027, 4, 1, 4, 59, 59, tzinfo=timezone.utc)  # 31 March, 23:59:59 in Lima
    next_morning_in_lima = datetime(2027, 4, 1, 5, 0, 0, tzinfo=timezone.utc)  # 1 April, 00:00 in Lima
    facts = [s.EntryFact(1, "submitted", late_evening_in_lima), s.EntryFact(2, "submitted", next_morning_in_lima)]
    result = s.completeness({1: 1, 2: 1}, facts, due)
    assert (result[1].on_time, result[2].on_time) == (1, 0)
