"""The annual report dataset: built once (a fixed number of queries) in one language, then handed to
the writers in tracker/reports/exporters/, which never query.

Shape (stable keys, documented in docs/report-json.md):
  meta      country, plan, year, language, generated_at, final, provisional; locale (numbers and dates),
            currency and money_locale (amounts: the plan's country's currency, written its way; no currency:
            plain numbers), budget_profile
  sections  [Section(key, title, paragraphs, tables, charts)]; each Table has typed columns and rows
            (rows are dicts keyed by column key; values are str, int, Decimal, date or None).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from flask_babel import force_locale, format_date, format_percent
from flask_babel import gettext as _
from markupsafe import Markup
from sqlalchemy.orm import Session

from tracker.dashboard import presenters
from tracker.dashboard import services as dash
from tracker.i18n import localized, plan_locale, plan_money_format
from tracker.plan.services import reviewing_body
from tracker.labels import label
from tracker.plan import models as pm
from tracker.progress.models import ActionStatus

SECTION_KEYS = ("summary", "actions", "indicators", "peacekeeping", "institutions", "budget", "completeness", "validation",
                "annex")
# Only in a provisional report, after the budget section.
PROVISIONAL_KEYS = ("pending",)


@dataclass(frozen=True)
class Column:
    key: str
    label: str
    kind: str = "text"  # text | int | year | decimal | percent (0..1) | money | date


@dataclass
class Table:
    key: str
    title: str
    columns: list[Column]
    rows: list[dict[str, Any]] = field(default_factory=list)
    empty_text: str = ""


@dataclass
class Section:
    key: str
    title: str
    paragraphs: list[str] = field(default_factory=list)
    tables: list[Table] = field(default_factory=list)
    charts: list[Markup] = field(default_factory=list)


@dataclass
class ReportDataset:
    meta: dict[str, Any]
    sections: list[Section]

    def section(self, key: str) -> Section:
        return next(s for s in self.sections if s.key == key)

    def table(self, key: str) -> Table:
        return next(t for s in self.sections for t in s.tables if t.key == key)


def build_annual_report(
    session: Session,
    plan: pm.Plan,
    year: int,
    language: str,
    include_pending: bool = False,
    final: bool = False,
    extra_sections: list[Section] | None = None,
    validation: Any = None,
    commentary: dict[str, Any] | None = None,
) -> ReportDataset:
    """The whole report for a plan and year, in `language` (es or en).

    `validation` is the committee's ReportValidation row for the year (None: not validated yet); it
    becomes the section just before the annex. `commentary` maps "" (the whole plan) and pillar codes to the
    committee's ReportCommentary rows: the executive summary carries them.
    """
    with force_locale(plan_locale(plan, language)):  # es_CL for Chile's plan in Spanish, as its pages
        d = dash.build_dashboard(session, plan, year, include_pending=include_pending, with_history=True)
        body = reviewing_body(plan)  # in the report's language: its locale is forced around the build
        sections = [
            _summary(d, include_pending, body, commentary or {}),
            _actions(d),
            _indicators(d),
            _peacekeeping(d),
            *(extra_sections or []),
            _completeness(d),
            _validation(validation, year, body),
            _annex(plan, include_pending, body),
        ]
        meta = _meta(plan, year, language, include_pending, final, d)
    return ReportDataset(meta=meta, sections=sections)


def _meta(plan: pm.Plan, year: int, language: str, provisional: bool, final: bool, d: dash.Dashboard) -> dict[str, Any]:
    currency, money_locale = plan_money_format(plan)
    return {
        "country": str(localized(plan.country, "name")),
        "country_iso": plan.country.iso_code,
        "plan_code": plan.code,
        "plan_title": str(localized(plan, "title")),
        "year": year,
        "language": language,
        "generated_at": datetime.now(timezone.utc).replace(microsecond=0),
        "final": final,
        "provisional": provisional,
        "status_label": _("Final") if final else _("Draft"),
        "has_data": bool(d.overall.actions_reported or d.overall.indicators_reported),
        "demo_entries": d.demo_entries,
        "title": _("Implementation report %(year)s", year=year),
        "locale": plan_locale(plan, language),
        "currency": currency,
        "money_locale": money_locale,
        "budget_profile": plan.profile.budget_profile.value if plan.profile else pm.BudgetProfile.generic.value,
    }


def _pillar_name(card: dash.PillarCard) -> str:
    return str(localized(card.pillar, "name")) if card.pillar else _("Not linked to a pillar")


def _summary(d: dash.Dashboard, provisional: bool, body: str, commentary: dict[str, Any]) -> Section:
    columns = [
        Column("pillar", _("Pillar")),
        Column("actions_share", _("Actions completed or ongoing"), "percent"),
        Column("actions_reported", _("Actions with approved status"), "int"),
        Column("actions_total", _("Actions"), "int"),
        Column("mean_achievement", _("Mean indicator achievement"), "percent"),
        Column("indicators_reported", _("Indicators with data"), "int"),
        Column("indicators_total", _("Indicators"), "int"),
    ]
    rows = [_completion_row(_pillar_name(c), c.completion) for c in d.cards] + [_completion_row(_("Whole plan"), d.overall)]
    paragraphs = [] if (d.overall.actions_reported or d.overall.indicators_reported) else [
        _("There is no approved data for %(year)s: every figure below is empty.", year=d.year)
    ]
    paragraphs.append(_counted_data(provisional, body))
    tables = [Table("pillars", _("Completion by pillar"), columns, rows), _commentary_table(d, commentary)]
    charts = [chart for chart in (presenters.pillar_chart(d), presenters.trend_chart(d)) if chart is not None]
    return Section("summary", _("Executive summary"), paragraphs, tables, charts)


def _commentary_table(d: dash.Dashboard, commentary: dict[str, Any]) -> Table:
    """The committee's findings and recommendations: on the whole plan first, then pillar by pillar."""
    columns = [Column("scope", _("Pillar or plan")), Column("findings", _("Findings")), Column("recommendations", _("Recommendations"))]
    scopes = [("", _("Whole plan"))] + [(c.pillar.code, _pillar_name(c)) for c in d.cards if c.pillar]
    rows = [{"scope": name, "findings": commentary[code].findings, "recommendations": commentary[code].recommendations}
            for code, name in scopes if code in commentary]
    return Table("commentary", _("Commentary of the monitoring body"), columns, rows, _("No commentary written yet."))


def _completion_row(name: str, c) -> dict[str, Any]:
    return {
        "pillar": name,
        "actions_share": c.actions_share,
        "actions_reported": c.actions_reported,
        "actions_total": c.actions_total,
        "mean_achievement": c.mean_achievement,
        "indicators_reported": c.indicators_reported,
        "indicators_total": c.indicators_total,
    }


def _actions(d: dash.Dashboard) -> Section:
    columns = [Column("pillar", _("Pillar")), Column("code", _("Code")), Column("action", _("Action")), Column("status", _("Status")),
               Column("done", _("What was done")), Column("challenges", _("Challenges")), Column("next_steps", _("Next steps"))]
    rows = []
    for card in d.cards:
        if card.pillar and not card.actions:
            rows.append({"pillar": _pillar_name(card), "code": "", "action": _("No actions recorded"), "status": "", "done": "", "challenges": "", "next_steps": ""})
        for row in card.actions:
            narrative = d.action_narratives.get(row.action.id, {})
            rows.append({
                "pillar": _pillar_name(card), "code": row.action.code, "action": str(localized(row.action, "text")),
                "status": label(ActionStatus(row.status)) if row.status else _("No approved report"),
                "done": narrative.get("done", ""), "challenges": narrative.get("challenges", ""), "next_steps": narrative.get("next_steps", ""),
            })
    return Section("actions", _("Actions by pillar"), [], [Table("actions", _("Actions and their status"), columns, rows)])


def _indicators(d: dash.Dashboard) -> Section:
    columns = [
        Column("code", _("Code")), Column("indicator", _("Indicator")), Column("provenance", _("Provenance")), Column("year", _("Year"), "year"),
        Column("baseline", _("Baseline"), "decimal"), Column("target", _("Target"), "decimal"), Column("actual", _("Actual"), "decimal"),
        Column("achievement", _("Achievement"), "percent"),
        Column("women", _("Women"), "int"), Column("men", _("Men"), "int"), Column("total", _("Total"), "int"),
        Column("women_share", _("Women's share"), "percent"), Column("status", _("Status")), Column("source", _("Data source")),
    ]
    rows = []
    for card in d.cards:
        for row in card.indicators:
            ind = row.indicator
            for year, result in d.history.get(ind.id, []):
                a = result.actual
                rows.append({
                    "code": ind.code, "indicator": str(localized(ind, "name")), "provenance": label(ind.verification), "year": year,
                    "baseline": ind.baseline_value, "target": result.target, "actual": a.value if a else None,
                    "achievement": result.achievement,
                    "women": a.women if a else None, "men": a.men if a else None,
                    "women_share": a.women_share if a and ind.counts_people else None,
                    "total": (a.women + a.men) if a and a.women is not None and a.men is not None else None,
                    "status": label(result.performance), "source": str(localized(ind, "data_source")),
                })
    note = _("Indicators marked “Derived” were written by the tracker team from the plan's actions and await the Committee's confirmation.")
    charts = [chart for chart in (presenters.women_chart(d),) if chart is not None]
    return Section("indicators", _("Indicators"), [note], [Table("indicators", _("Indicator tracking table"), columns, rows, _("No indicators."))],
                   charts)


def _peacekeeping(d: dash.Dashboard) -> Section:
    columns = [Column("code", _("Code")), Column("indicator", _("Indicator")), Column("women", _("Women"), "int"), Column("men", _("Men"), "int"),
               Column("women_share", _("Women's share"), "percent"), Column("un_target", _("UN target"), "percent"), Column("status", _("Status"))]
    rows = [{
        "code": r.indicator.code, "indicator": str(localized(r.indicator, "name")),
        "women": r.actual.women if r.actual else None, "men": r.actual.men if r.actual else None,
        "women_share": r.actual.women_share if r.actual else None, "un_target": r.target, "status": label(r.performance),
    } for r in d.parity]
    if d.parity_target:
        text = _("UN target for %(year)s: %(contingents)s of military contingents and %(observers)s of military observers and staff officers are women.",
                 year=d.year, contingents=format_percent(d.parity_target.contingents, "#,##0.##%"),
                 observers=format_percent(d.parity_target.observers_staff, "#,##0.##%"))
    else:
        text = _("No UN parity target is recorded for %(year)s.", year=d.year)
    return Section("peacekeeping", _("Peacekeeping participation and the UN parity targets"), [text],
                   [Table("peacekeeping", _("Women in peace operations"), columns, rows, _("No approved data."))])


def _completeness(d: dash.Dashboard) -> Section:
    columns = [Column("institution", _("Institution")), Column("assigned", _("Assigned"), "int"), Column("submitted", _("Submitted"), "int"),
               Column("approved", _("Approved"), "int"), Column("on_time", _("On time"), "int"), Column("missing", _("Not reported"), "int")]
    rows = [{
        "institution": f"{r.institution.code} · {localized(r.institution, 'name')}", "assigned": r.completeness.assigned,
        "submitted": r.completeness.submitted, "approved": r.completeness.approved, "on_time": r.completeness.on_time,
        "missing": r.completeness.missing,
    } for r in d.institutions]
    return Section("completeness", _("Reporting completeness and timeliness"), [],
                   [Table("completeness", _("Reporting by institution"), columns, rows, _("No reporting cycle for this year."))])


def _validation(v: Any, year: int, body: str) -> Section:
    """The committee's validation: date, minutes, recommendations and its assessment (or a note that it is pending)."""
    title = _("Validation by %(body)s", body=body)
    columns = [Column("item", _("Item")), Column("text", _("Text"))]
    if v is None:
        return Section("validation", title, [_("The committee has not validated the report for %(year)s yet.", year=year)],
                       [Table("validation", _("Committee validation"), columns, [], _("Not validated yet."))])
    items = [
        (_("Validated on"), v.validated_on), (_("Minutes reference"), v.minutes_reference),
        (_("Recommendations"), v.recommendations), (_("Achievements"), v.achievements),
        (_("Challenges"), v.challenges), (_("Lessons learned"), v.lessons_learned),
    ]
    rows = [{"item": name, "text": value} for name, value in items if value]
    paragraph = _("The committee validated this report on %(date)s (minutes: %(minutes)s).",
                  date=format_date(v.validated_on, "long"), minutes=v.minutes_reference)
    return Section("validation", title, [paragraph], [Table("validation", _("Committee validation"), columns, rows)])


def _counted_data(provisional: bool, body: str) -> str:
    if provisional:
        return _("PROVISIONAL: data submitted but not yet approved by %(body)s is counted too.", body=body)
    return _("Only data approved by %(body)s is counted.", body=body)


def _annex(plan: pm.Plan, provisional: bool, body: str) -> Section:
    paragraphs = [
        _counted_data(provisional, body),
        _("Reports of several institutions on the same indicator are added up."),
        _("Indicator status: target met (achievement of 100% or more), on track (75% to 100%), at risk (50% to 75%), not met (below 50%), no target set, or no data. Achievement uses the baseline and the direction (increase, decrease, maintain); cumulative indicators add every year up to the year shown."),
        _("Pillar completion shows two measures side by side: the share of actions completed or ongoing, and the mean achievement of indicators that have a target, each with its coverage."),
        _("Sources: %(source)s.", source=plan.source_document),
    ]
    return Section("annex", _("Annex: how statuses are computed, and sources"), paragraphs)


# What a number of each kind means, and so how many decimals it keeps in JSON and CSV: money to the cent, shares
# (0..1) to four decimals (a hundredth of a percent), other figures to four decimals as the database stores them.
QUANTUM = {"money": Decimal("0.01"), "percent": Decimal("0.0001"), "decimal": Decimal("0.0001")}


def rounded(value: Any, kind: str) -> Any:
    """A value rounded to what its column's kind means (half up); anything but a Decimal is left as it is."""
    if isinstance(value, Decimal) and kind in QUANTUM and value.is_finite():
        return value.quantize(QUANTUM[kind], ROUND_HALF_UP)
    return value


def plain(value: Any) -> Any:
    """A JSON-ready value: decimals as strings of digits, dates in ISO format."""
    if isinstance(value, Decimal):
        return format(value.normalize(), "f") if value == value.to_integral_value() else format(value, "f")
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    return value

