"""Issue 15: reminders sent from the cycles page (previewed first), the committee told of submissions (in the
app at once, by e-mail in a daily digest), and the menu's cycles link and review-queue badge."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from conftest import Client, count_queries
from test_progress import YEAR, _entry, _lima_today, _save, committee, cycle, navy  # noqa: F401
from tracker.auth.models import Role, User
from tracker.db import db
from tracker.plan import models as pm
from tracker.progress import notifications, services
from tracker.progress.models import ActionStatus, CycleState, Entry, EntryKind, EntryState, Notification, OutboxMessage, ReportingCycle

URL = f"/plans/PE-2021/cycles/{YEAR}/reminders"
FORM = f"http://localhost/plans/PE-2021/report/{YEAR}"


def _set_language(app, email: str, language: str) -> None:
    with app.app_context():
        db.session.scalars(sa.select(User).filter_by(email=email)).one().language = language
        db.session.commit()


def _reporter(login_as, app, email: str, institution: str, language: str = "en") -> Client:
    client = login_as(Role.reporter, email=email, institution=institution)
    _set_language(app, email, language)
    return client


def _reminders(app) -> list[Notification]:
    with app.app_context():
        return db.session.scalars(sa.select(Notification).filter_by(event="reminder").order_by(Notification.user_id)).all()


def _mails(app) -> dict[str, OutboxMessage]:
    with app.app_context():
        return {m.to_email: m for m in db.session.scalars(sa.select(OutboxMessage).order_by(OutboxMessage.id))}  # the latest


def _mail_count(app) -> int:
    with app.app_context():
        return db.session.scalar(sa.select(sa.func.count()).select_from(OutboxMessage))


def _user_ids(app, *emails: str) -> set[int]:
    with app.app_context():
        return set(db.session.scalars(sa.select(User.id).where(User.email.in_(emails))))


def _indicator_name(app, code: str, language: str = "en") -> str:
    with app.app_context():
        return getattr(db.session.scalars(sa.select(pm.Indicator).filter_by(code=code)).first(), f"name_{language}")


def _submit_everything(app, institution_code: str) -> None:
    """Every item the institution reports on, and its budget item, submitted (written directly: the states matter)."""
    with app.app_context():
        plan = db.session.scalars(sa.select(pm.Plan).filter_by(code="PE-2021")).one()
        cycle_row = services.get_cycle(db.session, plan, YEAR)
        institution = db.session.scalars(sa.select(pm.Institution).filter_by(code=institution_code, country_id=plan.country_id)).one()
        indicators, actions = services.assigned_items(db.session, plan.id, institution.id)
        common = {"cycle_id": cycle_row.id, "institution_id": institution.id, "state": EntryState.submitted}
        db.session.add_all([Entry(kind=EntryKind.indicator, indicator_id=i.id, **common) for i in indicators])
        db.session.add_all([Entry(kind=EntryKind.action, action_id=a.id, action_status=ActionStatus.in_progress, **common)
                            for a in actions])
        db.session.add(Entry(kind=EntryKind.budget, **common))
        db.session.commit()


# -- the preview ----------------------------------------------------------------------------------


def test_preview_shows_recipients_and_the_missing_items_by_name_with_links(app, navy, committee, login_as):
    _reporter(login_as, app, "colleague@example.org", "MGP")
    _save(navy, "IND-PAR-2", {"women": "5", "men": "20"}, send=True)
    response = committee.get(URL, headers={"Accept-Language": "en"})
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "reporter-mgp@example.org" in page and "colleague@example.org" in page
    assert "IND-PAR-1" in page and _indicator_name(app, "IND-PAR-1") in page  # the English reader's message
    assert f'href="{FORM}/indicators/IND-PAR-1"' in page and f'href="{FORM}/actions/PAR-1"' in page
    assert f"{FORM}/indicators/IND-PAR-2" not in page  # submitted: not missing
    # Peru's clause names no institution: it binds every implementing one, and the Navy has no budget item yet.
    assert f"Budget item for {YEAR}" in page and f'href="http://localhost/plans/PE-2021/budget/{YEAR}"' in page
    assert _reminders(app) == [] and _mails(app) == {}  # a preview sends nothing


def test_preview_message_is_in_each_recipients_language(app, navy, committee, login_as):
    _reporter(login_as, app, "colleague@example.org", "MGP", language="en")
    page = committee.get(URL, headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert _indicator_name(app, "IND-PAR-1", "es") in page  # the Navy's reporter reads Spanish (the default)
    assert _indicator_name(app, "IND-PAR-1", "en") in page
    assert "Recordatorio:" in page and "Reminder:" in page


def test_no_budget_line_for_an_institution_the_clause_does_not_bind(app, chile, make_user):
    """Chile's clause binds MINDEF and MMEG: MININTER reports items but owes no budget item."""
    make_user(Role.reporter, email="mininter@example.org", institution="CL:MININTER")
    _set_language(app, "mininter@example.org", "en")
    make_user(Role.reporter, email="mindef@example.org", institution="CL:MINDEF")
    _set_language(app, "mindef@example.org", "en")
    with app.test_request_context():
        plan = db.session.scalars(sa.select(pm.Plan).filter_by(code="CL-2022")).one()
        row = ReportingCycle(plan_id=plan.id, year=YEAR, deadline=_lima_today() + timedelta(days=9), state=CycleState.open)
        db.session.add(row)
        db.session.flush()
        by_code = {r.institution.code: r for r in notifications.plan_reminders(db.session, row)}
        db.session.rollback()
    assert not by_code["MININTER"].owes_budget and "Budget item" not in by_code["MININTER"].mails[0].body
    assert by_code["MINDEF"].owes_budget and f"Budget item for {YEAR}" in by_code["MINDEF"].mails[0].body


def test_cycles_page_links_each_open_cycle_to_its_reminders(committee):
    page = committee.get("/plans/PE-2021/cycles").get_data(as_text=True)
    assert f'href="{URL}"' in page


# -- sending ----------------------------------------------------------------------------------------


def test_send_queues_exactly_the_previewed_messages(app, navy, committee, login_as):
    _reporter(login_as, app, "colleague@example.org", "MGP", language="en")
    _reporter(login_as, app, "army@example.org", "EP", language="es")
    with app.test_request_context():
        plan = db.session.scalars(sa.select(pm.Plan).filter_by(code="PE-2021")).one()
        previewed = {m.user.email: (m.subject, m.body) for r in notifications.plan_reminders(db.session, services.get_cycle(db.session, plan, YEAR))
                     for m in r.mails}
    response = committee.post_form(URL, token_from=URL)
    assert response.status_code == 302 and response.headers["Location"].endswith("/plans/PE-2021/cycles")
    mails = _mails(app)
    assert set(mails) == {"reporter-mgp@example.org", "colleague@example.org", "army@example.org"} == set(previewed)
    assert {email: (m.subject, m.body) for email, m in mails.items()} == previewed
    assert all(m.sent_at is not None for m in mails.values())  # delivered once the request committed
    assert mails["colleague@example.org"].subject.startswith("Reminder: ")
    assert mails["army@example.org"].subject.startswith("Recordatorio: ")
    assert {n.user_id for n in _reminders(app)} == _user_ids(app, *previewed)
    assert "IND-PAR-1" in _reminders(app)[0].note


def test_send_to_one_institution_only(app, navy, committee, login_as):
    _reporter(login_as, app, "army@example.org", "EP")
    page = committee.get(f"{URL}?institution=EP").get_data(as_text=True)
    assert "army@example.org" in page and "reporter-mgp@example.org" not in page
    committee.post_form(URL, {"institution": "EP"}, token_from=URL)
    assert set(_mails(app)) == {"army@example.org"}
    assert {n.user_id for n in _reminders(app)} == _user_ids(app, "army@example.org")


def test_unknown_institution_is_404(navy, committee):
    assert committee.get(f"{URL}?institution=NOPE").status_code == 404
    assert committee.post_form(URL, {"institution": "NOPE"}, token_from=URL).status_code == 404


def test_nothing_for_an_institution_with_nothing_missing(app, navy, committee, login_as):
    _reporter(login_as, app, "army@example.org", "EP")
    _submit_everything(app, "MGP")
    page = committee.get(URL, headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "army@example.org" in page and "reporter-mgp@example.org" not in page
    only_navy = committee.get(f"{URL}?institution=MGP", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "MGP has nothing missing" in only_navy and 'name="institution" value="MGP"' not in only_navy
    committee.post_form(URL, token_from=URL)
    assert set(_mails(app)) == {"army@example.org"}
    committee.post_form(URL, {"institution": "MGP"}, token_from=URL)
    assert set(_mails(app)) == {"army@example.org"}


def test_the_send_is_in_the_audit_log(app, navy, committee):
    from tracker.audit import AuditEvent

    committee.post_form(URL, token_from=URL)
    with app.app_context():
        assert db.session.scalars(sa.select(AuditEvent).filter_by(action="cycle.reminded")).one() is not None


def test_closed_cycle_has_no_reminders(app, cycle, navy, committee):
    with app.app_context():
        db.session.get(ReportingCycle, cycle).state = CycleState.closed
        db.session.commit()
    assert committee.get(URL).headers["Location"].endswith("/plans/PE-2021/cycles")
    assert committee.post_form(URL, token_from="/plans/PE-2021/cycles").status_code == 302
    assert _mails(app) == {} and _reminders(app) == []
    assert f'href="{URL}"' not in committee.get("/plans/PE-2021/cycles").get_data(as_text=True)


def test_another_plans_committee_gets_404(app, chile, navy, make_user):
    _, email = make_user(Role.committee, email="member-of-chile@example.org", institution=None, plans=("CL-2022",))
    other = Client(app.test_client())
    other.login(email)
    assert other.get(URL).status_code == 404
    assert other.post_form(URL, token_from="/notifications").status_code == 404
    assert _mails(app) == {} and _reminders(app) == []


def test_reporters_get_403(app, navy):
    assert navy.get(URL).status_code == 403
    assert navy.post_form(URL, token_from="/notifications").status_code == 403
    assert _mails(app) == {}


def test_cli_remind_sends_the_same_reminders(app, navy):
    result = app.test_cli_runner().invoke(args=["remind", "--year", str(YEAR)])
    assert result.exit_code == 0, result.output
    body = _mails(app)["reporter-mgp@example.org"].body
    assert "/plans/PE-2021/report/2025/indicators/IND-PAR-1" in body  # links to the entry forms, as from the web


# -- the committee told of submissions --------------------------------------------------------------


def test_submission_notifies_the_plans_members_only(app, chile, navy, committee, make_user):
    second, _ = make_user(Role.committee, email="second-member@example.org")
    gone, _ = make_user(Role.committee, email="former-member@example.org")
    make_user(Role.committee, email="member-of-chile@example.org", institution=None, plans=("CL-2022",))
    with app.app_context():
        db.session.get(User, gone).active = False
        db.session.commit()
    before = _mail_count(app)  # the members were told of each other's appointment
    _save(navy, "IND-PAR-2", {"women": "5", "men": "20"}, send=True)
    entry = _entry(app, "IND-PAR-2")
    with app.app_context():
        notices = db.session.scalars(sa.select(Notification).filter_by(event="entry_submitted")).all()
    assert {n.user_id for n in notices} == _user_ids(app, "committee-cig-mindef@example.org", "second-member@example.org")
    assert all(n.entry_id == entry.id and n.note == "MGP" and n.digested_at is None for n in notices)
    assert _mail_count(app) == before  # e-mail comes in the digest
    page = committee.get("/notifications", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert f'href="/entries/{entry.id}"' in page and "New submission to review" in page


def test_a_draft_tells_the_committee_nothing(app, navy, committee):
    _save(navy, "IND-PAR-2", {"women": "5", "men": "20"})
    with app.app_context():
        assert db.session.scalars(sa.select(Notification).filter_by(event="entry_submitted")).all() == []


def test_digest_sends_each_member_one_email_and_is_idempotent(app, navy, committee, make_user, cli):
    make_user(Role.committee, email="second-member@example.org")
    _set_language(app, "second-member@example.org", "en")
    _save(navy, "IND-PAR-2", {"women": "5", "men": "20"}, send=True)
    _save(navy, "PAR-1", {"action_status": "in_progress"}, send=True, kind="actions")
    ids = [_entry(app, "IND-PAR-2").id, _entry(app, "PAR-1").id]
    before = _mail_count(app)
    result = cli("notify", "digest")
    assert result.exit_code == 0, result.output
    assert result.output.strip() == "2 digests queued, 2 e-mails delivered."
    assert _mail_count(app) == before + 2
    mails = _mails(app)
    assert set(mails) == {"committee-cig-mindef@example.org", "second-member@example.org"}
    english = mails["second-member@example.org"]
    assert english.subject == "2 entries submitted for review" and english.sent_at is not None
    for entry_id, code in zip(ids, ("IND-PAR-2", "PAR-1")):
        assert all(f"/entries/{entry_id}" in m.body and code in m.body for m in mails.values())
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Notification)
                                 .where(Notification.event == "entry_submitted", Notification.digested_at.is_(None))) == 0
    again = cli("notify", "digest")
    assert again.exit_code == 0 and again.output.strip() == "0 digests queued, 0 e-mails delivered."
    assert _mail_count(app) == before + 2


def test_digest_lists_only_what_is_new(app, navy, committee, cli):
    _save(navy, "IND-PAR-2", {"women": "5", "men": "20"}, send=True)
    cli("notify", "digest")
    _save(navy, "PAR-1", {"action_status": "in_progress"}, send=True, kind="actions")
    cli("notify", "digest")
    with app.app_context():
        bodies = [m.body for m in db.session.scalars(sa.select(OutboxMessage).order_by(OutboxMessage.id))]
    assert len(bodies) == 2 and "IND-PAR-2" in bodies[0] and "IND-PAR-2" not in bodies[1] and "PAR-1" in bodies[1]


def test_digest_failure_is_one_error_line_and_not_sent_twice(app, navy, committee, cli, monkeypatch):
    _save(navy, "IND-PAR-2", {"women": "5", "men": "20"}, send=True)
    monkeypatch.setitem(app.config, "SMTP_HOST", "127.0.0.1")
    monkeypatch.setitem(app.config, "SMTP_PORT", 1)  # nothing listens there: the connection is refused
    result = cli("notify", "digest")
    assert result.exit_code == 1
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: 1 of 1 digest e-mails could not be delivered")
    mail = db_one_mail(app)
    assert mail.sent_at is None and mail.error  # kept for `tracker mail send`
    assert cli("notify", "digest").output.strip().startswith("0 digests queued")  # not queued twice


def test_digest_database_failure_is_one_error_line(app, cli, monkeypatch, peru):
    def broken(session, now=None):
        raise sa.exc.OperationalError("SELECT 1", {}, Exception("database is locked\nmore detail"))

    monkeypatch.setattr(notifications, "queue_digests", broken)
    result = cli("notify", "digest")
    assert result.exit_code == 1
    assert result.output.strip() == "Error: the digest could not be prepared: database is locked"


def db_one_mail(app) -> OutboxMessage:
    with app.app_context():
        return db.session.scalars(sa.select(OutboxMessage)).one()


# -- the menu ----------------------------------------------------------------------------------------


def test_review_queue_badge_counts_submitted_entries_of_the_reviewed_plans(app, chile, navy, committee, make_user):
    _save(navy, "IND-PAR-2", {"women": "5", "men": "20"}, send=True)
    _save(navy, "PAR-1", {"action_status": "in_progress"}, send=True, kind="actions")
    _save(navy, "PAR-3", {"action_status": "in_progress"}, kind="actions")  # a draft: not awaiting review
    page = committee.get("/notifications", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert 'review-count">2<span class="visually-hidden"> awaiting review</span>' in page
    _, email = make_user(Role.committee, email="member-of-chile@example.org", institution=None, plans=("CL-2022",))
    other = Client(app.test_client())
    other.login(email)
    assert "review-count" not in other.get("/notifications").get_data(as_text=True)  # Peru's entries are not theirs


def test_no_badge_for_reporters(navy):
    _save(navy, "IND-PAR-2", {"women": "5", "men": "20"}, send=True)
    assert "review-count" not in navy.get("/notifications").get_data(as_text=True)


def test_badge_costs_one_query(app, navy, committee):
    _save(navy, "IND-PAR-2", {"women": "5", "men": "20"}, send=True)
    with count_queries(db.engine) as statements:
        committee.get("/notifications")
    counts = [s for s in statements if "count(" in s.lower() and "entry.state" in s.lower()]
    assert len(counts) == 1


@pytest.mark.parametrize("language, words", [("es", "Ciclos de reporte"), ("en", "Reporting cycles")])
def test_menu_links_the_committee_to_the_current_plans_cycles(committee, language, words):
    page = committee.get("/notifications", headers={"Accept-Language": language}).get_data(as_text=True)
    assert f'<a class="dropdown-item" href="/plans/PE-2021/cycles">{words}</a>' in page  # under "Manage the plan"


def test_menu_cycles_link_follows_the_plan_of_the_other_country(app, chile, make_user):
    _, email = make_user(Role.committee, email="member-of-chile@example.org", institution=None, plans=("CL-2022",))
    other = Client(app.test_client())
    other.login(email)
    page = other.get("/notifications").get_data(as_text=True)
    assert 'class="dropdown-item" href="/plans/CL-2022/cycles"' in page and "/plans/PE-2021/cycles" not in page


def test_no_cycles_link_in_the_reporters_menu(navy):
    assert 'href="/plans/PE-2021/cycles"' not in navy.get("/notifications").get_data(as_text=True)
