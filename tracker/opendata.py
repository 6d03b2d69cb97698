"""A plan's approved indicator values as open data: one flat CSV in the Open SDG data layout (`Year`, the
disaggregations `Sex` and `Institution`, `Units`, `Value`, plus the indicator's code and its global indicator) and
a Frictionless Data Package descriptor (`datapackage.json`) describing it.

Two views of the same read model:
- `detail`: every approved report, per institution, split by sex where people are counted (the API and the CLI,
  for those who may read the plan);
- `national`: the national figure of each indicator and year, as the dashboard computes it (tracker.status), with
  small cells suppressed: people counts from 1 to the plan's threshold less one, the other sex of the same year so
  that the total does not give it away, and, for a cumulative count, a year whose increase on the year before is
  that small (the difference of two published totals would give it away): the public page's.
Only approved data; demo entries never. Numeric indicators only (qualitative answers are not data points).
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

from sqlalchemy.orm import Session

from tracker import quality
from tracker.dashboard import services as dashboard
from tracker.formulas import safe_cell
from tracker.plan import models as pm
from tracker.progress.context import entry_value, indicator_spec
from tracker.progress.models import EntryKind

COLUMNS = ("Year", "Indicator", "Global indicator", "Institution", "Sex", "Units", "Value", "Observation status")
NUMERIC = {pm.Measure.number, pm.Measure.percentage}
CSV_NAME = "data.csv"
SUPPRESSED = "suppressed"


@dataclass(frozen=True)
class Row:
    year: int
    indicator: str
    global_indicator: str
    institution: str  # "" : national
    sex: str  # "" : everyone; "female", "male"
    units: str
    value: Decimal | None
    status: str = ""  # "" or "suppressed"

    def cells(self) -> list:
        value = None if self.value is None else float(self.value)
        return [self.year, safe_cell(self.indicator), safe_cell(self.global_indicator), safe_cell(self.institution),
                self.sex, safe_cell(self.units), value, self.status]


DEFAULT_THRESHOLD = 5


def threshold(plan: pm.Plan) -> int:
    """The plan's small-cell threshold: people counts below it are not published (default 5)."""
    return plan.profile.public_threshold if plan.profile is not None else DEFAULT_THRESHOLD


def _units(indicator: pm.Indicator, sex: str = "") -> str:
    """The total's unit; a sex row is always a number of people (a percentage's women and men included)."""
    if sex:
        return "persons"
    if indicator.measure == pm.Measure.percentage:
        return "percent"
    return indicator.unit_en or ("persons" if indicator.counts_people else "number")


def detail(session: Session, plan: pm.Plan) -> list[Row]:
    """Every approved, non-demo report of a numeric indicator: per institution and year, per sex where people are
    counted (and their total)."""
    rows = dashboard.load_plan_rows(session, plan)
    indicators = {i.id: i for i in rows.indicators if i.measure in NUMERIC}
    out = []
    for entry, year in dashboard.load_entries(session, plan).counted():
        indicator = indicators.get(entry.indicator_id) if entry.kind == EntryKind.indicator else None
        if indicator is None or entry.is_demo:
            continue
        value = entry_value(entry, year)
        base = dict(year=year, indicator=indicator.code, global_indicator=indicator.global_indicator,
                    institution=rows.institutions[entry.institution_id].code)
        out.append(Row(sex="", units=_units(indicator), value=quality.figure(indicator_spec(indicator), value), **base))
        if indicator.counts_people and value.women is not None and value.men is not None:
            out += [Row(sex=sex, units=_units(indicator, sex), value=Decimal(count), **base)
                    for sex, count in (("female", value.women), ("male", value.men))]
    return sorted(out, key=lambda r: (r.indicator, r.year, r.institution, r.sex))


def national(session: Session, plan: pm.Plan, threshold: int) -> list[Row]:
    """The national figure of each numeric indicator and year with approved data, as the dashboard scores it; people
    counts below `threshold` suppressed (with the other sex of the year, so that the total does not give it away)."""
    year = dashboard.default_year(session, plan)
    if year is None:
        return []
    board = dashboard.build_dashboard(session, plan, year, with_history=True, published=True)
    by_id = {i.id: i for i in dashboard.load_plan_rows(session, plan).indicators}
    out = []
    for indicator_id, years in board.history.items():
        indicator = by_id[indicator_id]
        if indicator.measure not in NUMERIC:
            continue
        previous = None
        for y, result in years:
            if result.actual is not None and result.actual.reports:
                out += _national_rows(indicator, y, result.actual, previous if indicator.cumulative else None, threshold)
                previous = result.actual
    return sorted(out, key=lambda r: (r.indicator, r.year, r.sex))


def _national_rows(indicator: pm.Indicator, year: int, actual, previous, threshold: int) -> list[Row]:
    """The year's total and, where people are counted, its women and men; small counts suppressed (see above)."""
    base = dict(year=year, indicator=indicator.code, global_indicator=indicator.global_indicator, institution="")
    counts_total = indicator.counts_people and indicator.measure == pm.Measure.number  # a percentage is not a count
    total = _small(actual.value, previous.value if previous else None, threshold) if counts_total else ""
    rows = [Row(sex="", units=_units(indicator), value=None if total else actual.value, status=total, **base)]
    if indicator.counts_people and actual.women is not None and actual.men is not None:
        small = (_small(actual.women, previous.women if previous else None, threshold)
                 or _small(actual.men, previous.men if previous else None, threshold))
        rows += [Row(sex=sex, units=_units(indicator, sex), value=None if small else Decimal(count), status=small, **base)
                 for sex, count in (("female", actual.women), ("male", actual.men))]
    return rows


def _small(count, before, threshold: int) -> str:
    """"suppressed" for a people count from 1 to threshold - 1 (0 says nothing about anyone), or, for a cumulative
    count, an increase on the year before (`before`) that small."""
    def tiny(n) -> bool:
        return n is not None and 0 < n < threshold

    return SUPPRESSED if tiny(count) or (before is not None and count is not None and tiny(count - before)) else ""


def csv_bytes(rows: list[Row]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(COLUMNS)
    writer.writerows(row.cells() for row in rows)
    return buffer.getvalue().encode("utf-8")


def descriptor(plan: pm.Plan, public: bool, threshold: int | None = None) -> dict:
    """The Data Package (v1) describing `data.csv`: the plan, its licence-free source, and the table schema."""
    scope = (f"National figures; people counts from 1 to {threshold - 1} suppressed." if public and threshold
             else "Every approved report, per institution.")
    return {
        "profile": "tabular-data-package",
        "name": f"nap-{plan.code.lower()}" + ("-national" if public else ""),
        "title": f"{plan.title_en} ({plan.code}): approved indicator values",
        "description": f"Approved values of the indicators of {plan.code}, exported by NAP Tracker. {scope}",
        "resources": [{
            "name": "values", "path": CSV_NAME, "profile": "tabular-data-resource", "format": "csv",
            "mediatype": "text/csv", "encoding": "utf-8",
            "schema": {
                "fields": [
                    {"name": "Year", "type": "integer"},
                    {"name": "Indicator", "type": "string", "description": "The plan's indicator code."},
                    {"name": "Global indicator", "type": "string",
                     "description": "The matching global indicator (UN S/2010/498 set, SDG), when the plan names one."},
                    {"name": "Institution", "type": "string", "description": "Reporting institution; empty: national."},
                    {"name": "Sex", "type": "string", "constraints": {"enum": ["", "female", "male"]},
                     "description": "Empty: everyone counted."},
                    {"name": "Units", "type": "string"},
                    {"name": "Value", "type": "number"},
                    {"name": "Observation status", "type": "string", "constraints": {"enum": ["", SUPPRESSED]}},
                ],
                "missingValues": [""],
            },
        }],
    }


def write_package(session: Session, plan: pm.Plan, folder: Path, public: bool = False, threshold: int = 5) -> list[Path]:
    """Write `data.csv` and `datapackage.json` into `folder` (made if missing); returns their paths."""
    folder.mkdir(parents=True, exist_ok=True)
    rows = national(session, plan, threshold) if public else detail(session, plan)
    data, package = folder / CSV_NAME, folder / "datapackage.json"
    data.write_bytes(csv_bytes(rows))
    package.write_text(json.dumps(descriptor(plan, public, threshold), indent=2, ensure_ascii=False) + "\n")
    return [data, package]
