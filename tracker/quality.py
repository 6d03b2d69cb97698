"""Data-quality flags: pure rules, next to the status engine, that point the reviewer at figures worth a second look.

No Flask, no SQL. A flag never blocks a step: the committee sees it beside the entry and decides. The rules:
- a value that changed from the institution's previous approved year by more than the indicator's threshold
  (default ±50 %);
- women + men not adding up to the total the reporter typed from the source;
- a value outside the range set on the indicator;
- a numerator above its denominator (a percentage over 100);
- a percentage's denominator that changed from the previous approved year by more than the threshold;
- an entry without evidence files although the indicator names a means of verification.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from decimal import Decimal

from tracker.status import IndicatorSpec, Value, people_numerator

CHANGE_THRESHOLD = Decimal("0.5")  # ±50 % from one approved year to the next


class Check(enum.StrEnum):
    value_jump = "value_jump"
    sex_split_mismatch = "sex_split_mismatch"
    out_of_range = "out_of_range"
    numerator_above_denominator = "numerator_above_denominator"
    denominator_jump = "denominator_jump"
    no_evidence = "no_evidence"


@dataclass(frozen=True)
class Flag:
    """One finding: which check, and the figures it compared (the change as a fraction, e.g. 0.8 for +80 %)."""

    check: Check
    change: Decimal | None = None
    previous: Decimal | None = None
    current: Decimal | None = None


@dataclass(frozen=True)
class Rules:
    """What an indicator sets for its flags: the change threshold (a fraction), the expected range of its figure, and
    whether it names a means of verification (then a report should come with evidence)."""

    threshold: Decimal = CHANGE_THRESHOLD
    expected_min: Decimal | None = None
    expected_max: Decimal | None = None
    names_verification: bool = False


def figure(spec: IndicatorSpec, v: Value) -> Decimal | None:
    """The number a report stands for: women + men where people are counted, else its value."""
    if spec.counts_people and spec.measure == "number":
        return people_numerator(True, v.women, v.men, None)
    return v.value


def relative_change(previous: Decimal | None, current: Decimal | None) -> Decimal | None:
    """(current - previous) / previous; None when either is missing or the previous is zero."""
    if previous is None or current is None or previous == 0:
        return None
    return (current - previous) / abs(previous)


def flags(spec: IndicatorSpec, current: Value, previous: Value | None, evidence_files: int, rules: Rules = Rules(),
          reported_total: int | None = None) -> list[Flag]:
    """The flags of one institution's report for a year, against its previous approved year's report."""
    found: list[Flag] = []
    now = figure(spec, current)
    if spec.measure in ("number", "percentage") and previous is not None:
        before = figure(spec, previous)
        change = relative_change(before, now)
        if change is not None and abs(change) > rules.threshold:
            found.append(Flag(Check.value_jump, change, before, now))
    if spec.counts_people and reported_total is not None and current.women is not None and current.men is not None \
            and current.women + current.men != reported_total:
        found.append(Flag(Check.sex_split_mismatch, None, Decimal(reported_total), Decimal(current.women + current.men)))
    if now is not None and spec.measure in ("number", "percentage"):
        if rules.expected_min is not None and now < rules.expected_min:
            found.append(Flag(Check.out_of_range, None, rules.expected_min, now))
        elif rules.expected_max is not None and now > rules.expected_max:
            found.append(Flag(Check.out_of_range, None, rules.expected_max, now))
    if spec.measure == "percentage":
        numerator = people_numerator(spec.counts_people, current.women, current.men, current.numerator)
        if numerator is not None and current.denominator is not None and numerator > current.denominator:
            found.append(Flag(Check.numerator_above_denominator, None, current.denominator, numerator))
        if previous is not None:
            change = relative_change(previous.denominator, current.denominator)
            if change is not None and abs(change) > rules.threshold:
                found.append(Flag(Check.denominator_jump, change, previous.denominator, current.denominator))
    if rules.names_verification and evidence_files == 0:
        found.append(Flag(Check.no_evidence))
    return found
