"""Data-quality flags: pure rules, next to the status engine, that point the reviewer at figures worth a second look.

No Flask, no SQL. A flag never blocks a step: the committee sees it beside the entry and decides. The rules:
- a value that changed from the institution's previous approved year by more than the threshold (default ±50 %);
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


def flags(spec: IndicatorSpec, current: Value, previous: Value | None, evidence_files: int,
          names_verification: bool, threshold: Decimal = CHANGE_THRESHOLD) -> list[Flag]:
    """The flags of one institution's report for a year, against its previous approved year's report."""
    found: list[Flag] = []
    if spec.measure in ("number", "percentage") and previous is not None:
        before, now = figure(spec, previous), figure(spec, current)
        change = relative_change(before, now)
        if change is not None and abs(change) > threshold:
            found.append(Flag(Check.value_jump, change, before, now))
    if spec.measure == "percentage":
        numerator = people_numerator(spec.counts_people, current.women, current.men, current.numerator)
        if numerator is not None and current.denominator is not None and numerator > current.denominator:
            found.append(Flag(Check.numerator_above_denominator, None, current.denominator, numerator))
        if previous is not None:
            change = relative_change(previous.denominator, current.denominator)
            if change is not None and abs(change) > threshold:
                found.append(Flag(Check.denominator_jump, change, previous.denominator, current.denominator))
    if names_verification and evidence_files == 0:
        found.append(Flag(Check.no_evidence))
    return found
