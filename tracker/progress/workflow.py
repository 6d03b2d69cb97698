"""The review workflow shared by every reviewable record (progress entries now, budget items later).

draft --submit--> submitted --approve--> approved (locked)
  ^                  |  \\--return(note)--> returned --submit--> submitted
  '----withdraw------'                       approved --reopen(reason)--> returned
"""

from __future__ import annotations

from dataclasses import dataclass

from flask_babel import lazy_gettext as _l

from tracker.progress.models import EntryState as S


@dataclass(frozen=True)
class Transition:
    name: str
    sources: frozenset[S]
    target: S
    needs_note: bool = False


TRANSITIONS = {
    t.name: t
    for t in (
        Transition("submit", frozenset({S.draft, S.returned}), S.submitted),
        Transition("withdraw", frozenset({S.submitted}), S.draft),
        Transition("approve", frozenset({S.submitted}), S.approved),
        Transition("return", frozenset({S.submitted}), S.returned, needs_note=True),
        Transition("reopen", frozenset({S.approved}), S.returned, needs_note=True),
    )
}

EDITABLE_STATES = frozenset({S.draft, S.returned})

STATE_NOT_ALLOWED = {
    "submit": _l("Only a draft or a returned entry can be submitted."),
    "withdraw": _l("Only a submitted entry can be withdrawn."),
    "approve": _l("Only a submitted entry can be approved."),
    "return": _l("Only a submitted entry can be returned."),
    "reopen": _l("Only an approved entry can be reopened."),
}


def transition(name: str) -> Transition:
    return TRANSITIONS[name]


def allowed(name: str, state: S) -> bool:
    return state in TRANSITIONS[name].sources
