"""Performing a workflow step: the one service every channel calls (entry page, review queue, saving a form
with "submit", the Excel import, the budget form)."""

from __future__ import annotations

from dataclasses import dataclass, field
import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Session, joinedload, object_session

from tracker import audit, permissions
from tracker.db import utcnow
from tracker.domain import PermissionDenied, ValidationFailed, WorkflowError
from tracker.progress.models import Entry, EntryState as S, ReportingCycle
from tracker.review import kinds, signoff, states, workflow
from tracker.review.workflow import Stamp, Transition


def take_step(session: Session, user, entry: Entry, name: str, note: str = "", seen: int | None = None,
              request_key: str | None = None) -> Entry:
    """Take step `name` on the entry as it is now (locked), at the version the user saw: check the state, the
    policy, the note and completeness, move and stamp the entry, keep the version and the audit row, and tell
    whom the step tells (e-mails leave after the commit)."""
    from tracker.progress import services as progress

    t = workflow.for_entry(name, entry)
    if t.needs_open_cycle:
        progress.require_open(entry.cycle)
    progress.lock_entry(session, entry)
    check_seen_version(entry, seen)
    t = workflow.for_entry(name, entry)  # again: the entry may have moved while we waited for the lock
    _check(user, entry, t, note)
    note = note.strip()
    entry.state = t.target
    entry.version += 1
    _stamp(entry, t, user, note)
    session.flush()
    progress.record_version(session, entry, name, user, note, request_key=request_key)
    audit.record(session, f"entry.{name}", actor=user, target=entry, note=note or None)
    for effect in t.effects:
        effect(session, entry, note, user)
    return entry


def _check(user, entry: Entry, t: Transition, note: str) -> None:
    if entry.state not in t.sources:
        raise WorkflowError(str(t.refused))
    if not t.may(user, entry):
        if t.name in ("endorse", "send_back") and entry.submitted_by_id == getattr(user, "id", None) \
                and permissions.is_focal_point_of(user, entry.institution_id):
            raise WorkflowError(str(_l("You submitted this entry: another focal point of your institution signs it off.")))
        raise PermissionDenied()
    if t.needs_note and not note.strip():
        raise ValidationFailed([("note", str(_l("A note is required: say what must be fixed or why.")))])
    if t.checks_complete:
        kinds.of(entry).check_complete(entry)
    if t.target == S.awaiting_signoff and not signoff.can_be_endorsed(object_session(entry), entry.institution_id, user.id):
        # Else it would wait for a sign-off nobody may give (a focal point never endorses their own submission).
        raise WorkflowError(str(_l("No other focal point of your institution can endorse this entry: ask an administrator "
                                   "to name one, or the monitoring body to lift the sign-off.")))


def _stamp(entry: Entry, t: Transition, user, note: str) -> None:
    now = utcnow()
    if t.stamp == Stamp.submitted:
        entry.submitted_at, entry.submitted_by_id = now, user.id
        entry.signoff_at = entry.signoff_by_id = None  # a new round: any earlier sign-off was of other values
    elif t.stamp == Stamp.signoff:
        entry.signoff_at, entry.signoff_by_id = now, user.id
    elif t.stamp == Stamp.reviewed:
        entry.reviewed_at, entry.reviewed_by_id = now, user.id
    if t.needs_note:
        entry.review_note = note


def check_seen_version(entry: Entry, seen: int | None) -> None:
    """A workflow step acts on the version the user was shown (None: not said, e.g. bulk review)."""
    if seen is not None and seen != entry.version:
        raise WorkflowError(str(_l("This entry changed while you were looking at it. Check it again before deciding.")))


@dataclass
class SubmittedAll:
    """What "submit all my complete drafts" did: the entries sent, and those left as they were, each with why."""

    submitted: list[Entry] = field(default_factory=list)
    incomplete: list[tuple[Entry, list[str]]] = field(default_factory=list)


def submit_complete_drafts(session: Session, user, cycle: ReportingCycle, institution_id: int) -> SubmittedAll:
    """Send every draft or returned entry of the institution in the cycle that is complete; each incomplete one
    stays as it is (its own savepoint), listed with what it lacks."""
    from tracker.progress import services as progress

    progress.require_open(cycle)
    pending = session.scalars(sa.select(Entry).filter_by(cycle_id=cycle.id, institution_id=institution_id)
                              .where(Entry.state.in_(states.EDITABLE))
                              .options(joinedload(Entry.indicator), joinedload(Entry.action)).order_by(Entry.id)).all()
    done = SubmittedAll()
    for entry in pending:
        try:
            with session.begin_nested():
                take_step(session, user, entry, "submit")
        except ValidationFailed as exc:
            done.incomplete.append((entry, [message for _, message in exc.errors]))
        else:
            done.submitted.append(entry)
    return done


def decide_many(session: Session, user, entry_ids: list[int], decision: str, note: str = "",
                seen: dict[int, int] | None = None) -> list[Entry]:
    """Approve or return several submitted entries at once, each at the version listed; all or nothing."""
    if decision not in workflow.BULK_DECISIONS:
        raise ValidationFailed([("decision", str(_l("Choose approve or return.")))])
    # Locked in id order: two members deciding overlapping selections wait for each other, never deadlock.
    # Only entries of the plans the user reviews: others are not even looked at (nor locked, nor told apart).
    reviewed = user.reviewed_plan_ids if permissions.can_review(user) else frozenset()
    entries = session.scalars(sa.select(Entry).join(ReportingCycle, ReportingCycle.id == Entry.cycle_id)
                              .where(Entry.id.in_(entry_ids), ReportingCycle.plan_id.in_(reviewed))
                              .options(joinedload(Entry.cycle)).order_by(Entry.id)).all()
    if not entries:
        raise ValidationFailed([("entries", str(_l("Select at least one entry.")))])
    for entry in entries:
        take_step(session, user, entry, decision, note, seen=(seen or {}).get(entry.id))
    return list(entries)
