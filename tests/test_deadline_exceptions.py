"""Deadlines that move (issue 15): a cycle reopened with a new deadline, and one institution given more time.

An institution's exception is its deadline everywhere: its worklist and home page, the days left in its
reminders, and "on time" in the dashboard's completeness table. Only the plan's committee grants or removes
one; the other country's committee is told the cycle does not exist, reporters are refused.
"""

from __future__ import annotations

import html
import json
import re
from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa

from conftest import Client, count_queries
from tracker.audit import AuditEvent
from tracker.auth.models import Role, User
from tracker.dashboard import services as dashboard
from tracker.db import db
from tracker.plan import models as pm
from tracker.plan.services import get_plan
from tracker.progress import notifications, services
from tracker.progress.models import ActionStatus, CycleState, DeadlineException, OutboxMessage, ReportingCycle
from tracker.review import steps

YEAR = 2025
LIMA = ZoneInfo("America/Lima")
CYCLES = "/plans/PE-2021/cycles"
WORKLIST = f"/plans/PE-2021/report/{YEAR}"
EN = {"Accept-Language": "en"}


def _lima_today() -> date:
    return datetime.now(LIMA).date()


@pytest.fixture
def cycle(app, peru) -> int:
    """Peru's 2025 cycle, open, due in 40 days (in Lima)."""
    with app.app_context():
        plan = get_plan(db.session, "PE-2021")
        row = ReportingCycle(plan_id=plan.id, year=YEAR, deadline=_lima_today() + timedelta(days=40), state=CycleState.open)
        db.session.add(row)
        db.session.commit()
        return row.id


@pytest.fixture
def committee(login_as, cycle) -> Client:
    return login_as(Role.committee)


def _cycle(app, cycle_id: int) -> ReportingCycle:
    with app.app_context():
        row = db.session.get(ReportingCycle, cycle_id)
        db.session.expunge(row)
        return row


def _institution_id(app, code: str) -> int:
    with app.app_context():
        return db.session.scalars(
            sa.select(pm.Institution.id).join(pm.Country).where(pm.Country.iso_code == "PE", pm.Institution.code == code)
        ).one()


def _exceptions(app, cycle_id: int) -> dict[str, tuple[date, str]]:
    with app.app_context():
        rows = db.session.scalars(sa.select(DeadlineException).filter_by(cycle_id=cycle_id)).all()
        return {e.institution.code: (e.deadline, e.reason) for e in rows}


def _events(app, action: str) -> list[dict]:
    with app.app_context():
        rows = db.session.scalars(sa.select(AuditEvent).filter_by(action=action).order_by(AuditEvent.id)).all()
        return [json.loads(e.details) for e in rows]


def _extend(client: Client, cycle_id: int, institution: str, deadline: date | str, reason: str = "Cambio de gestión"):
    data = {"institution": institution, "deadline": str(deadline), "reason": reason}
    return client.post_form(f"/cycles/{cycle_id}/deadline-exceptions", data, token_from=CYCLES)


def _remove(client: Client, cycle_id: int, institution_id: int, reason: str = "Entregó a tiempo"):
    return client.post_form(f"/cycles/{cycle_id}/deadline-exceptions/{institution_id}/remove", {"reason": reason},
                            token_from=CYCLES)


def _close(app, cycle_id: int) -> None:
    with app.app_context():
        db.session.get(ReportingCycle, cycle_id).state = CycleState.closed
        db.session.commit()


def _page(client: Client, url: str) -> str:
    response = client.get(url, headers=EN)
    assert response.status_code == 200
    return html.unescape(response.get_data(as_text=True))


# -- reopening with a new deadline ------------------------------------------------------------------


def test_reopen_with_a_new_deadline_stores_and_audits_it(app, committee, cycle):
    old = _cycle(app, cycle).deadline
    _close(app, cycle)
    response = committee.post_form(f"/cycles/{cycle}/reopen", {"reason": "Prórroga general", "deadline": f"{YEAR + 1}-03-31"},
                                   token_from=CYCLES)
    assert response.status_code == 302
    reopened = _cycle(app, cycle)
    assert (reopened.state, reopened.deadline, reopened.reopen_reason) == (CycleState.open, date(YEAR + 1, 3, 31), "Prórroga general")
    event = _events(app, "cycle.reopened")[-1]
    assert event["deadline"] == [old.isoformat(), f"{YEAR + 1}-03-31"] and event["reason"] == "Prórroga general"


def test_reopen_without_a_new_deadline_keeps_the_old_one(app, committee, cycle):
    old = _cycle(app, cycle).deadline
    _close(app, cycle)
    committee.post_form(f"/cycles/{cycle}/reopen", {"reason": "Se reabre", "deadline": ""}, token_from=CYCLES)
    assert (_cycle(app, cycle).state, _cycle(app, cycle).deadline) == (CycleState.open, old)


def _reopen_refused(app, committee, cycle, deadline: str):
    old = _cycle(app, cycle).deadline
    _close(app, cycle)
    response = committee.post_form(f"/cycles/{cycle}/reopen", {"reason": "Prórroga", "deadline": deadline},
                                   token_from=CYCLES, headers=EN)
    refused = _cycle(app, cycle)
    assert (refused.state, refused.deadline) == (CycleState.closed, old)
    assert _events(app, "cycle.reopened") == []
    return response


def test_reopen_refuses_a_deadline_before_the_year_and_keeps_what_was_typed(app, committee, cycle):
    response = _reopen_refused(app, committee, cycle, f"{YEAR - 1}-12-31")
    assert response.status_code == 400
    page = html.unescape(response.get_data(as_text=True))
    assert "The deadline cannot be before the reporting year." in page
    assert "Prórroga</textarea>" in page and f'value="{YEAR - 1}-12-31"' in page


def test_reopen_refuses_a_malformed_deadline_with_a_message(app, committee, cycle):
    response = _reopen_refused(app, committee, cycle, "31/02/2026")
    assert response.status_code == 302
    assert "Not a valid date value." in _page(committee, CYCLES)  # the flash, on the page the committee is sent back to


# -- one institution's exception -------------------------------------------------------------------


def test_extension_is_stored_audited_and_listed(app, committee, cycle):
    deadline = _cycle(app, cycle).deadline
    response = _extend(committee, cycle, "MGP", deadline + timedelta(days=30), "Cambio de comandancia")
    assert response.status_code == 302
    assert _exceptions(app, cycle) == {"MGP": (deadline + timedelta(days=30), "Cambio de comandancia")}
    event = _events(app, "cycle.deadline_extended")[-1]
    assert event["institution"] == "MGP"
    assert event["deadline"] == [deadline.isoformat(), (deadline + timedelta(days=30)).isoformat()]
    page = _page(committee, CYCLES)
    row = re.search(r'<tr class="deadline-exception">(.*?)</tr>', page, re.S).group(1)
    assert "MGP" in row and "Cambio de comandancia" in row and "committee-cig-mindef" in row  # who: the member's name


def test_granting_again_replaces_the_exception(app, committee, cycle):
    deadline = _cycle(app, cycle).deadline
    _extend(committee, cycle, "MGP", deadline + timedelta(days=10), "Primera prórroga")
    _extend(committee, cycle, "MGP", deadline + timedelta(days=20), "Segunda prórroga")
    assert _exceptions(app, cycle) == {"MGP": (deadline + timedelta(days=20), "Segunda prórroga")}
    event = _events(app, "cycle.deadline_extended")[-1]
    assert event["deadline"] == [(deadline + timedelta(days=10)).isoformat(), (deadline + timedelta(days=20)).isoformat()]


@pytest.mark.parametrize("institution, days, reason, field_error", [
    ("MGP", 0, "Motivo", "The new deadline must be after the cycle's deadline"),
    ("MGP", -5, "Motivo", "The new deadline must be after the cycle's deadline"),
    ("MGP", 10, "  ", "Say why the institution gets more time."),
    ("", 10, "Motivo", "Choose an institution."),
    ("MININTER", 10, "Motivo", "Not a valid choice."),  # an institution that reports on nothing in the plan
    ("MGP", None, "Motivo", "Not a valid date value."),
])
def test_extension_refusals_come_back_on_the_form(app, committee, cycle, institution, days, reason, field_error):
    deadline = _cycle(app, cycle).deadline
    when = "no es una fecha" if days is None else deadline + timedelta(days=days)
    response = committee.post_form(f"/cycles/{cycle}/deadline-exceptions",
                                   {"institution": institution, "deadline": str(when), "reason": reason},
                                   token_from=CYCLES, headers=EN)
    assert response.status_code == 400
    page = html.unescape(response.get_data(as_text=True))
    assert field_error in page and "is-invalid" in page
    assert _exceptions(app, cycle) == {}


def test_extension_shows_on_that_institutions_worklist_only(app, committee, cycle, login_as):
    deadline = _cycle(app, cycle).deadline
    _extend(committee, cycle, "MGP", deadline + timedelta(days=30), "Cambio de comandancia")
    navy = login_as(Role.reporter, institution="MGP")
    army = login_as(Role.reporter, email="army@example.org", institution="EP")
    mine = _page(navy, WORKLIST)
    assert "Your institution's deadline:" in mine and "(extended: Cambio de comandancia)" in mine
    assert "70 days left" in mine  # counted to its own deadline, not the cycle's (40 days)
    theirs = _page(army, WORKLIST)
    assert "institution's deadline" not in theirs and "Cambio de comandancia" not in theirs
    assert "40 days left" in theirs
    home = _page(navy, "/home")
    assert "Your institution's deadline:" in home and "70 days left" in home
    assert "40 days left" in _page(army, "/home")


def test_the_committee_sees_the_institutions_deadline_on_its_worklist(app, committee, cycle):
    _extend(committee, cycle, "MGP", _cycle(app, cycle).deadline + timedelta(days=30), "Cambio de comandancia")
    page = _page(committee, f"{WORKLIST}?institution=MGP")
    assert "This institution's deadline:" in page and "70 days left" in page


def test_removal_needs_a_reason_and_restores_the_cycles_deadline(app, committee, cycle, login_as):
    _extend(committee, cycle, "MGP", _cycle(app, cycle).deadline + timedelta(days=30))
    mgp = _institution_id(app, "MGP")
    assert _remove(committee, cycle, mgp, reason="").status_code == 302
    assert "MGP" in _exceptions(app, cycle)
    assert _remove(committee, cycle, mgp, reason="Ya entregó").status_code == 302
    assert _exceptions(app, cycle) == {}
    event = _events(app, "cycle.deadline_exception_removed")[-1]
    assert (event["institution"], event["reason"]) == ("MGP", "Ya entregó")
    page = _page(login_as(Role.reporter, institution="MGP"), WORKLIST)
    assert "institution's deadline" not in page and "40 days left" in page


def test_removing_an_exception_that_does_not_exist_says_so(app, committee, cycle):
    response = _remove(committee, cycle, _institution_id(app, "MGP"))
    assert response.status_code == 302
    assert "Esta institución no tiene excepción de plazo en este ciclo." in _page(committee, CYCLES)  # told when removing (in Spanish)
    assert _events(app, "cycle.deadline_exception_removed") == []


def test_a_cycle_reopened_past_an_exception_is_not_shortened_by_it(app, committee, cycle):
    """An exception gives more time, never less: a later deadline for everyone overtakes it."""
    deadline = _cycle(app, cycle).deadline
    _extend(committee, cycle, "MGP", deadline + timedelta(days=5))
    _close(app, cycle)
    committee.post_form(f"/cycles/{cycle}/reopen", {"reason": "Prórroga general", "deadline": str(deadline + timedelta(days=60))},
                        token_from=CYCLES)
    mgp = _institution_id(app, "MGP")
    with app.app_context():
        row = db.session.get(ReportingCycle, cycle)
        assert services.institution_deadline(row, mgp) == deadline + timedelta(days=60)


# -- who may --------------------------------------------------------------------------------------


def test_another_plans_committee_is_told_the_cycle_does_not_exist(app, committee, cycle, chile, make_user):
    deadline = _cycle(app, cycle).deadline
    _extend(committee, cycle, "MGP", deadline + timedelta(days=30), "Cambio de comandancia")
    _, email = make_user(Role.committee, email="committee-of-chile@example.org", institution=None, plans=("CL-2022",))
    chilean = Client(app.test_client())
    chilean.login(email)
    token = chilean.csrf_token("/account/password")
    posts = {
        f"/cycles/{cycle}/deadline-exceptions": {"institution": "MGP", "deadline": str(deadline + timedelta(days=90)), "reason": "x"},
        f"/cycles/{cycle}/deadline-exceptions/{_institution_id(app, 'MGP')}/remove": {"reason": "x"},
        f"/cycles/{cycle}/reopen": {"reason": "x", "deadline": f"{YEAR + 2}-01-31"},
    }
    for url, data in posts.items():
        assert chilean.post(url, data={"csrf_token": token, **data}).status_code == 404, url
    assert chilean.get(CYCLES).status_code == 404
    assert _exceptions(app, cycle) == {"MGP": (deadline + timedelta(days=30), "Cambio de comandancia")}
    assert _cycle(app, cycle).deadline == deadline


def test_reporters_may_not_grant_or_remove(app, committee, cycle, login_as):
    deadline = _cycle(app, cycle).deadline
    _extend(committee, cycle, "MGP", deadline + timedelta(days=30), "Cambio de comandancia")
    navy = login_as(Role.reporter, institution="MGP")
    assert navy.post_form(f"/cycles/{cycle}/deadline-exceptions",
                          {"institution": "MGP", "deadline": str(deadline + timedelta(days=90)), "reason": "x"},
                          token_from=WORKLIST).status_code == 403
    assert navy.post_form(f"/cycles/{cycle}/deadline-exceptions/{_institution_id(app, 'MGP')}/remove", {"reason": "x"},
                          token_from=WORKLIST).status_code == 403
    assert _exceptions(app, cycle) == {"MGP": (deadline + timedelta(days=30), "Cambio de comandancia")}
    page = _page(navy, CYCLES)  # reporters see the calendar and its exceptions, without the forms
    assert "Cambio de comandancia" in page and "deadline-exceptions" not in page


# -- the institution's deadline counts everywhere -----------------------------------------------------


def _submit_at(app, monkeypatch, reporter_id: int, moment: datetime) -> None:
    """The reporter submits action PAR-1 of Peru's 2026 cycle, the service's clock reading `moment`."""
    monkeypatch.setattr(services, "utcnow", lambda: moment.astimezone(timezone.utc))
    monkeypatch.setattr(steps, "utcnow", lambda: moment.astimezone(timezone.utc))  # the submission's stamp
    with app.test_request_context():
        plan = get_plan(db.session, "PE-2021")
        user = db.session.get(User, reporter_id)
        action = db.session.scalars(sa.select(pm.Action).filter_by(plan_id=plan.id, code="PAR-1")).one()
        services.save_entry(db.session, user, services.get_cycle(db.session, plan, 2026), user.institution, action,
                            services.ActionInput(action_status=ActionStatus.completed), submit=True)
        db.session.commit()


def test_late_for_the_cycle_but_on_time_for_the_institution(app, peru, make_user, login_as, monkeypatch):
    """MGP was given until 31 January: its submission of 15 January is on time; the Army's is late."""
    committee = login_as(Role.committee)
    committee.post_form(CYCLES, {"year": "2026", "deadline": "2026-12-31"})
    with app.app_context():
        cycle_id = services.get_cycle(db.session, get_plan(db.session, "PE-2021"), 2026).id
    assert _extend(committee, cycle_id, "MGP", "2027-01-31", "Cambio de comandancia").status_code == 302
    navy, _ = make_user(Role.reporter, email="navy@example.org", institution="MGP")
    army, _ = make_user(Role.reporter, email="army@example.org", institution="EP")
    for reporter in (navy, army):
        _submit_at(app, monkeypatch, reporter, datetime(2027, 1, 15, 12, tzinfo=LIMA))
    monkeypatch.undo()
    with app.test_request_context():
        d = dashboard.build_dashboard(db.session, get_plan(db.session, "PE-2021"), 2026)
        rows = {r.institution.code: r for r in d.institutions}
    assert (rows["MGP"].completeness.submitted, rows["MGP"].completeness.on_time) == (1, 1)
    assert (rows["EP"].completeness.submitted, rows["EP"].completeness.on_time) == (1, 0)
    assert (rows["MGP"].extended_to, rows["EP"].extended_to) == (date(2027, 1, 31), None)
    page = committee.get("/dashboard?plan=PE-2021&year=2026", headers=EN).get_data(as_text=True)
    cells = {code: re.findall(r'<td class="text-end">(\d+)', row)
             for code, row in re.findall(r'<tr[^>]*>\s*<th scope="row"><a [^>]*>(\w+)</a>(.*?)</tr>', page, re.S)}
    assert cells["MGP"][3] == "1" and cells["EP"][3] == "0"  # the "On time" column


def test_the_exception_ends_at_the_end_of_its_day_in_the_plans_country(app, committee, cycle):
    deadline = _cycle(app, cycle).deadline
    _extend(committee, cycle, "MGP", deadline + timedelta(days=30))
    mgp, army = _institution_id(app, "MGP"), _institution_id(app, "EP")
    with app.app_context():
        row = db.session.get(ReportingCycle, cycle)
        end = datetime.combine(deadline + timedelta(days=31), datetime.min.time(), tzinfo=LIMA)
        assert services.deadline_moment(row, mgp) == end.astimezone(timezone.utc)
        assert services.deadline_moment(row, army) == services.deadline_moment(row)


def test_reminders_count_days_to_each_institutions_deadline(app, committee, cycle, make_user):
    _extend(committee, cycle, "MGP", _cycle(app, cycle).deadline + timedelta(days=30))
    make_user(Role.reporter, email="navy@example.org", institution="MGP")
    make_user(Role.reporter, email="army@example.org", institution="EP")
    with app.test_request_context():
        notifications.remind_missing(db.session, db.session.get(ReportingCycle, cycle))
        db.session.commit()
        bodies = {m.to_email: m.body for m in db.session.scalars(sa.select(OutboxMessage))}
    assert re.search(r"\b70\b", bodies["navy@example.org"]) and not re.search(r"\b40\b", bodies["navy@example.org"])
    assert re.search(r"\b40\b", bodies["army@example.org"]) and not re.search(r"\b70\b", bodies["army@example.org"])


def test_dashboard_queries_do_not_grow_with_exceptions(app, committee, cycle):
    def queries() -> int:
        with app.test_request_context():
            plan = get_plan(db.session, "PE-2021")
            db.session.expire_all()
            with count_queries(db.engine) as statements:
                dashboard.build_dashboard(db.session, plan, YEAR)
            return len(statements)

    before = queries()
    deadline = _cycle(app, cycle).deadline
    for code in ("MGP", "EP", "FAP"):
        assert _extend(committee, cycle, code, deadline + timedelta(days=10)).status_code == 302
    assert queries() == before
