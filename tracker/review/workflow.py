"""Every step of the review workflow, declared once.

    draft ──submit──▶ submitted ──approve──▶ approved ──reopen(note)──▶ returned
      │                ▲   └──return(note)──▶ returned ──submit──▶ …
      │  (sign-off)    │endorse
      └──submit──▶ awaiting_signoff ──send_back(note)──▶ returned
    awaiting_signoff, submitted ──withdraw──▶ draft

Where a plan asks an institution's focal point to sign off (tracker.review.signoff), "submit" takes the entry to
awaiting_signoff; everywhere else it goes straight to the monitoring body, as before sign-off existed. Each
Transition names who may take it (a predicate of tracker.permissions), what it stamps on the entry, and whom it
tells (in the app with the step; e-mails leave once the transaction commits). tracker.review.steps performs them;
the entry page draws its buttons from `available`; the routes are made from `STEP_NAMES`.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Any, Callable

from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Session, object_session

from tracker import permissions
from tracker.progress.models import Entry
from tracker.progress.models import EntryState as S


class Stamp(enum.Enum):
    """What a step writes on the entry besides its state: the moment and the person of that step."""

    none = "none"
    submitted = "submitted"  # submitted_at, submitted_by; a new round of sign-off and review begins
    signoff = "signoff"  # signoff_at, signoff_by (the focal point endorsed or sent back)
    reviewed = "reviewed"  # reviewed_at, reviewed_by (the monitoring body decided)


Effect = Callable[[Session, Entry, str, Any], None]


def _always(_entry: Entry) -> bool:
    return True


def needs_signoff(entry: Entry) -> bool:
    """The plan asks the entry's institution for a focal point's sign-off before the monitoring body sees it."""
    from tracker.review import signoff

    return signoff.is_required(object_session(entry), entry.cycle.plan_id, entry.institution_id)


def goes_straight_to_committee(entry: Entry) -> bool:
    return not needs_signoff(entry)


def _tell_committee(session: Session, entry: Entry, _note: str, _actor: Any) -> None:
    from tracker.progress import notifications

    notifications.entry_submitted(session, entry)


def _tell_focal_points(session: Session, entry: Entry, _note: str, actor: Any) -> None:
    from tracker.progress import notifications

    notifications.signoff_requested(session, entry, actor)


def _tell_institution(event: str) -> Effect:
    def tell(session: Session, entry: Entry, note: str, actor: Any) -> None:
        from tracker.progress import notifications

        notifications.entry_changed(session, entry, event, note, actor)

    return tell


@dataclass(frozen=True)
class Transition:
    name: str
    sources: frozenset[S]
    target: S
    may: Callable[[Any, Entry], bool]  # the policy predicate: who may take this step on this entry
    refused: Any  # said when the entry is in none of the sources (lazy text)
    label: Any  # the button, and the history's name for the step (lazy text)
    applies: Callable[[Entry], bool] = _always  # which of two steps of the same name this entry takes
    stamp: Stamp = Stamp.none
    needs_note: bool = False
    needs_open_cycle: bool = False
    checks_complete: bool = False
    effects: tuple[Effect, ...] = ()
    by_committee: bool = False  # a step of the monitoring body (else of the institution)


_SUBMIT_REFUSED = _l("Only a draft or a returned entry can be submitted.")

TRANSITIONS: tuple[Transition, ...] = (
    Transition("submit", frozenset({S.draft, S.returned}), S.submitted, permissions.can_submit_entry,
               _SUBMIT_REFUSED, _l("Submit"), applies=goes_straight_to_committee, stamp=Stamp.submitted,
               needs_open_cycle=True, checks_complete=True, effects=(_tell_committee,)),
    Transition("submit", frozenset({S.draft, S.returned}), S.awaiting_signoff, permissions.can_submit_entry,
               _SUBMIT_REFUSED, _l("Submit"), applies=needs_signoff, stamp=Stamp.submitted,
               needs_open_cycle=True, checks_complete=True, effects=(_tell_focal_points,)),
    Transition("withdraw", frozenset({S.awaiting_signoff, S.submitted}), S.draft, permissions.can_withdraw_entry,
               _l("Only a submitted entry can be withdrawn."), _l("Withdraw submission"), needs_open_cycle=True),
    Transition("endorse", frozenset({S.awaiting_signoff}), S.submitted, permissions.can_sign_off_entry,
               _l("Only an entry waiting for its sign-off can be endorsed."), _l("Endorse"), stamp=Stamp.signoff,
               effects=(_tell_committee, _tell_institution("endorse"))),
    Transition("send_back", frozenset({S.awaiting_signoff}), S.returned, permissions.can_sign_off_entry,
               _l("Only an entry waiting for its sign-off can be sent back."), _l("Send back"), stamp=Stamp.signoff,
               needs_note=True, effects=(_tell_institution("send_back"),)),
    Transition("approve", frozenset({S.submitted}), S.approved, permissions.can_review_entry,
               _l("Only a submitted entry can be approved."), _l("Approve"), stamp=Stamp.reviewed,
               effects=(_tell_institution("approve"),), by_committee=True),
    Transition("return", frozenset({S.submitted}), S.returned, permissions.can_review_entry,
               _l("Only a submitted entry can be returned."), _l("Return"), stamp=Stamp.reviewed, needs_note=True,
               effects=(_tell_institution("return"),), by_committee=True),
    Transition("reopen", frozenset({S.approved}), S.returned, permissions.can_reopen_entry,
               _l("Only an approved entry can be reopened."), _l("Reopen"), stamp=Stamp.reviewed, needs_note=True,
               effects=(_tell_institution("reopen"),), by_committee=True),
)

STEP_NAMES: tuple[str, ...] = tuple(dict.fromkeys(t.name for t in TRANSITIONS))
# The steps the monitoring body decides in bulk from the review queue.
BULK_DECISIONS: tuple[str, ...] = ("approve", "return")
# The steps the institution's reporters are told of (in the app and by e-mail).
TOLD_TO_INSTITUTION: tuple[str, ...] = ("endorse", "send_back", "approve", "return", "reopen")


def named(name: str) -> tuple[Transition, ...]:
    """The transitions of that name (KeyError when there is none)."""
    found = tuple(t for t in TRANSITIONS if t.name == name)
    if not found:
        raise KeyError(name)
    return found


def for_entry(name: str, entry: Entry) -> Transition:
    """The transition of that name this entry would take (the sign-off decides between the two "submit")."""
    candidates = named(name)
    return next((t for t in candidates if t.applies(entry)), candidates[0])


def label(name: str) -> str:
    return str(named(name)[0].label)


def available(user: Any, entry: Entry) -> dict[str, Transition]:
    """The steps this user may take on this entry now, by name: what the entry page offers."""
    out: dict[str, Transition] = {}
    for name in STEP_NAMES:
        candidates = [t for t in named(name) if entry.state in t.sources and t.may(user, entry)]
        if candidates:
            out[name] = next((t for t in candidates if t.applies(entry)), candidates[0])
    return out


def may_attempt(user: Any, entry: Entry, name: str) -> bool:
    """Whether the user is on the side that takes this step at all (the state is then checked with a message)."""
    t = named(name)[0]
    if t.by_committee:
        return permissions.can_review(user, entry.cycle.plan_id)
    return permissions.can_edit_for_institution(user, entry.institution_id)
