"""The institution sign-off (issue 16): where a plan asks for it, an institution's focal point endorses or sends back
its entries before the monitoring body sees them; everywhere else an entry goes straight to the committee."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa

from conftest import YEAR_NOW, logged_in, page_text
from tracker.auth.models import Role, User
from tracker.db import db
from tracker.demo import seed_peru_demo
from tracker.plan import models as pm
from tracker.progress import services
from tracker.progress.models import (
    ActionStatus, Entry, EntryState, EntryVersion, Notification, OutboxMessage, ReportingCycle, SignoffRequirement,
)

EN = {"Accept-Language": "en"}
SETTINGS = "/plans/PE-2021/sign-off"




@pytest.fixture
def people(app, make_user, peru):
    """Navy's reporter and focal point, the Army's reporter, a committee member; this year's cycle open."""
    emails = {
        "reporter": make_user(Role.reporter, email="ana@marina.example", institution="MGP", name="Ana Reportera")[1],
        "focal": make_user(Role.reporter, email="jefa@marina.example", institution="MGP", name="Jefa Visadora",
                           focal_point=True)[1],
        "army": make_user(Role.reporter, email="eje@ejercito.example", institution="EP")[1],
        "committee": make_user(Role.committee, name="Comité Revisor")[1],
    }
    with app.test_request_context():
        seed_peru_demo(db.session)
        db.session.commit()
    return emails


def _require_navy_signoff(app, people) -> None:
    committee = logged_in(app, people["committee"])
    response = committee.post_form(SETTINGS, {"institutions": "MGP", "reason": "Acta 4-2026: visado de la Marina"},
                                   token_from=SETTINGS)
    assert response.status_code == 302, page_text(response)[:600]


def _save(app, email: str, code: str, submit: bool = True, institution: str = "MGP") -> int:
    """Save (and submit) an action entry of the institution for this year; returns its id."""
    with app.test_request_context():
        plan = db.session.scalars(sa.select(pm.Plan).filter_by(code="PE-2021")).one()
        cycle = db.session.scalars(sa.select(ReportingCycle).filter_by(plan_id=plan.id, year=YEAR_NOW)).one()
        user = db.session.scalars(sa.select(User).filter_by(email=email)).one()
        inst = db.session.scalars(sa.select(pm.Institution).filter_by(code=institution, country_id=plan.country_id)).one()
        action = db.session.scalars(sa.select(pm.Action).filter_by(plan_id=plan.id, code=code)).one()
        entry = services.save_entry(db.session, user, cycle, inst, action,
                                    services.ActionInput(action_status=ActionStatus.in_progress, done="Talleres"),
                                    submit=submit)
        db.session.commit()
        return entry.id


def _entry(app, entry_id: int) -> Entry:
    with app.app_context():
        entry = db.session.get(Entry, entry_id)
        db.session.expunge(entry)
        return entry


def _notifications(app, email: str, event: str) -> list[int]:
    with app.app_context():
        user = db.session.scalars(sa.select(User).filter_by(email=email)).one()
        return list(db.session.scalars(sa.select(Notification.entry_id).filter_by(user_id=user.id, event=event)))


def test_with_sign_off_off_an_entry_goes_straight_to_the_committee(app, people):
    entry_id = _save(app, people["reporter"], "PAR-1")
    assert _entry(app, entry_id).state == EntryState.submitted
    assert _notifications(app, people["committee"], "entry_submitted") == [entry_id]
    assert _notifications(app, people["focal"], "signoff_requested") == []


def test_the_focal_point_endorses_then_the_committee_approves(app, people):
    _require_navy_signoff(app, people)
    entry_id = _save(app, people["reporter"], "PAR-1")
    url = f"/entries/{entry_id}"
    assert _entry(app, entry_id).state == EntryState.awaiting_signoff
    assert _notifications(app, people["focal"], "signoff_requested") == [entry_id]
    assert _notifications(app, people["committee"], "entry_submitted") == []
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(OutboxMessage)
                                 .filter_by(to_email=people["focal"])) == 1

    committee, focal = logged_in(app, people["committee"]), logged_in(app, people["focal"])
    # Not the committee's yet: not in its queue, and approving it is refused with the reason.
    assert f"/entries/{entry_id}\"" not in committee.get("/review").get_data(as_text=True)
    response = committee.post_form(f"{url}/approve", {}, token_from=url, headers=EN)
    assert response.status_code == 302
    assert "Only a submitted entry can be approved." in page_text(committee.get(url, headers=EN))
    assert _entry(app, entry_id).state == EntryState.awaiting_signoff

    assert "PAR-1" in page_text(focal.get("/sign-off", headers=EN))
    page = page_text(focal.get(url, headers=EN))
    assert "Endorse and send" in page and "Send back with this note" in page
    assert focal.post_form(f"{url}/endorse", {}, token_from=url).status_code == 302
    endorsed = _entry(app, entry_id)
    assert endorsed.state == EntryState.submitted
    with app.app_context():
        focal_id = db.session.scalars(sa.select(User.id).filter_by(email=people["focal"])).one()
    assert endorsed.signoff_by_id == focal_id and endorsed.signoff_at is not None
    assert _notifications(app, people["committee"], "entry_submitted") == [entry_id]
    assert _notifications(app, people["reporter"], "endorse") == [entry_id]

    assert committee.post_form(f"{url}/approve", {}, token_from=url).status_code == 302
    assert _entry(app, entry_id).state == EntryState.approved
    page = page_text(committee.get(url, headers=EN))
    assert "Submitted by Ana Reportera" in page and "endorsed by the focal point Jefa Visadora" in page
    assert "decided by Comité Revisor" in page
    with app.app_context():
        events = list(db.session.scalars(sa.select(EntryVersion.event).filter_by(entry_id=entry_id).order_by(EntryVersion.number)))
    assert events == ["created", "submit", "endorse", "approve"]


def test_the_focal_point_sends_back_with_a_note_that_the_reporter_reads(app, people):
    _require_navy_signoff(app, people)
    entry_id = _save(app, people["reporter"], "PAR-2")
    url = f"/entries/{entry_id}"
    focal = logged_in(app, people["focal"])
    assert focal.post_form(f"{url}/send-back", {"note": ""}, token_from=url).status_code == 302
    assert _entry(app, entry_id).state == EntryState.awaiting_signoff  # a note is required
    assert focal.post_form(f"{url}/send-back", {"note": "Falta el oficio de la Dirección"}, token_from=url).status_code == 302
    returned = _entry(app, entry_id)
    assert (returned.state, returned.review_note, returned.sent_back_by_focal_point) == (
        EntryState.returned, "Falta el oficio de la Dirección", True)
    assert _notifications(app, people["reporter"], "send_back") == [entry_id]
    assert _notifications(app, people["focal"], "send_back") == []  # whoever took the step is not told of it
    reporter = logged_in(app, people["reporter"])
    page = page_text(reporter.get(url, headers=EN))
    assert "Sent back by the institution's focal point: Falta el oficio de la Dirección" in page
    assert page.count("Falta el oficio de la Dirección") >= 2  # the banner, and the note in the conversation
    # Fixed and submitted again: back to the focal point, not to the committee.
    assert reporter.post_form(f"{url}/submit", {}, token_from=url).status_code == 302
    assert _entry(app, entry_id).state == EntryState.awaiting_signoff


def test_a_focal_point_never_signs_off_their_own_submission(app, people, make_user):
    _require_navy_signoff(app, people)
    make_user(Role.reporter, email="segunda@marina.example", institution="MGP", focal_point=True)  # who may endorse it
    entry_id = _save(app, people["focal"], "PAR-3")
    url = f"/entries/{entry_id}"
    focal = logged_in(app, people["focal"])
    page = page_text(focal.get(url, headers=EN))
    assert "You submitted this entry: another focal point of your institution signs it off." in page
    assert "Endorse and send" not in page
    focal.post_form(f"{url}/endorse", {}, token_from=url)
    assert _entry(app, entry_id).state == EntryState.awaiting_signoff
    assert "PAR-3" not in page_text(focal.get("/sign-off", headers=EN))


def test_only_the_institution_s_focal_point_signs_off(app, people, make_user):
    _require_navy_signoff(app, people)
    entry_id = _save(app, people["reporter"], "PAR-1")
    url = f"/entries/{entry_id}"
    # A reporter of the institution who is not its focal point may not; another institution's does not see it.
    reporter = logged_in(app, people["reporter"])
    assert reporter.post_form(f"{url}/endorse", {}, token_from=url).status_code == 403
    _, army_focal = make_user(Role.reporter, email="jefe@ejercito.example", institution="EP", focal_point=True)
    army = logged_in(app, army_focal)
    token = army.csrf_token("/sign-off")
    assert army.post(f"{url}/endorse", data={"csrf_token": token}).status_code == 404
    assert _entry(app, entry_id).state == EntryState.awaiting_signoff


def test_the_reporter_may_withdraw_while_it_waits_for_the_sign_off(app, people):
    _require_navy_signoff(app, people)
    entry_id = _save(app, people["reporter"], "PAR-1")
    url = f"/entries/{entry_id}"
    reporter = logged_in(app, people["reporter"])
    assert reporter.post_form(f"{url}/withdraw", {}, token_from=url).status_code == 302
    assert _entry(app, entry_id).state == EntryState.draft


def test_sign_off_is_per_institution(app, people):
    _require_navy_signoff(app, people)
    assert _entry(app, _save(app, people["army"], "PAR-1", institution="EP")).state == EntryState.submitted


def test_sign_off_is_refused_for_an_institution_without_a_focal_point_and_needs_a_reason(app, people):
    committee = logged_in(app, people["committee"])
    response = committee.post_form(SETTINGS, {"institutions": "EP", "reason": "Acta 5"}, token_from=SETTINGS, headers=EN)
    assert response.status_code == 400
    assert "EP has no active focal point yet" in page_text(response)
    response = committee.post_form(SETTINGS, {"institutions": "MGP", "reason": ""}, token_from=SETTINGS, headers=EN)
    assert response.status_code == 400 and "Say why the sign-off changes." in page_text(response)
    # The user's choice stays ticked on the page that comes back.
    assert re.search(r'value="MGP" id="signoff-MGP" checked', response.get_data(as_text=True))
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(SignoffRequirement)) == 0


def test_the_settings_page_lists_focal_points_and_the_change_is_audited(app, people):
    _require_navy_signoff(app, people)
    committee = logged_in(app, people["committee"])
    page = page_text(committee.get(SETTINGS, headers=EN))
    assert "Jefa Visadora" in page
    from tracker.audit import AuditEvent

    with app.app_context():
        event = db.session.scalars(sa.select(AuditEvent).filter_by(action="plan.signoff_changed")).one()
        assert "MGP" in event.details and "Acta 4-2026" in event.details
    # Unticking every institution turns it off: the next submission goes straight to the committee.
    committee.post_form(SETTINGS, {"reason": "Acta 6: sin visado"}, token_from=SETTINGS)
    assert _entry(app, _save(app, people["reporter"], "PAR-1")).state == EntryState.submitted


def test_focal_points_are_reporters_marked_by_an_administrator(app, people, cli):
    result = cli("users", "edit", people["army"], "--focal-point")
    assert result.exit_code == 0 and "focal point" in result.output
    result = cli("users", "edit", people["army"], "--role", "viewer", "--no-institution")
    assert result.exit_code == 0, result.output  # a new role ends it
    with app.app_context():
        assert not db.session.scalars(sa.select(User.is_focal_point).filter_by(email=people["army"])).one()
    result = cli("users", "edit", people["army"], "--focal-point")
    assert result.exit_code != 0 and "Only a reporter can be their institution's focal point." in result.output


def test_the_only_focal_point_cannot_submit_what_nobody_could_endorse(app, people):
    """A sole focal point's own submission would wait for ever: it is refused, saying what to do."""
    from tracker.domain import WorkflowError

    _require_navy_signoff(app, people)
    with pytest.raises(WorkflowError, match="Ningún otro punto focal de su institución puede visar este registro"):
        _save(app, people["focal"], "PAR-3")
    draft = _save(app, people["focal"], "PAR-3", submit=False)
    url = f"/entries/{draft}"
    focal = logged_in(app, people["focal"])
    focal.post_form(f"{url}/submit", {}, token_from=url, headers=EN)
    assert _entry(app, draft).state == EntryState.draft
    assert "No other focal point" in page_text(focal.get(url, headers=EN))
