"""Data-quality flags (issue 16): pure rules beside the status engine. They never block; the reviewer sees them."""

from __future__ import annotations

from decimal import Decimal

import pytest

from tracker.quality import Check, Rules, flags, relative_change
from tracker.status import IndicatorSpec, Value

PEOPLE = IndicatorSpec(id=1, measure="number", counts_people=True)
NUMBER = IndicatorSpec(id=1, measure="number")
SHARE = IndicatorSpec(id=1, measure="percentage")
VERIFIED = Rules(names_verification=True)


def _checks(found) -> list[Check]:
    return [f.check for f in found]


@pytest.mark.parametrize("before, now, flagged", [(100, 151, True), (100, 150, False), (100, 49, True), (100, 50, False)])
def test_a_change_beyond_half_is_flagged_both_ways(before, now, flagged):
    found = flags(NUMBER, Value(1, 2025, Decimal(now)), Value(1, 2024, Decimal(before)), 1, VERIFIED)
    assert (Check.value_jump in _checks(found)) is flagged


def test_people_are_compared_as_women_plus_men():
    (jump,) = flags(PEOPLE, Value(1, 2025, women=30, men=90), Value(1, 2024, women=10, men=30), 1)
    assert (jump.check, jump.previous, jump.current, jump.change) == (Check.value_jump, 40, 120, 2)


def test_no_previous_year_or_a_zero_gives_no_jump():
    assert flags(NUMBER, Value(1, 2025, Decimal(10)), None, 1) == []
    assert flags(NUMBER, Value(1, 2025, Decimal(10)), Value(1, 2024, Decimal(0)), 1) == []
    assert relative_change(Decimal(0), Decimal(5)) is None


def test_a_numerator_above_its_denominator_is_flagged():
    found = flags(SHARE, Value(1, 2025, numerator=Decimal(12), denominator=Decimal(10)), None, 1)
    assert _checks(found) == [Check.numerator_above_denominator]


def test_a_denominator_that_moves_sharply_is_flagged():
    found = flags(SHARE, Value(1, 2025, Decimal(50), numerator=Decimal(10), denominator=Decimal(20)),
                  Value(1, 2024, Decimal(50), numerator=Decimal(50), denominator=Decimal(100)), 1)
    assert _checks(found) == [Check.denominator_jump]


def test_missing_evidence_is_flagged_only_where_the_indicator_names_a_means_of_verification():
    assert _checks(flags(NUMBER, Value(1, 2025, Decimal(5)), None, 0, VERIFIED)) == [Check.no_evidence]
    assert flags(NUMBER, Value(1, 2025, Decimal(5)), None, 0) == []


def test_a_custom_threshold():
    assert flags(NUMBER, Value(1, 2025, Decimal(120)), Value(1, 2024, Decimal(100)), 1, Rules(threshold=Decimal("0.1")))
    assert not flags(NUMBER, Value(1, 2025, Decimal(250)), Value(1, 2024, Decimal(100)), 1, Rules(threshold=Decimal("2")))


@pytest.mark.parametrize("total, flagged", [(40, False), (41, True), (None, False)])
def test_women_and_men_must_add_up_to_the_total_the_reporter_typed(total, flagged):
    found = flags(PEOPLE, Value(1, 2025, women=10, men=30), None, 1, reported_total=total)
    assert _checks(found) == ([Check.sex_split_mismatch] if flagged else [])
    if flagged:
        assert (found[0].previous, found[0].current) == (41, 40)


@pytest.mark.parametrize("value, flagged", [(5, True), (10, False), (100, False), (101, True)])
def test_a_figure_outside_the_indicator_s_range_is_flagged(value, flagged):
    rules = Rules(expected_min=Decimal(10), expected_max=Decimal(100))
    found = flags(NUMBER, Value(1, 2025, Decimal(value)), None, 1, rules)
    assert _checks(found) == ([Check.out_of_range] if flagged else [])
