"""The route-enumeration matrix (issue 3): every URL rule, every method, anonymously and as each role.

A new route fails `test_table_has_a_decision_for_every_endpoint` until someone writes down who may reach it.
Outcome classes:
  ok        2xx, or a redirect that is not to the login page (400 on a POST without form data counts as allowed)
  login     redirect to /login?next=... (anonymous visitors)
  forbidden 403
  hidden    404 for an object the visitor may not see (its existence is not revealed)
Anything else (405, 500, a CSRF refusal, an unexpected 404) is reported as it is and never matches the table.

Besides the four roles, a reporter of another institution (EP) visits every route: the sample entries belong
to the Navy (MGP), so that column is the cross-institution attempt (read, edit, submit...).

Two countries (issue 14): a second plan (Chile's test plan, tests/plans/chile-2022.yaml) lives beside Peru's.
Its committee, a reporter of its MININTER (a code Peru has too) and a viewer limited to it visit every route
with Peru's samples: a plan one may not read answers 404 (it is not even said to exist), a route the role may
never use answers 403 as it does at home. Then the same three visit every route with Chile's own samples and
must get what Peru's committee, reporter and viewer get on Peru's plan: the policy is the same in each country.
"""

from __future__ import annotations

import html
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from urllib.parse import parse_qs, urlsplit

import pytest
import sqlalchemy as sa

from conftest import Client
from tracker import storage
from tracker.auth.models import Role, User
from tracker.db import db
from tracker.permissions import PUBLIC_ENDPOINTS
from tracker.plan import models as pm
from tracker.progress import services as progress
from tracker.progress import uploads
from tracker.progress.models import ActionStatus, CycleState, Entry, ReportingCycle
from tracker.review import steps

OK, LOGIN, FORBIDDEN, HIDDEN, NO_TOKEN = "ok", "login", "forbidden", "hidden", "401 without a token"
ANONYMOUS = "anonymous"
OTHER_REPORTER = "reporter-other-institution"  # a reporter of EP; the sample entries are MGP's
# People of the other country (Chile), and the Peruvian whose outcomes they share on their own plan.
CHILE_COMMITTEE, CHILE_REPORTER, CHILE_VIEWER = "committee-of-chile", "reporter-of-chile", "viewer-of-chile"
ABROAD = {CHILE_COMMITTEE: Role.committee.value, CHILE_REPORTER: Role.reporter.value, CHILE_VIEWER: Role.viewer.value}
WHO = [ANONYMOUS, Role.reporter.value, OTHER_REPORTER, Role.committee.value, Role.viewer.value, Role.admin.value, *ABROAD]
ROLE_OF = {Role.reporter.value: Role.reporter, OTHER_REPORTER: Role.reporter, Role.committee.value: Role.committee,
           Role.viewer.value: Role.viewer, Role.admin.value: Role.admin,
           CHILE_COMMITTEE: Role.committee, CHILE_REPORTER: Role.reporter, CHILE_VIEWER: Role.viewer}
# Identify a plan in the URL: such routes of Peru's plan are never open to the other country's people.
PLAN_ARGUMENTS = {"code", "entry_id", "cycle_id", "report_id"}
YEAR = 2025
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
SKIPPED = {"static", "bootstrap.static"}  # files, served to everyone
METHODS = ("GET", "POST")


def everyone() -> dict[str, str]:
    return {who: OK for who in WHO}


def logged_in() -> dict[str, str]:
    return {ANONYMOUS: LOGIN} | {who: OK for who in ROLE_OF}


def only(*roles: Role) -> dict[str, str]:
    return {ANONYMOUS: LOGIN} | {who: OK if role in roles else FORBIDDEN for who, role in ROLE_OF.items()}


def of_perus_plan(outcomes: dict[str, str], hidden: tuple[str, ...] = ()) -> dict[str, str]:
    """A route of Peru's plan: the other country's people who pass the role check are told it does not exist
    (and so are those in `hidden`, whose role check comes after the plan is found)."""
    return outcomes | {who: HIDDEN for who in ABROAD if outcomes[who] == OK or who in hidden}


def started_it() -> dict[str, str]:
    """A background task: the account that started it (the reporter); everyone else is told it does not exist."""
    return {ANONYMOUS: LOGIN} | {who: OK if who == Role.reporter.value else HIDDEN for who in ROLE_OF}


def entry_of_the_navy(navy: str, committee: str, others: str = HIDDEN) -> dict[str, str]:
    """An MGP entry: its reporter, the committee, and everyone else (hidden unless it is approved);
    hidden from the other country whatever its state."""
    return {ANONYMOUS: LOGIN, Role.reporter.value: navy, Role.committee.value: committee,
            OTHER_REPORTER: others, Role.viewer.value: others, Role.admin.value: others} | {who: HIDDEN for who in ABROAD}


# endpoint -> method -> who -> outcome. Every endpoint of the app must appear here.
EXPECTED: dict[str, dict[str, dict[str, str]]] = {
    "core.health": {"GET": everyone()},
    "core.ready": {"GET": everyone()},
    "core.index": {"GET": logged_in()},
    "core.set_language": {"POST": everyone()},
    "auth.login": {"GET": everyone(), "POST": everyone()},
    "auth.logout": {"POST": logged_in()},
    "auth.change_password": {"GET": logged_in(), "POST": logged_in()},
    # The code step of a login: anonymous by nature (the password was right, the login not complete yet).
    "auth.login_code": {"GET": everyone(), "POST": everyone()},
    "auth.account": {"GET": logged_in()},
    "auth.end_other_sessions": {"POST": logged_in()},
    "auth.two_factor_setup": {"GET": logged_in(), "POST": logged_in()},
    "auth.two_factor_disable": {"POST": logged_in()},
    "plan.index": {"GET": logged_in()},
    "plan.show": {"GET": of_perus_plan(logged_in())},
    "plan.pillar": {"GET": of_perus_plan(logged_in())},
    "plan.indicator": {"GET": of_perus_plan(logged_in())},
    # The plan's versions: the one in force (its page) and those revisions replaced, readable by all its readers.
    "plan.versions": {"GET": of_perus_plan(logged_in())},
    "plan.version": {"GET": of_perus_plan(logged_in())},  # version 1 is the one in force: a redirect to the plan
    # The plan's monitoring body edits, adds and retires its items (an empty form comes back with its errors).
    "plan_edit.edit": {"GET": of_perus_plan(only(Role.committee)), "POST": of_perus_plan(only(Role.committee))},
    "plan_edit.new": {"GET": of_perus_plan(only(Role.committee)), "POST": of_perus_plan(only(Role.committee))},
    "plan_edit.retire": {"POST": of_perus_plan(only(Role.committee))},
    # The monitoring body confirms or rejects derived items (an empty POST comes back with "tick at least one item", 400).
    "plan_decisions.confirmations": {"GET": of_perus_plan(only(Role.committee)), "POST": of_perus_plan(only(Role.committee))},
    # The plan's change history: whoever reads the plan.
    "plan_decisions.history": {"GET": of_perus_plan(logged_in())},
    # Plan import: the indicator matrix download, the upload form + preview (POST), and applying the previewed upload.
    "plan_import.matrix_template": {"GET": of_perus_plan(only(Role.committee))},
    "plan_import.upload": {"GET": of_perus_plan(only(Role.committee)), "POST": of_perus_plan(only(Role.committee))},
    # Without a known token: back to the form with a message (a redirect).
    "plan_import.apply": {"POST": of_perus_plan(only(Role.committee))},
    "admin.users": {"GET": only(Role.admin)},
    "admin.new_user": {"GET": only(Role.admin), "POST": only(Role.admin)},
    "admin.edit_user": {"GET": only(Role.admin), "POST": only(Role.admin)},
    "admin.set_user_active": {"POST": only(Role.admin)},
    "admin.reset_password": {"POST": only(Role.admin)},
    "admin.institutions": {"GET": only(Role.admin)},
    "admin.new_institution": {"GET": only(Role.admin), "POST": only(Role.admin)},
    "admin.edit_institution": {"GET": only(Role.admin), "POST": only(Role.admin)},
    "admin.audit_log": {"GET": only(Role.admin)},
    "admin.outbox": {"GET": only(Role.admin)},
    # Countries' profiles (time zone, currency, locale) and plans' profiles (budget, monitoring body).
    "admin.countries": {"GET": only(Role.admin)},
    "admin.edit_country": {"GET": only(Role.admin), "POST": only(Role.admin)},
    "admin.edit_plan_profile": {"GET": only(Role.admin), "POST": only(Role.admin)},
    # The UN parity strategy's yearly targets (reference data every plan is compared with): admins keep them.
    "admin.parity": {"GET": only(Role.admin), "POST": only(Role.admin)},
    # Progress reporting: reporters enter their institution's data, the committee reviews and runs cycles.
    "progress.my_work": {"GET": only(Role.reporter, Role.committee)},
    "progress.worklist": {"GET": of_perus_plan(only(Role.reporter, Role.committee))},
    # Always one's own institution.
    "progress.indicator_entry": {"GET": of_perus_plan(only(Role.reporter)), "POST": of_perus_plan(only(Role.reporter))},
    "progress.action_entry": {"GET": of_perus_plan(only(Role.reporter)), "POST": of_perus_plan(only(Role.reporter))},
    "progress.show_entry": {"GET": entry_of_the_navy(OK, OK)},  # a draft
    "progress.download_evidence": {"GET": entry_of_the_navy(OK, OK)},
    "progress.remove_evidence": {"POST": entry_of_the_navy(OK, FORBIDDEN)},
    "progress.submit_entry": {"POST": entry_of_the_navy(OK, FORBIDDEN)},  # a complete draft
    "progress.withdraw_entry": {"POST": entry_of_the_navy(OK, FORBIDDEN)},  # a submitted entry
    "progress.approve_entry": {"POST": entry_of_the_navy(FORBIDDEN, OK)},  # a submitted entry
    "progress.return_entry": {"POST": entry_of_the_navy(FORBIDDEN, OK)},  # a submitted entry, with a note
    "progress.reopen_entry": {"POST": entry_of_the_navy(FORBIDDEN, OK, others=FORBIDDEN)},  # approved: seen by all
    # The focal point's sign-off, on a draft: the institution's side may try (refused with a message), no one else.
    "progress.endorse_entry": {"POST": entry_of_the_navy(OK, FORBIDDEN)},
    "progress.send_back_entry": {"POST": entry_of_the_navy(OK, FORBIDDEN)},
    # Which institutions sign off in a plan: its monitoring body (an empty form comes back with its errors).
    "review.settings": {"GET": of_perus_plan(only(Role.committee)), "POST": of_perus_plan(only(Role.committee))},
    # The focal point's entries to sign off: none of the visitors is a focal point.
    "review.waiting": {"GET": only()},
    # The entry's conversation: its institution and the plan's reviewers (an empty comment comes back, 400; an
    # unknown comment to resolve: a message).
    "progress.comment_entry": {"POST": entry_of_the_navy(OK, OK)},
    "progress.resolve_comment": {"POST": entry_of_the_navy(OK, OK)},
    "progress.review_queue": {"GET": only(Role.committee), "POST": only(Role.committee)},
    # Peru's reporters see Peru's calendar but may not open a cycle (403); Chile's are not shown Peru's plan (404).
    "progress.cycles": {"GET": of_perus_plan(only(Role.reporter, Role.committee)),
                        "POST": of_perus_plan(only(Role.committee), hidden=(CHILE_REPORTER,))},
    "progress.close_cycle": {"POST": of_perus_plan(only(Role.committee))},
    "progress.reopen_cycle": {"POST": of_perus_plan(only(Role.committee))},
    # Reminders: the preview (GET) and sending them (POST), by the plan's committee.
    "progress.reminders": {"GET": of_perus_plan(only(Role.committee)), "POST": of_perus_plan(only(Role.committee))},
    # The plan's reminder schedule: its committee only (a POST without the fields is refused with field errors).
    "progress.reminder_settings": {"GET": of_perus_plan(only(Role.committee)),
                                   "POST": of_perus_plan(only(Role.committee))},
    # Deadline exceptions for one institution: the plan's committee only (removing one that does not exist is
    # refused with a message).
    "progress.extend_deadline": {"POST": of_perus_plan(only(Role.committee))},
    "progress.remove_deadline_exception": {"POST": of_perus_plan(only(Role.committee))},
    # Submit every complete draft of one's own institution (none here: a message, and back to the worklist).
    "progress.submit_all": {"POST": of_perus_plan(only(Role.reporter))},
    "progress.notifications_page": {"GET": logged_in()},
    "progress.mark_notifications_read": {"POST": logged_in()},
    "progress.bulk_template": {"GET": of_perus_plan(only(Role.reporter))},
    "progress.bulk_import": {"GET": of_perus_plan(only(Role.reporter)), "POST": of_perus_plan(only(Role.reporter))},
    # The token names an upload kept in the uploader's own session: any other token is not found.
    "progress.bulk_import_confirm": {"POST": of_perus_plan(
        only(Role.reporter) | {Role.reporter.value: HIDDEN, OTHER_REPORTER: HIDDEN}, hidden=(CHILE_REPORTER,))},
    # Dashboards show approved data only.
    "dashboard.committee_dashboard": {"GET": logged_in()},
    "dashboard.pillar": {"GET": of_perus_plan(logged_in())},
    "dashboard.indicator": {"GET": of_perus_plan(logged_in())},
    "dashboard.reporter_home": {"GET": only(Role.reporter)},
    "dashboard.status_rules": {"GET": logged_in()},
    # Budget items go through the entry workflow; the compliance table and history show approved data.
    "budget.item": {"GET": of_perus_plan(only(Role.reporter)), "POST": of_perus_plan(only(Role.reporter))},
    "budget.import_csv": {"POST": of_perus_plan(only(Role.reporter))},
    "budget.compliance": {"GET": of_perus_plan(logged_in())},
    "budget.history": {"GET": of_perus_plan(logged_in())},
    # Annual reports: approved data for the committee, viewers and admins; the committee validates and finalises.
    "reports.index": {"GET": only(Role.committee, Role.viewer, Role.admin)},
    "reports.download": {"GET": of_perus_plan(only(Role.committee, Role.viewer, Role.admin))},
    "reports.final": {"GET": of_perus_plan(only(Role.committee, Role.viewer, Role.admin))},
    # A background task (here the Navy reporter's template, done): whoever started it, nobody else (404).
    "tasks.show": {"GET": started_it()},
    "tasks.status": {"GET": started_it()},
    "tasks.file": {"GET": started_it()},
    # The read API takes a personal token, never the session: 401 JSON for every visitor here (tests/test_api.py
    # reads it with tokens). Its description and the page describing it are public.
    **{f"api.{name}": {"GET": {who: NO_TOKEN for who in WHO}}
       for name in ("plans", "plan", "values", "progress", "reports", "report_file", "opendata_csv", "opendata_package")},
    "api.openapi": {"GET": everyone()},
    "api.docs": {"GET": everyone()},
    # The public page and its open data: everyone, once the committee publishes it (the sample plan is not: 404).
    **{f"public.{name}": {"GET": {who: HIDDEN for who in WHO}} for name in ("page", "data", "datapackage")},
    # Publishing it: the plan's committee.
    "public.settings": {"GET": of_perus_plan(only(Role.committee)), "POST": of_perus_plan(only(Role.committee))},
    # Each account's own tokens; another's (or one not in use) does not exist.
    "tokens.index": {"GET": logged_in()},
    "tokens.create": {"POST": logged_in()},
    "tokens.revoke": {"POST": {ANONYMOUS: LOGIN} | {who: HIDDEN for who in ROLE_OF}},
    "reports.save_validation": {"POST": of_perus_plan(only(Role.committee))},
    # The choice of format and language (a redirect to the file), and the report as a page.
    "reports.choose": {"GET": of_perus_plan(only(Role.committee, Role.viewer, Role.admin))},
    "reports.preview": {"GET": of_perus_plan(only(Role.committee, Role.viewer, Role.admin))},
    # The committee's commentary on the year (an empty form is saved: nothing changes).
    "reports.commentary": {"GET": of_perus_plan(only(Role.committee)), "POST": of_perus_plan(only(Role.committee))},
    "reports.finalize": {"POST": of_perus_plan(only(Role.committee))},  # refused with a message here: no validation yet
}

# Where Chile's people on Chile's plan do not get what Peru's get on Peru's, and why.
DIFFERS_AT_HOME: dict[str, dict[str, dict[str, str]]] = {
    # Chile's budget profile is generic: there is no spending-portal CSV to import.
    "budget.import_csv": {"POST": {CHILE_REPORTER: HIDDEN}},
}

# Form fields sent with the CSRF token, where an empty form would stop the request before the policy decides.
FORM_DATA: dict[str, dict[str, str]] = {
    "progress.return_entry": {"note": "Falta la fuente de los datos."},
    "progress.reopen_entry": {"reason": "Corrección de cifras."},
    "progress.reopen_cycle": {"reason": "Entrega tardía autorizada."},
    # Granted on Peru's plan; Chile's has no MGP, so there the form comes back with its error (400: it reached the view).
    "progress.extend_deadline": {"institution": "MGP", "deadline": "2199-12-31", "reason": "Cambio de gestión."},
    "progress.remove_deadline_exception": {"reason": "Ya entregó."},
}


@dataclass
class World:
    """Real rows whose ids fill the URL arguments, and the e-mail of each visitor: Peru's samples, and Chile's."""

    samples: dict[str, object]
    emails: dict[str, str]
    overrides: dict[str, dict[str, object]] = field(default_factory=dict)
    chile_samples: dict[str, object] = field(default_factory=dict)
    chile_overrides: dict[str, dict[str, object]] = field(default_factory=dict)

    def samples_for(self, endpoint: str) -> dict[str, object]:
        return self.samples | self.overrides.get(endpoint, {})

    def chile_samples_for(self, endpoint: str) -> dict[str, object]:
        return self.chile_samples | self.chile_overrides.get(endpoint, {})


def _one(model, **by):
    return db.session.scalars(sa.select(model).filter_by(**by)).one()


def _institution(country: str, code: str) -> pm.Institution:
    return db.session.scalars(
        sa.select(pm.Institution).join(pm.Country).where(pm.Country.iso_code == country, pm.Institution.code == code)
    ).one()


@dataclass(frozen=True)
class Sample:
    """An item to report on and what to report."""

    model: type
    code: str
    data: object


def _sample_entries(app, plan_code: str, country: str, institution_code: str, reporter_id: int, committee_id: int,
                    items: dict[str, Sample]) -> dict[str, int]:
    """The institution's entries of the 2025 cycle, each in the state its workflow route needs, and one evidence
    file: items["draft"] stays a draft, "withdraw", "approve" and "return" are submitted, "approved" approved."""
    from tracker.auth.models import User

    with app.test_request_context():
        session = db.session
        plan = _one(pm.Plan, code=plan_code)
        institution = _institution(country, institution_code)
        cycle = ReportingCycle(plan_id=plan.id, year=YEAR, deadline=date.today() + timedelta(days=30), state=CycleState.open)
        session.add(cycle)
        session.flush()
        reporter, committee = session.get(User, reporter_id), session.get(User, committee_id)

        def save(name: str):
            item = items[name]
            row = _one(item.model, plan_id=plan.id, code=item.code)
            return progress.save_entry(session, reporter, cycle, institution, row, item.data, submit=name != "draft")

        draft = save("draft")
        (evidence,) = uploads.store_evidence(session, reporter, draft, [(PDF, "application/pdf", "informe.pdf")])
        ids = {name: save(name).id for name in ("withdraw", "approve", "return", "approved")}
        steps.take_step(session, committee, session.get(Entry, ids["approved"]), "approve")
        session.commit()
        return ids | {"cycle": cycle.id, "draft": draft.id, "evidence": evidence.id}


def _navy_entries(app, reporter_id: int, committee_id: int) -> dict[str, int]:
    """Entries of Peru's Navy (MGP)."""
    in_progress = progress.ActionInput(action_status=ActionStatus.in_progress)
    return _sample_entries(app, "PE-2021", "PE", "MGP", reporter_id, committee_id, {
        "draft": Sample(pm.Indicator, "IND-PAR-2", progress.IndicatorInput(women=5, men=20, narrative="Despliegue")),
        "withdraw": Sample(pm.Action, "PAR-1", in_progress),
        "approve": Sample(pm.Action, "PAR-2", in_progress),
        "return": Sample(pm.Action, "PAR-3", in_progress),
        "approved": Sample(pm.Action, "REC-4", in_progress),
    })


def _chile_entries(app, reporter_id: int, committee_id: int) -> dict[str, int]:
    """Entries of Chile's MININTER (which leaves IND-COO-1 without an entry, like IND-PAR-1 in Peru)."""
    in_progress = progress.ActionInput(action_status=ActionStatus.in_progress)
    return _sample_entries(app, "CL-2022", "CL", "MININTER", reporter_id, committee_id, {
        "draft": Sample(pm.Indicator, "PRE-1", progress.IndicatorInput(numerator=Decimal(45), denominator=Decimal(50))),
        "withdraw": Sample(pm.Action, "PRE-1", in_progress),
        "approve": Sample(pm.Action, "PRO-1", in_progress),
        "return": Sample(pm.Action, "COO-1", in_progress),
        "approved": Sample(pm.Indicator, "IND-PRO-1", progress.IndicatorInput(value=Decimal(20))),
    })


def _done_task(app, email: str, cycle_id: int) -> int:
    """A finished template task of this account's, its file kept (as tracker.progress.bulk_tasks leaves it)."""
    import json

    from tracker.tasks import services as tasks
    from tracker.tasks.models import Task, TaskState

    with app.test_request_context():
        user = _one(User, email=email)
        task = Task(kind="bulk_template", user_id=user.id, state=TaskState.done, done=1, total=1,
                    params_json=json.dumps({"cycle_id": cycle_id, "institution_id": user.institution_id}),
                    result_json=json.dumps({"file": {"name": "plantilla.xlsx", "mimetype": "application/octet-stream"}}))
        db.session.add(task)
        db.session.flush()
        storage.store().keep(tasks.file_key(task), b"sample")
        db.session.commit()
        return task.id


def _final_report(app, committee_id: int, plan_code: str = "PE-2021") -> int:
    """A stored final report file (JSON), as finalising the year would leave it."""
    import hashlib

    from tracker.reports import services as reports
    from tracker.reports.models import FinalReport

    data = b'{"report": "final"}'
    with app.test_request_context():
        plan = _one(pm.Plan, code=plan_code)
        name = f"final-sample-{plan_code}.json"
        storage.store().path(reports.final_key(name)).write_bytes(data)
        row = FinalReport(plan_id=plan.id, year=YEAR, version=1, language="es", format="json", stored_name=name,
                          size=len(data), sha256=hashlib.sha256(data).hexdigest(), finalized_by_id=committee_id)
        db.session.add(row)
        db.session.commit()
        return row.id


def _workflow_overrides(entries: dict[str, int]) -> dict[str, dict[str, object]]:
    return {
        "progress.withdraw_entry": {"entry_id": entries["withdraw"]},
        "progress.approve_entry": {"entry_id": entries["approve"]},
        "progress.return_entry": {"entry_id": entries["return"]},
        "progress.reopen_entry": {"entry_id": entries["approved"]},
    }


def _chile_world(app, make_user, emails: dict[str, str], samples: dict[str, object]) -> tuple[dict, dict]:
    """Chile's three visitors beside Peru's (its plan is conftest's `chile`), and its samples (the same kinds of rows as
    Peru's)."""
    emails[CHILE_COMMITTEE] = make_user(Role.committee, email="committee-of-chile@example.org", institution=None,
                                        plans=("CL-2022",))[1]
    emails[CHILE_REPORTER] = make_user(Role.reporter, email="reporter-of-chile@example.org", institution="CL:MININTER")[1]
    emails[CHILE_VIEWER] = make_user(Role.viewer, email="viewer-of-chile@example.org", institution=None, plans=("CL-2022",))[1]
    reporter_id, _ = make_user(Role.reporter, email="mininter-of-chile@example.org", institution="CL:MININTER")
    committee_id, _ = make_user(Role.committee, email="member-of-chile@example.org", institution=None, plans=("CL-2022",))
    entries = _chile_entries(app, reporter_id, committee_id)
    with app.app_context():
        country_id = _one(pm.Country, iso_code="CL").id
    chile = samples | {
        "country_id": country_id,
        "code": "CL-2022",
        "indicator_code": "PRE-1",
        "item_code": "IND-COO-1",
        "entry_id": entries["draft"],
        "evidence_id": entries["evidence"],
        "cycle_id": entries["cycle"],
        "institution_code": "MININTER",
        "report_id": _final_report(app, committee_id, "CL-2022"),
        "task_id": _done_task(app, emails[CHILE_REPORTER], entries["cycle"]),
    }
    return chile, {"progress.action_entry": {"item_code": "PRO-1"}} | _workflow_overrides(entries)


@pytest.fixture
def world(app, chile, make_user, monkeypatch, tmp_path) -> World:
    monkeypatch.setitem(app.config, "UPLOAD_FOLDER", tmp_path)
    emails = {role.value: make_user(role)[1] for role in Role}
    reporter_id, _ = make_user(Role.reporter, email="navy-reporter@example.org", institution="MGP")
    committee_id, _ = make_user(Role.committee, email="committee-member@example.org")
    emails[OTHER_REPORTER] = make_user(Role.reporter, email="army-reporter@example.org", institution="EP")[1]
    target_id, _ = make_user(Role.reporter, email="target@example.org", institution="FAP")
    with app.app_context():
        institution_id = db.session.scalars(sa.select(pm.Institution.id).filter_by(code="MGP")).one()
        country_id = _one(pm.Country, iso_code="PE").id
    entries = _navy_entries(app, reporter_id, committee_id)
    samples = {
        "user_id": target_id,
        "institution_id": institution_id,
        "country_id": country_id,
        "code": "PE-2021",
        "pillar_code": "PRE",
        "indicator_code": "IND-PAR-1",
        "lang": "es",
        "state": "on",
        "year": YEAR,
        "item_code": "IND-PAR-1",
        "slug": "indicators",
        "version": 1,
        "comment_id": 999999,
        "token_id": 999999,
        "entry_id": entries["draft"],
        "evidence_id": entries["evidence"],
        "cycle_id": entries["cycle"],
        "token": "0" * 32,
        "institution_code": "MGP",
        "fmt": "json",
        "report_id": _final_report(app, committee_id),
        "task_id": _done_task(app, emails[Role.reporter.value], entries["cycle"]),
    }
    overrides = {"progress.action_entry": {"item_code": "PAR-2"}} | _workflow_overrides(entries)
    chile_samples, chile_overrides = _chile_world(app, make_user, emails, samples)
    return World(samples, emails, overrides, chile_samples, chile_overrides)


def app_routes(app) -> list[tuple[object, str]]:
    """(rule, method) for every rule and every method of interest it accepts."""
    return [
        (rule, method)
        for rule in sorted(app.url_map.iter_rules(), key=lambda r: (r.endpoint, r.rule))
        if rule.endpoint not in SKIPPED
        for method in METHODS
        if method in rule.methods
    ]


def build_url(app, rule, samples: dict[str, object]) -> str:
    arguments = set(rule.arguments) - set(rule.defaults or {})  # a default (a workflow step's name) is the rule's own
    missing = sorted(arguments - set(samples))
    assert not missing, f"no sample value for {missing} of {rule.endpoint} ({rule.rule}): add one to the world fixture"
    return app.url_map.bind("localhost").build(rule.endpoint, {a: samples[a] for a in arguments})


class Visitor:
    """A browser for one role; it logs in again when a request (logout) ended its session."""

    def __init__(self, app, who: str, world: World):
        self.app, self.who, self.world = app, who, world
        self.client: Client
        self.token = ""
        self.start()

    def start(self) -> None:
        self.client = Client(self.app.test_client())
        if self.who == ANONYMOUS:
            self.token = self.client.csrf_token("/login")
            return
        response = self.client.login(self.world.emails[self.who])
        assert response.status_code == 302, f"{self.who} could not log in"
        self.token = self.client.csrf_token("/account/password")

    def request(self, method: str, url: str, data: dict | None = None):
        if method == "GET":
            return self.client.get(url)
        return self.client.post(url, data={"csrf_token": self.token, **(data or {})})


def csrf_refusal_text(app) -> str:
    """The message of the app's CSRF error page, as the handler words it (the wording may change)."""
    from unittest import mock

    from tracker import errors

    captured: list[str] = []
    with mock.patch.object(errors, "render_error", lambda code, message=None: captured.append(str(message))):
        with app.test_request_context():
            errors.handle_csrf_error(None)
    assert captured and captured[0] != "None"
    return captured[0]


def classify(response, method: str, csrf_message: str) -> str:
    status = response.status_code
    if 300 <= status < 400:
        target = urlsplit(response.headers.get("Location", ""))
        if target.path == "/login" and "next" in parse_qs(target.query):
            return LOGIN
        return OK
    if status == 401:
        return NO_TOKEN
    if status == 403:
        return FORBIDDEN
    if status == 404:
        return HIDDEN
    if 200 <= status < 300:
        return OK
    if status == 400 and method == "POST":
        if csrf_message in html.unescape(response.get_data(as_text=True)):
            return "400 CSRF refusal (the test sent a bad token)"
        return OK  # the form was empty: the request reached the view
    return str(status)


# -- the table itself -----------------------------------------------------------------------------


def test_table_has_a_decision_for_every_endpoint(app):
    endpoints = {rule.endpoint for rule in app.url_map.iter_rules()} - SKIPPED
    assert set(EXPECTED) == endpoints, (
        f"without a decision: {sorted(endpoints - set(EXPECTED))}; no longer routes: {sorted(set(EXPECTED) - endpoints)}"
    )


def test_table_has_a_decision_for_every_method(app):
    methods: dict[str, set[str]] = {}
    for rule, method in app_routes(app):
        methods.setdefault(rule.endpoint, set()).add(method)
    assert {e: set(m) for e, m in EXPECTED.items()} == methods


def test_table_has_a_decision_for_everyone(app):
    for endpoint, by_method in EXPECTED.items():
        for method, outcomes in by_method.items():
            assert set(outcomes) == set(WHO), f"{method} {endpoint}"


def test_table_opens_to_anonymous_visitors_exactly_the_public_endpoints(app):
    open_to_anonymous = {e for e, by_method in EXPECTED.items()
                         if any(o[ANONYMOUS] not in (LOGIN, NO_TOKEN) for o in by_method.values())}
    assert open_to_anonymous == set(PUBLIC_ENDPOINTS) - SKIPPED


def test_public_endpoints_all_exist(app):
    endpoints = {rule.endpoint for rule in app.url_map.iter_rules()}
    assert set(PUBLIC_ENDPOINTS) <= endpoints


def test_views_that_refuse_whole_roles_declare_their_policy(app):
    """A view closed to whole roles says so with permissions.require; entry rules depend on the entry (services)."""
    per_entry = {rule.endpoint for rule in app.url_map.iter_rules() if "entry_id" in rule.arguments}
    for endpoint, by_method in EXPECTED.items():
        if endpoint not in per_entry and any(FORBIDDEN in by_who.values() for by_who in by_method.values()):
            view = app.view_functions[endpoint]
            assert getattr(view, "required_predicate", None) is not None, endpoint


# -- the matrix -----------------------------------------------------------------------------------


def _visit_every_route(app, visitor: Visitor, samples_for, expected_for) -> None:
    csrf_message = csrf_refusal_text(app)
    mismatches = []
    checked = 0
    for rule, method in app_routes(app):
        expected = expected_for(rule.endpoint, method)
        url = build_url(app, rule, samples_for(rule.endpoint))
        got = classify(visitor.request(method, url, FORM_DATA.get(rule.endpoint)), method, csrf_message)
        checked += 1
        if got != expected:
            mismatches.append(f"{method} {url} ({rule.endpoint}): expected {expected}, got {got}")
        if rule.endpoint == "auth.logout" and visitor.who != ANONYMOUS:
            visitor.start()  # logging out worked: log in again for the next routes
    assert checked >= len(EXPECTED)
    assert not mismatches, f"{visitor.who}:\n  " + "\n  ".join(mismatches)


def _decision(endpoint: str, method: str, who: str) -> str:
    return EXPECTED.get(endpoint, {}).get(method, {}).get(who, "no decision in EXPECTED")


@pytest.mark.parametrize("who", WHO)
def test_every_route_answers_as_the_table_says(app, world, who):
    """Peru's samples: Peru's people as the table says, and the other country's kept out of Peru's plan."""
    _visit_every_route(app, Visitor(app, who, world), world.samples_for,
                       lambda endpoint, method: _decision(endpoint, method, who))


@pytest.mark.parametrize("who", list(ABROAD))
def test_every_route_answers_alike_in_the_other_country(app, world, who):
    """Chile's samples: Chile's committee, reporter and viewer get what Peru's get on Peru's plan."""
    def expected(endpoint: str, method: str) -> str:
        differs = DIFFERS_AT_HOME.get(endpoint, {}).get(method, {})
        return differs.get(who) or _decision(endpoint, method, ABROAD[who])

    _visit_every_route(app, Visitor(app, who, world), world.chile_samples_for, expected)


def test_the_other_country_never_reaches_perus_plan(app):
    """Every route naming a plan (its code, an entry, a cycle, a report) answers 404 to the other country's
    people where their role may use it at home; where it may not, 403 (or 404 when what is named is looked up
    first): never anything that would do or show something."""
    for rule in app.url_map.iter_rules():
        if rule.endpoint in SKIPPED or not PLAN_ARGUMENTS & set(rule.arguments):
            continue
        for method, outcomes in EXPECTED[rule.endpoint].items():
            for who, counterpart in ABROAD.items():
                allowed = {HIDDEN} if outcomes[counterpart] in (OK, HIDDEN) else {HIDDEN, FORBIDDEN}
                allowed.add(NO_TOKEN)  # the API without a token shows nothing either (its tokens: tests/test_api.py)
                assert outcomes[who] in allowed, (rule.endpoint, method, who)


@pytest.mark.parametrize("path", ["/", "/plans/", "/plans/PE-2021", "/admin/users", "/account/password"])
def test_anonymous_redirect_to_login_keeps_the_page_as_next(client, peru, path):
    response = client.get(path)
    assert response.status_code == 302
    target = urlsplit(response.headers["Location"])
    assert (target.path, parse_qs(target.query)["next"]) == ("/login", [path])


def test_anonymous_post_without_csrf_token_is_refused_before_anything(client, peru):
    assert client.post("/admin/users/new").status_code == 400


@pytest.mark.parametrize("role", [Role.reporter, Role.committee, Role.viewer])
def test_non_admin_gets_403_for_a_user_that_does_not_exist(login_as, role):
    """Permission comes first: a 404 would tell non-admins which ids exist."""
    c = login_as(role)
    assert c.get("/admin/users/999999").status_code == 403
    assert c.get("/admin/institutions/999999").status_code == 403


def test_admin_gets_404_for_a_user_that_does_not_exist(login_as):
    c = login_as(Role.admin)
    assert c.get("/admin/users/999999").status_code == 404
    assert c.get("/admin/institutions/999999").status_code == 404


@pytest.mark.parametrize("who", WHO)
def test_unknown_url_is_404(app, world, who):
    visitor = Visitor(app, who, world)
    assert visitor.request("GET", "/no-such-page").status_code == 404
