"""Deadlines are the end of the deadline day in the plan's country, and timestamps are stored aware (UTC).

Two countries live side by side: Peru (America/Lima, UTC-5 all year) from the seed file, and the tests'
Chilean plan, tests/plans/chile-2022.yaml (America/Santiago, UTC-3 in the southern summer). Submissions go
through the real service with its clock set to a chosen moment, are stored, and are read back by the
dashboard's completeness table.
"""

from __future__ import annotations

from datetime import date, datetime, timezone
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa

from conftest import Client

from tracker.auth.models import Role, User
from tracker.dashboard import services as dashboard
from tracker.db import db
from tracker.plan import models as pm
from tracker.plan.services import get_plan, use_plan
from tracker.progress import notifications
from tracker.progress import services
from tracker.progress.models import ActionStatus, Entry, OutboxMessage
from tracker.review import steps

YEAR, DEADLINE = 2026, date(2026, 12, 31)
LIMA, SANTIAGO = ZoneInfo("America/Lima"), ZoneInfo("America/Santiago")

# plan code -> (its zone, the reporting institution, the action it reports on)
PLANS = {"PE-2021": (LIMA, "MGP", "PAR-1"), "CL-2022": (SANTIAGO, "MININTER", "PRE-1")}


def local(zone: ZoneInfo, *parts: int) -> datetime:
    return datetime(*parts, tzinfo=zone)


@pytest.fixture
def cycles(app, chile, make_user):
    """A 2026 cycle due on 31 December in each plan, opened by the plan's own reviewer."""
    for code in PLANS:
        reviewer_id, _ = make_user(Role.committee, email=f"reviewer-{code.lower()}@example.org", institution=None, plans=(code,))
        with app.test_request_context():
            services.open_cycle(db.session, get_plan(db.session, code), YEAR, DEADLINE, db.session.get(User, reviewer_id))
            db.session.commit()


def _reporter(make_user, plan_code: str) -> int:
    country = plan_code[:2]
    user_id, _ = make_user(Role.reporter, email=f"reporter-{country.lower()}@example.org", institution=f"{country}:{PLANS[plan_code][1]}")
    return user_id


def _submit_at(app, monkeypatch, plan_code: str, reporter_id: int, moment: datetime) -> None:
    """The reporter saves and submits the plan's action, the service's clock reading `moment`."""
    monkeypatch.setattr(services, "utcnow", lambda: moment.astimezone(timezone.utc))
    monkeypatch.setattr(steps, "utcnow", lambda: moment.astimezone(timezone.utc))  # the submission's stamp
    with app.test_request_context():
        plan = get_plan(db.session, plan_code)
        user = db.session.get(User, reporter_id)
        action = db.session.scalars(sa.select(pm.Action).filter_by(plan_id=plan.id, code=PLANS[plan_code][2])).one()
        services.save_entry(db.session, user, services.get_cycle(db.session, plan, YEAR), user.institution, action,
                            services.ActionInput(action_status=ActionStatus.completed), submit=True)
        db.session.commit()


def _completeness(app, plan_code: str):
    with app.test_request_context():
        d = dashboard.build_dashboard(db.session, get_plan(db.session, plan_code), YEAR)
        return next(r.completeness for r in d.institutions if r.institution.code == PLANS[plan_code][1])


@pytest.mark.parametrize("plan_code, moment, on_time", [
    ("CL-2022", local(SANTIAGO, 2026, 12, 31, 23, 59, 59), 1),  # last second of the day in Santiago
    ("CL-2022", local(SANTIAGO, 2027, 1, 1, 0, 0, 1), 0),  # first second of the next day there
    ("CL-2022", local(SANTIAGO, 2026, 12, 31, 22, 30), 1),  # 01:30 UTC on 1 January: still 31 December in Chile
    ("PE-2021", local(LIMA, 2026, 12, 31, 23, 59, 59), 1),
    ("PE-2021", local(LIMA, 2027, 1, 1, 0, 0, 1), 0),
    ("PE-2021", local(LIMA, 2026, 12, 31, 19, 30), 1),  # after 19:00 in Lima it is already 1 January in UTC
    ("PE-2021", local(SANTIAGO, 2027, 1, 1, 1, 30), 1),  # 1 January in Santiago is still 31 December in Lima
])
def test_submission_is_on_time_until_the_deadline_day_ends_in_the_plan_country(app, cycles, make_user, monkeypatch,
                                                                               plan_code, moment, on_time):
    _submit_at(app, monkeypatch, plan_code, _reporter(make_user, plan_code), moment)
    row = _completeness(app, plan_code)
    assert (row.submitted, row.on_time) == (1, on_time)


def test_the_deadline_moment_is_the_next_local_midnight(app, cycles):
    with app.app_context():
        moments = {code: services.deadline_moment(services.get_cycle(db.session, get_plan(db.session, code), YEAR))
                   for code in PLANS}
    assert moments == {"PE-2021": datetime(2027, 1, 1, 5, tzinfo=timezone.utc),
                       "CL-2022": datetime(2027, 1, 1, 3, tzinfo=timezone.utc)}


def test_a_stored_timestamp_reads_back_aware_in_utc(app, cycles, make_user, monkeypatch):
    moment = local(SANTIAGO, 2026, 12, 31, 23, 59, 59)
    _submit_at(app, monkeypatch, "CL-2022", _reporter(make_user, "CL-2022"), moment)
    with app.app_context():  # a new session: the values come from the database, not the identity map
        if db.engine.dialect.name == "postgresql":  # PostgreSQL answers in the connection's zone: make it not UTC
            db.session.execute(sa.text("SET LOCAL TIME ZONE 'Asia/Tokyo'"))
        entry = db.session.scalars(sa.select(Entry)).one()
        stored = [entry.submitted_at, entry.updated_at, entry.created_at]
        latest = db.session.scalar(sa.select(sa.func.max(Entry.submitted_at)))
    assert all(s.tzinfo is timezone.utc for s in [*stored, latest])
    assert entry.submitted_at == moment and entry.submitted_at.hour == 2  # 23:59:59 at UTC-3


def test_timestamps_compare_as_moments_in_queries(app, cycles, make_user, monkeypatch):
    _submit_at(app, monkeypatch, "CL-2022", _reporter(make_user, "CL-2022"), local(SANTIAGO, 2026, 12, 31, 23, 0))
    just_before = local(LIMA, 2026, 12, 31, 20, 59)  # 01:59 UTC, one minute before the submission
    with app.app_context():
        later = db.session.scalar(sa.select(sa.func.count()).select_from(Entry).where(Entry.submitted_at > just_before))
        earlier = db.session.scalar(sa.select(sa.func.count()).select_from(Entry).where(Entry.submitted_at < just_before))
    assert (later, earlier) == (1, 0)


def test_a_naive_timestamp_is_refused(app, cycles, make_user, monkeypatch):
    _submit_at(app, monkeypatch, "CL-2022", _reporter(make_user, "CL-2022"), local(SANTIAGO, 2026, 12, 1, 12, 0))
    with app.app_context():
        entry = db.session.scalars(sa.select(Entry)).one()
        entry.submitted_at = datetime(2026, 12, 31, 23, 0)  # which zone? nobody knows
        with pytest.raises(sa.exc.StatementError, match="naive datetime"):
            db.session.flush()
        db.session.rollback()
        assert db.session.scalars(sa.select(Entry)).one().submitted_at == local(SANTIAGO, 2026, 12, 1, 12, 0)


@pytest.mark.parametrize("now, left", [
    (datetime(2027, 1, 1, 2, 30, tzinfo=timezone.utc), {"PE-2021": 0, "CL-2022": 0}),  # 21:30 in Lima, 23:30 in Santiago
    (datetime(2027, 1, 1, 4, 30, tzinfo=timezone.utc), {"PE-2021": 0, "CL-2022": -1}),  # 23:30 in Lima, 01:30 in Santiago
    (datetime(2027, 1, 1, 5, 30, tzinfo=timezone.utc), {"PE-2021": -1, "CL-2022": -1}),
    (datetime(2026, 12, 30, 4, 0, tzinfo=timezone.utc), {"PE-2021": 2, "CL-2022": 1}),  # 29 Dec in Lima, 30 Dec in Santiago
])
def test_days_left_count_from_today_in_the_plan_country(app, cycles, now, left):
    with app.app_context():
        found = {code: services.days_left(services.get_cycle(db.session, get_plan(db.session, code), YEAR), now) for code in PLANS}
    assert found == left


def test_a_reminder_counts_the_days_in_the_plan_country(app, cycles, make_user):
    reporter_id = _reporter(make_user, "CL-2022")
    with app.app_context():
        db.session.get(User, reporter_id).language = "en"
        cycle = services.get_cycle(db.session, get_plan(db.session, "CL-2022"), YEAR)
        # 23:30 on deadline day in Lima, but already 1 January in Santiago: Chile's reporters are late.
        assert notifications.remind_missing(db.session, cycle, now=datetime(2027, 1, 1, 4, 30, tzinfo=timezone.utc)) == 1
        db.session.commit()
        body = db.session.scalars(sa.select(OutboxMessage)).one().body
    assert "1 day late." in body and "PRE-1" in body


@pytest.mark.parametrize("plan_code, shown", [("CL-2022", "23:30"), ("PE-2021", "21:30"), (None, "21:30")])
def test_times_are_shown_in_the_plan_country(app, chile, plan_code, shown):
    """The request's plan sets the display zone; without a plan, the instance's default (Lima)."""
    from flask_babel import format_datetime

    with app.test_request_context():
        if plan_code:
            use_plan(get_plan(db.session, plan_code))
        assert format_datetime(datetime(2027, 1, 1, 2, 30, tzinfo=timezone.utc), "HH:mm") == shown


def test_a_cycle_page_shows_days_left_in_the_plan_country(app, cycles, make_user, monkeypatch):
    """The worklist's badge uses the same count: 1 January 01:30 in Santiago is a day late there."""
    monkeypatch.setattr(services, "utcnow", lambda: datetime(2027, 1, 1, 4, 30, tzinfo=timezone.utc))
    _, email = make_user(Role.reporter, email="reporter-cl@example.org", institution="CL:MININTER")
    c = Client(app.test_client())
    assert c.login(email).status_code == 302
    page = c.get(f"/plans/CL-2022/report/{YEAR}", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "1 day late" in page
