"""Scheduled reminders (issue 18): on each plan's days before each institution's own deadline (default 14, 7 and 1),
the institutions that have not submitted everything are reminded, each once, however often the timer runs."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
import sqlalchemy as sa

from conftest import logged_in, page_text
from tracker.audit import AuditEvent
from tracker.auth.models import Role, User
from tracker.db import db, utcnow
from tracker.plan import models as pm
from tracker.plan.services import plan_timezone
from tracker.progress import services
from tracker.progress.models import CycleState, Notification, ReportingCycle, ScheduledReminder

EN = {"Accept-Language": "en"}


@pytest.fixture
def cycle_in(app, make_user, peru):
    """open_cycle(days): this year's cycle of Peru's plan, its deadline that many days from today there."""
    _, email = make_user(Role.reporter, institution="MGP")

    def open_cycle(days: int) -> int:
        with app.app_context():
            plan = db.session.scalars(sa.select(pm.Plan).filter_by(code="PE-2021")).one()
            today = utcnow().astimezone(plan_timezone(plan)).date()
            cycle = ReportingCycle(plan_id=plan.id, year=today.year, deadline=today + timedelta(days=days), state=CycleState.open)
            db.session.add(cycle)
            db.session.commit()
            return cycle.id

    open_cycle.navy = email
    return open_cycle


def _reminded(app, email: str) -> int:
    with app.app_context():
        user = db.session.scalars(sa.select(User).filter_by(email=email)).one()
        return db.session.scalar(sa.select(sa.func.count()).select_from(Notification).filter_by(user_id=user.id, event="reminder"))


def test_a_reminder_goes_out_on_a_reminder_day_and_only_once(app, cycle_in, cli):
    cycle_id = cycle_in(7)
    first = cli("remind", "--scheduled")
    assert first.exit_code == 0, first.output
    assert _reminded(app, cycle_in.navy) == 1
    with app.app_context():
        navy = db.session.scalars(sa.select(pm.Institution).filter_by(code="MGP")).one()
        assert db.session.get(ScheduledReminder, (cycle_id, navy.id, 7)) is not None
    again = cli("remind", "--scheduled")
    assert "0 scheduled reminders queued" in again.output and _reminded(app, cycle_in.navy) == 1


def test_no_reminder_before_the_first_reminder_day(app, cycle_in, cli):
    cycle_in(20)
    assert "0 scheduled reminders queued" in cli("remind", "--scheduled").output
    assert _reminded(app, cycle_in.navy) == 0


def test_a_missed_reminder_day_is_caught_up_once(app, cycle_in, cli):
    cycle_id = cycle_in(5)  # the 7-day run did not happen (the cycle opened late, or the timer was down)
    cli("remind", "--scheduled")
    cli("remind", "--scheduled")
    assert _reminded(app, cycle_in.navy) == 1
    with app.app_context():
        assert [r.days_before for r in db.session.scalars(sa.select(ScheduledReminder).filter_by(cycle_id=cycle_id))
                if r.institution_id == db.session.scalars(sa.select(pm.Institution.id).filter_by(code="MGP")).one()] == [7]


def test_an_institution_s_own_deadline_decides_its_reminder_days(app, cycle_in, cli, make_user):
    cycle_id = cycle_in(5)
    _, committee = make_user(Role.committee)
    with app.app_context():
        cycle = db.session.get(ReportingCycle, cycle_id)
        navy = db.session.scalars(sa.select(pm.Institution).filter_by(code="MGP")).one()
        actor = db.session.scalars(sa.select(User).filter_by(email=committee)).one()
        services.extend_deadline(db.session, cycle, navy, cycle.deadline + timedelta(days=9), "Cambio de comando", actor)
        db.session.commit()
    cli("remind", "--scheduled")
    assert _reminded(app, cycle_in.navy) == 1  # 14 days before the Navy's extended deadline


def test_the_committee_sets_the_reminder_schedule_with_a_reason(app, cycle_in, cli, make_user):
    cycle_in(5)
    _, committee_email = make_user(Role.committee)
    committee = logged_in(app, committee_email)
    page = "/plans/PE-2021/reminder-schedule"
    assert "14, 7, 1" in page_text(committee.get(page, headers=EN))
    form = {"reminder_days": "30, x", "draft_idle_days": "400", "returned_idle_days": "7", "review_wait_days": "7",
            "reason": "Calendario del comité"}
    refused = committee.post_form(page, form, token_from=page, headers=EN)
    text = page_text(refused)
    assert refused.status_code == 400 and "Give whole numbers of days from 0 to 365" in text
    assert "Give a whole number of days from 0 to 365" in text and 'value="30, x"' in refused.get_data(as_text=True)
    assert committee.post_form(page, {**form, "reminder_days": "5, 30", "draft_idle_days": "0"}, token_from=page).status_code == 302
    with app.app_context():
        profile = db.session.scalars(sa.select(pm.PlanProfile)).one()
        assert (profile.reminder_days, profile.draft_idle_days) == ("30,5", 0)
        event = db.session.scalars(sa.select(AuditEvent).filter_by(action="plan.reminders_updated")).one()
        details = json.loads(event.details)
        assert details["reason"] == "Calendario del comité" and details["changes"]["reminder_days"] == ["14, 7, 1", "30, 5"]
    cli("remind", "--scheduled")
    assert _reminded(app, cycle_in.navy) == 1
    assert "30, 5" in page_text(committee.get("/plans/PE-2021/cycles", headers=EN))


def test_reporters_and_admins_cannot_change_the_reminder_schedule(app, cycle_in, make_user):
    cycle_in(5)
    for role in (Role.admin, Role.viewer):
        _, email = make_user(role)
        assert logged_in(app, email).get("/plans/PE-2021/reminder-schedule").status_code == 403
    assert logged_in(app, cycle_in.navy).get("/plans/PE-2021/reminder-schedule").status_code == 403


def test_remind_needs_a_year_or_scheduled(cli, peru):
    result = cli("remind")
    assert result.exit_code == 1 and "give --year YEAR, or --scheduled" in result.output
