"""The review workflow as declared in tracker.review.workflow (issue 16): each step's states, who may take it, and
the routes made from the table. The journeys through it run in test_progress.py, test_signoff.py and test_races.py."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from tracker.auth.models import Role
from tracker.progress.models import EntryState as S
from tracker.review import states, workflow

PLAN, NAVY, ARMY = 1, 10, 20


def _user(role: Role, institution_id: int | None = None, focal: bool = False, user_id: int = 100):
    return SimpleNamespace(id=user_id, role=role, institution_id=institution_id, is_focal_point=focal,
                           is_authenticated=True, reviewed_plan_ids=frozenset({PLAN}) if role == Role.committee else frozenset())


def _entry(state: S, submitted_by: int | None = 7, cycle_open: bool = True):
    return SimpleNamespace(state=state, institution_id=NAVY, submitted_by_id=submitted_by,
                           cycle=SimpleNamespace(plan_id=PLAN, is_open=cycle_open))


REPORTER = _user(Role.reporter, NAVY)
FOCAL = _user(Role.reporter, NAVY, focal=True, user_id=101)
ARMY_FOCAL = _user(Role.reporter, ARMY, focal=True, user_id=102)
COMMITTEE = _user(Role.committee)
VIEWER = _user(Role.viewer)


def test_every_state_but_draft_is_reached_by_a_step_and_every_step_leaves_a_state_it_names():
    targets = {t.target for t in workflow.TRANSITIONS}
    assert set(S) - targets == set()  # draft too: a withdrawal
    for t in workflow.TRANSITIONS:
        assert t.sources and t.target not in t.sources


def test_the_two_submit_steps_are_told_apart_by_the_sign_off():
    straight, signed = workflow.named("submit")
    assert (straight.target, signed.target) == (S.submitted, S.awaiting_signoff)
    assert straight.applies is workflow.goes_straight_to_committee and signed.applies is workflow.needs_signoff


def test_notes_are_required_where_the_entry_goes_back():
    assert {t.name for t in workflow.TRANSITIONS if t.needs_note} == {"send_back", "return", "reopen"}
    assert all(t.target == S.returned for t in workflow.TRANSITIONS if t.needs_note)


@pytest.mark.parametrize("name, state, who, allowed", [
    ("submit", S.draft, REPORTER, True),
    ("submit", S.returned, FOCAL, True),
    ("submit", S.draft, COMMITTEE, False),
    ("withdraw", S.awaiting_signoff, REPORTER, True),
    ("withdraw", S.submitted, REPORTER, True),
    ("withdraw", S.approved, REPORTER, False),
    ("endorse", S.awaiting_signoff, FOCAL, True),
    ("endorse", S.awaiting_signoff, REPORTER, False),  # not the focal point
    ("endorse", S.awaiting_signoff, ARMY_FOCAL, False),  # another institution's
    ("endorse", S.awaiting_signoff, COMMITTEE, False),
    ("send_back", S.awaiting_signoff, FOCAL, True),
    ("endorse", S.submitted, FOCAL, False),
    ("approve", S.submitted, COMMITTEE, True),
    ("approve", S.awaiting_signoff, COMMITTEE, False),  # the focal point first
    ("approve", S.submitted, FOCAL, False),
    ("return", S.submitted, COMMITTEE, True),
    ("reopen", S.approved, COMMITTEE, True),
    ("reopen", S.approved, VIEWER, False),
])
def test_who_may_take_which_step(name, state, who, allowed):
    t = workflow.named(name)[0]
    entry = _entry(state)
    assert (state in t.sources and t.may(who, entry)) is allowed


def test_a_focal_point_never_endorses_what_they_submitted():
    (endorse,) = workflow.named("endorse")
    assert endorse.may(FOCAL, _entry(S.awaiting_signoff, submitted_by=7))
    assert not endorse.may(FOCAL, _entry(S.awaiting_signoff, submitted_by=FOCAL.id))


def test_the_institution_s_steps_wait_for_an_open_cycle_and_the_committee_s_do_not():
    assert {t.name for t in workflow.TRANSITIONS if t.needs_open_cycle} == {"submit", "withdraw"}
    assert not workflow.named("withdraw")[0].may(REPORTER, _entry(S.submitted, cycle_open=False))
    assert workflow.named("approve")[0].may(COMMITTEE, _entry(S.submitted, cycle_open=False))


def test_the_state_groups_cover_the_states_once():
    assert states.EDITABLE | states.PENDING | states.COUNTED == set(S)
    assert not (states.EDITABLE & states.PENDING) and not (states.PENDING & states.COUNTED)


def test_every_step_is_a_route_served_by_one_view(app):
    rules = {r.endpoint: r for r in app.url_map.iter_rules()}
    views = {app.view_functions[f"progress.{name}_entry"] for name in workflow.STEP_NAMES}
    assert len(views) == 1
    for name in workflow.STEP_NAMES:
        rule = rules[f"progress.{name}_entry"]
        assert rule.methods >= {"POST"} and rule.defaults == {"step": name}
