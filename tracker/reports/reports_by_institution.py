"""The report's section of what each institution reported for the year: every counted indicator report with its
figures, narrative and data source, every counted action report with what was done, the challenges and next
steps, and the evidence list (file name, institution, date; never the files). Two queries whatever the plan's size.

Only what the report counts is here: approved entries, and with a provisional report the submitted ones too;
never a draft, a returned entry or one still waiting for its institution's sign-off.
"""

from __future__ import annotations

from collections import defaultdict

import sqlalchemy as sa
from flask_babel import gettext as _
from sqlalchemy.orm import Session, joinedload

from tracker.i18n import localized
from tracker.labels import label
from tracker.plan import models as pm
from tracker.plan.services import plan_timezone
from tracker.progress.models import Entry, EntryKind, Evidence, ReportingCycle
from tracker.progress.context import entry_value, indicator_spec
from tracker.quality import figure
from tracker.reports.dataset import Column, Section, Table
from tracker.review import states


def counted_entries(session: Session, plan: pm.Plan, year: int, include_pending: bool) -> list[Entry]:
    """The year's indicator and action entries the report counts, by item code then institution code."""
    counted = states.COUNTED_PROVISIONALLY if include_pending else states.COUNTED
    query = (
        sa.select(Entry).join(ReportingCycle, ReportingCycle.id == Entry.cycle_id)
        .where(ReportingCycle.plan_id == plan.id, ReportingCycle.year == year, Entry.state.in_(counted),
               Entry.kind.in_([EntryKind.indicator, EntryKind.action]))
        .options(joinedload(Entry.institution), joinedload(Entry.indicator), joinedload(Entry.action))
    )
    entries = list(session.scalars(query))
    return sorted(entries, key=lambda e: (e.kind.value, e.item.code, e.institution.code))


def evidence_of(session: Session, entries: list[Entry]) -> dict[int, list[Evidence]]:
    """The files kept with these entries (not removed), oldest first."""
    ids = [e.id for e in entries]
    out: dict[int, list[Evidence]] = defaultdict(list)
    if ids:
        query = sa.select(Evidence).where(Evidence.entry_id.in_(ids), Evidence.removed_at.is_(None)).order_by(Evidence.id)
        for row in session.scalars(query):
            out[row.entry_id].append(row)
    return out


def reports_section(session: Session, plan: pm.Plan, year: int, include_pending: bool) -> Section:
    """The section "What each institution reported" (key `institutions`)."""
    entries = counted_entries(session, plan, year, include_pending)
    files = evidence_of(session, entries)
    indicators = [e for e in entries if e.kind == EntryKind.indicator]
    actions = [e for e in entries if e.kind == EntryKind.action]
    return Section("institutions", _("What each institution reported"), [
        _("Each institution's own report for %(year)s, as approved, with its narrative and the evidence it attached "
          "(the files themselves stay in the tracker).", year=year)
    ], [_indicator_table(indicators, year), _action_table(actions), _evidence_table(entries, files, plan_timezone(plan))])


def _indicator_table(entries: list[Entry], year: int) -> Table:
    columns = [
        Column("code", _("Code")), Column("indicator", _("Indicator")), Column("institution", _("Institution")),
        Column("figure", _("Figure"), "decimal"), Column("women", _("Women"), "int"), Column("men", _("Men"), "int"),
        Column("narrative", _("Narrative")), Column("data_source", _("Data source")),
    ]
    rows = [{
        "code": e.indicator.code, "indicator": str(localized(e.indicator, "name")), "institution": e.institution.code,
        "figure": figure(indicator_spec(e.indicator), entry_value(e, year)),
        "women": e.women, "men": e.men,
        "narrative": "\n".join(t for t in (e.value_text, e.narrative) if t), "data_source": e.data_source,
    } for e in entries]
    return Table("indicator_reports", _("Indicator reports by institution"), columns, rows, _("No approved report."))


def _action_table(entries: list[Entry]) -> Table:
    columns = [
        Column("code", _("Code")), Column("action", _("Action")), Column("institution", _("Institution")),
        Column("status", _("Status")), Column("done", _("What was done")), Column("challenges", _("Challenges")),
        Column("next_steps", _("Next steps")),
    ]
    rows = [{
        "code": e.action.code, "action": str(localized(e.action, "text")), "institution": e.institution.code,
        "status": label(e.action_status) if e.action_status else "", "done": e.done, "challenges": e.challenges,
        "next_steps": e.next_steps,
    } for e in entries]
    return Table("action_reports", _("Action reports by institution"), columns, rows, _("No approved report."))


def _evidence_table(entries: list[Entry], files: dict[int, list[Evidence]], zone) -> Table:
    columns = [Column("code", _("Code")), Column("institution", _("Institution")), Column("file", _("File")),
               Column("date", _("Date"), "date")]
    rows = [{"code": e.item.code, "institution": e.institution.code, "file": f.original_name,
             "date": f.uploaded_at.astimezone(zone).date()} for e in entries for f in files.get(e.id, [])]
    return Table("evidence", _("Evidence attached (means of verification)"), columns, rows, _("No evidence file."))
