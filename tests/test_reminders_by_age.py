"""Reminders by age of state (issue 18): an entry left too long as a draft, returned, waiting for its sign-off or
for the committee's decision is brought, once per version, to whoever must act on it, by the daily
`tracker remind --scheduled` and by the job on a real worker."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from conftest import YEAR_NOW, outbox_to, save_indicator_entry
from tracker import jobs
from tracker.auth.models import Role, User
from tracker.db import db, utcnow
from tracker.plan import models as pm
from tracker.progress import schedule, services
from tracker.progress.models import (Entry, EntryState, EntryVersion, Notification, ReportingCycle,
                                     StateReminder)
from tracker.review import steps


@pytest.fixture
def navy_entry(app, make_user, peru):
    """The Navy's IND-PAR-1 of this year, submitted; its reporter, a second Navy reporter who is the focal point,
    and a committee member."""
    _, navy = make_user(Role.reporter, institution="MGP")
    _, focal = make_user(Role.reporter, email="jefatura@example.org", institution="MGP")
    _, committee = make_user(Role.committee)
    with app.app_context():
        plan = db.session.scalars(sa.select(pm.Plan).filter_by(code="PE-2021")).one()
        db.session.add(ReportingCycle(plan_id=plan.id, year=YEAR_NOW, deadline=utcnow().date() + timedelta(days=90)))
        db.session.scalars(sa.select(User).filter_by(email=focal)).one().is_focal_point = True
        db.session.commit()
        entry = save_indicator_entry(db.session, navy, "IND-PAR-1", "MGP", 40, 100)
        db.session.commit()
        return {"id": entry.id, "navy": navy, "focal": focal, "committee": committee}


def _age(app, entry_id: int, days: int, state: EntryState | None = None) -> None:
    """Move the entry's clock back `days` days (and put it in `state`), as if nobody had touched it since."""
    with app.app_context():
        entry = db.session.get(Entry, entry_id)
        then = utcnow() - timedelta(days=days)
        entry.state = state or entry.state
        entry.updated_at = entry.submitted_at = entry.reviewed_at = then
        db.session.execute(sa.update(EntryVersion).where(EntryVersion.entry_id == entry_id).values(at=then))
        db.session.commit()


def _step(app, email: str, entry_id: int, name: str, note: str = "") -> None:
    with app.app_context():
        user = db.session.scalars(sa.select(User).filter_by(email=email)).one()
        steps.take_step(db.session, user, db.session.get(Entry, entry_id), name, note)
        db.session.commit()


def _told(app, email: str, event: str) -> int:
    with app.app_context():
        user = db.session.scalars(sa.select(User).filter_by(email=email)).one()
        return db.session.scalar(sa.select(sa.func.count()).select_from(Notification).filter_by(user_id=user.id, event=event))


def test_a_submission_waiting_too_long_is_brought_to_the_committee_once(app, navy_entry, cli):
    _age(app, navy_entry["id"], 6)
    assert "0 people reminded" in cli("remind", "--scheduled").output  # 7 days by default
    _age(app, navy_entry["id"], 8)
    result = cli("remind", "--scheduled")
    assert result.exit_code == 0 and "1 people reminded" in result.output, result.output
    assert _told(app, navy_entry["committee"], "stale_review") == 1
    (mail,) = [m for m in outbox_to(app, navy_entry["committee"]) if "wait" in m.subject or "espera" in m.subject]
    assert "IND-PAR-1" in mail.body and f"/entries/{navy_entry['id']}" in mail.body
    assert "0 people reminded" in cli("remind", "--scheduled").output
    assert _told(app, navy_entry["committee"], "stale_review") == 1


def test_a_returned_entry_goes_back_to_the_reporters_and_a_new_version_counts_again(app, navy_entry, cli):
    _step(app, navy_entry["committee"], navy_entry["id"], "return", "Falta la fuente")
    _age(app, navy_entry["id"], 8)
    cli("remind", "--scheduled")
    assert _told(app, navy_entry["navy"], "stale_returned") == 1 and _told(app, navy_entry["focal"], "stale_returned") == 1
    assert _told(app, navy_entry["committee"], "stale_returned") == 0
    with app.app_context():  # saved again: a new version, whose count starts again
        navy = db.session.scalars(sa.select(User).filter_by(email=navy_entry["navy"])).one()
        entry = db.session.get(Entry, navy_entry["id"])
        services.save_entry(db.session, navy, entry.cycle, entry.institution, entry.indicator,
                            services.IndicatorInput(women=41, men=100, narrative="Cursos"), expected_version=entry.version)
        db.session.commit()
    cli("remind", "--scheduled")
    assert _told(app, navy_entry["navy"], "stale_returned") == 1  # just saved: not yet
    _age(app, navy_entry["id"], 8)
    cli("remind", "--scheduled")
    assert _told(app, navy_entry["navy"], "stale_returned") == 2
    with app.app_context():
        assert [r.reason for r in db.session.scalars(sa.select(StateReminder))] == ["stale_returned"] * 2


def test_an_entry_waiting_for_its_sign_off_goes_to_the_other_focal_points(app, navy_entry, cli):
    _age(app, navy_entry["id"], 8, EntryState.awaiting_signoff)
    cli("remind", "--scheduled")
    assert _told(app, navy_entry["focal"], "stale_signoff") == 1
    assert _told(app, navy_entry["navy"], "stale_signoff") == 0 and _told(app, navy_entry["committee"], "stale_signoff") == 0


def test_zero_days_turns_a_reminder_off_and_approved_entries_are_never_reminded(app, navy_entry, cli):
    with app.app_context():
        plan = db.session.scalars(sa.select(pm.Plan).filter_by(code="PE-2021")).one()
        committee = db.session.scalars(sa.select(User).filter_by(email=navy_entry["committee"])).one()
        schedule.save_settings(db.session, plan, "14, 7, 1", {"draft_idle_days": 14, "returned_idle_days": 7,
                                                             "review_wait_days": 0}, "Sin recordatorios", committee)
        db.session.commit()
    _age(app, navy_entry["id"], 30)
    cli("remind", "--scheduled")
    assert _told(app, navy_entry["committee"], "stale_review") == 0
    _step(app, navy_entry["committee"], navy_entry["id"], "approve")
    _age(app, navy_entry["id"], 400)
    assert "0 people reminded" in cli("remind", "--scheduled").output


def test_the_reminders_job_runs_on_a_real_worker(app, navy_entry, queue):
    _age(app, navy_entry["id"], 8)
    with app.app_context():
        jobs.enqueue("scheduled_reminders")
        assert _told(app, navy_entry["committee"], "stale_review") == 0  # on the queue, not run here
        jobs.work(burst=True)
    assert _told(app, navy_entry["committee"], "stale_review") == 1
    assert all(m.sent_at is not None for m in outbox_to(app, navy_entry["committee"]))  # delivered by the worker too


def test_an_entry_returned_today_is_not_late_however_long_it_waited_for_review(app, navy_entry, cli):
    _age(app, navy_entry["id"], 20)  # submitted 20 days ago
    _step(app, navy_entry["committee"], navy_entry["id"], "return", "Falta la fuente")  # returned today
    cli("remind", "--scheduled")
    assert _told(app, navy_entry["navy"], "stale_returned") == 0
