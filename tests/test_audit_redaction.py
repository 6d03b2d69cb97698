"""The audit log shows admins no entry content they may not see (issue 12): evidence file names and review notes
of drafts, submitted and returned entries are redacted; approved entries are for everyone, so theirs are shown."""

from __future__ import annotations

import html
import re

import pytest
import sqlalchemy as sa

from conftest import count_queries
from test_admin import translated
from test_routes import PDF, YEAR
from tracker.admin import services
from tracker.audit import AuditEvent
from tracker.auth.models import Role, User
from tracker.db import db
from tracker.plan import models as pm
from tracker.progress import services as progress
from tracker.progress import uploads
from tracker.progress.models import ActionStatus, CycleState, ReportingCycle
from tracker.review import steps

FILE_NAME = "informe-reservado-marina.pdf"
NOTE = "Falta la fuente: el oficio 123-MGP es reservado."
HIDDEN = "hidden: you cannot see this entry"
ENGLISH = {"Accept-Language": "en"}


@pytest.fixture
def navy_entries(app, make_user, monkeypatch, tmp_path) -> dict[str, int]:
    """A draft with an evidence file, and an action the committee returned with a note; the user ids."""
    from datetime import date, timedelta

    monkeypatch.setitem(app.config, "UPLOAD_FOLDER", tmp_path)
    reporter_id, _ = make_user(Role.reporter, institution="MGP")
    committee_id, _ = make_user(Role.committee)
    with app.test_request_context():
        session = db.session
        plan = session.scalars(sa.select(pm.Plan).filter_by(code="PE-2021")).one()
        navy = session.scalars(sa.select(pm.Institution).filter_by(code="MGP")).one()
        cycle = ReportingCycle(plan_id=plan.id, year=YEAR, deadline=date.today() + timedelta(days=30), state=CycleState.open)
        session.add(cycle)
        session.flush()
        reporter, committee = session.get(User, reporter_id), session.get(User, committee_id)
        indicator = session.scalars(sa.select(pm.Indicator).filter_by(plan_id=plan.id, code="IND-PAR-2")).one()
        draft = progress.save_entry(session, reporter, cycle, navy, indicator, progress.IndicatorInput(women=1, men=2))
        uploads.store_evidence(session, reporter, draft, [(PDF, "application/pdf", FILE_NAME)])
        action = session.scalars(sa.select(pm.Action).filter_by(plan_id=plan.id, code="PAR-1")).one()
        returned = progress.save_entry(session, reporter, cycle, navy, action,
                                       progress.ActionInput(action_status=ActionStatus.in_progress), submit=True)
        steps.take_step(session, committee, returned, "return", NOTE)
        session.commit()
        return {"draft": draft.id, "returned": returned.id, "reporter": reporter_id, "committee": committee_id}


def audit_page(client, query: str = "") -> str:
    return html.unescape(client.get(f"/admin/audit{query}", headers=ENGLISH).get_data(as_text=True))


def details_of(page: str, action: str) -> list[str]:
    """The Details cell of every row of the given action."""
    rows = re.findall(r"<code>" + re.escape(action) + r"</code>.*?<td class=\"small\"><code>(.*?)</code>", page, re.S)
    return rows


def approve(app, navy_entries, key: str) -> None:
    with app.test_request_context():
        entry = progress.get_entry(db.session, navy_entries[key])
        committee = db.session.get(User, navy_entries["committee"])
        if entry.state.value in ("draft", "returned"):
            steps.take_step(db.session, db.session.get(User, navy_entries["reporter"]), entry, "submit")
        steps.take_step(db.session, committee, entry, "approve")
        db.session.commit()


def test_admin_does_not_see_the_file_name_of_a_draft(login_as, navy_entries):
    page = audit_page(login_as(Role.admin), "?action=evidence.")
    assert FILE_NAME not in page and HIDDEN in details_of(page, "evidence.added")[0]


def test_admin_does_not_see_the_note_of_a_returned_entry(login_as, navy_entries):
    page = audit_page(login_as(Role.admin), "?action=entry.return")
    assert NOTE not in page and HIDDEN in details_of(page, "entry.return")[0]


def test_admin_sees_the_file_name_once_the_entry_is_approved(app, login_as, navy_entries):
    approve(app, navy_entries, "draft")
    page = audit_page(login_as(Role.admin), "?action=evidence.")
    assert FILE_NAME in details_of(page, "evidence.added")[0] and HIDDEN not in page


def test_admin_sees_the_note_once_the_entry_is_approved(app, login_as, navy_entries):
    approve(app, navy_entries, "returned")
    page = audit_page(login_as(Role.admin), "?action=entry.return")
    assert NOTE in details_of(page, "entry.return")[0]


def test_redaction_keeps_the_other_details(login_as, navy_entries):
    page = audit_page(login_as(Role.admin), "?action=evidence.added")
    assert '"sha256": "' in details_of(page, "evidence.added")[0]


def test_events_without_entry_content_are_shown_in_full(login_as, navy_entries):
    page = audit_page(login_as(Role.admin), "?action=entry.saved")
    assert details_of(page, "entry.saved") and all(f'"year": {YEAR}' in d and HIDDEN not in d for d in details_of(page, "entry.saved"))


def test_the_redaction_message_is_translated(app, login_as, navy_entries):
    page = html.unescape(login_as(Role.admin).get("/admin/audit?action=evidence.", headers={"Accept-Language": "es"}).get_data(as_text=True))
    assert translated(app, HIDDEN) in details_of(page, "evidence.added")[0]


@pytest.mark.parametrize("role, sees", [(Role.committee, True), (Role.admin, False), (Role.viewer, False)])
def test_details_follow_who_may_see_the_entry(app, make_user, navy_entries, role, sees):
    user_id, _ = make_user(role, email=f"{role.value}-2@example.org")
    with app.test_request_context():
        events = list(db.session.scalars(sa.select(AuditEvent).where(AuditEvent.action == "evidence.added")))
        shown = services.shown_details(db.session, db.session.get(User, user_id), events)
    assert (FILE_NAME in shown[events[0].id]) is sees


def test_details_of_a_page_take_one_query(app, navy_entries, make_user):
    admin_id, _ = make_user(Role.admin)
    with app.test_request_context():
        admin = db.session.get(User, admin_id)
        events = list(db.session.scalars(sa.select(AuditEvent)))
        with count_queries(db.engine) as statements:
            services.shown_details(db.session, admin, events)
    assert len(statements) == 1
