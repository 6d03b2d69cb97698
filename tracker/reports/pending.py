"""The annex of a provisional report: the year's entries not approved yet (with their state), and the data-quality
flags of those the provisional report counts, so that the committee reads the draft knowing what may still change.
Three queries whatever the plan's size."""

from __future__ import annotations

import sqlalchemy as sa
from flask_babel import gettext as _
from sqlalchemy.orm import Session, joinedload

from tracker.labels import label, quality_flag
from tracker.plan import models as pm
from tracker.progress.context import queue_flags
from tracker.progress.models import Entry, EntryKind, ReportingCycle
from tracker.reports.dataset import Column, Section, Table
from tracker.review import kinds, states


def pending_section(session: Session, plan: pm.Plan, year: int) -> Section:
    """The section "Annex: pending entries and data-quality flags" (key `pending`)."""
    query = (
        sa.select(Entry).join(ReportingCycle, ReportingCycle.id == Entry.cycle_id)
        .where(ReportingCycle.plan_id == plan.id, ReportingCycle.year == year, ~Entry.state.in_(states.COUNTED))
        .options(joinedload(Entry.institution), joinedload(Entry.indicator), joinedload(Entry.action),
                 joinedload(Entry.cycle))
    )
    entries = sorted(session.scalars(query), key=lambda e: (kinds.item_code(e), e.institution.code))
    counted = [e for e in entries if e.state in states.COUNTED_PROVISIONALLY and e.kind == EntryKind.indicator]
    flags = queue_flags(session, counted)
    pending = Table("pending", _("Entries not approved yet"), [
        Column("code", _("Code")), Column("institution", _("Institution")), Column("state", _("State")),
        Column("updated", _("Last saved"), "date"),
    ], [{"code": kinds.item_code(e), "institution": e.institution.code, "state": label(e.state), "updated": e.updated_at.date()}
        for e in entries], _("Every entry of the year is approved."))
    flagged = Table("quality_flags", _("Data-quality flags of the entries counted provisionally"), [
        Column("code", _("Code")), Column("institution", _("Institution")), Column("flag", _("Flag")),
    ], [{"code": kinds.item_code(e), "institution": e.institution.code, "flag": quality_flag(flag)}
        for e in counted for flag in flags.get(e.id, [])], _("No flag."))
    return Section("pending", _("Annex: entries pending and data-quality flags"), [
        _("This provisional report counts entries submitted but not approved yet. Below: every entry of the year that "
          "is not approved, and the data-quality flags of those counted; the final report counts approved data only."),
    ], [pending, flagged])
