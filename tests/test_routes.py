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
"""

from __future__ import annotations

import html
from dataclasses import dataclass, field
from datetime import date, timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
import sqlalchemy as sa

from conftest import Client
from tracker.auth.models import Role
from tracker.db import db
from tracker.permissions import PUBLIC_ENDPOINTS
from tracker.plan import models as pm
from tracker.progress import services as progress
from tracker.progress import uploads
from tracker.progress.models import ActionStatus, CycleState, ReportingCycle

OK, LOGIN, FORBIDDEN, HIDDEN = "ok", "login", "forbidden", "hidden"
ANONYMOUS = "anonymous"
OTHER_REPORTER = "reporter-other-institution"  # a reporter of EP; the sample entries are MGP's
WHO = [ANONYMOUS, Role.reporter.value, OTHER_REPORTER, Role.committee.value, Role.viewer.value, Role.admin.value]
ROLE_OF = {Role.reporter.value: Role.reporter, OTHER_REPORTER: Role.reporter, Role.committee.value: Role.committee,
           Role.viewer.value: Role.viewer, Role.admin.value: Role.admin}
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


def entry_of_the_navy(navy: str, committee: str, others: str = HIDDEN) -> dict[str, str]:
    """An MGP entry: its reporter, the committee, and everyone else (hidden unless it is approved)."""
    return {ANONYMOUS: LOGIN, Role.reporter.value: navy, Role.committee.value: committee,
            OTHER_REPORTER: others, Role.viewer.value: others, Role.admin.value: others}


# endpoint -> method -> who -> outcome. Every endpoint of the app must appear here.
EXPECTED: dict[str, dict[str, dict[str, str]]] = {
    "core.health": {"GET": everyone()},
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
    "plan.show": {"GET": logged_in()},
    "plan.pillar": {"GET": logged_in()},
    "plan.indicator": {"GET": logged_in()},
    "admin.users": {"GET": only(Role.admin)},
    "admin.new_user": {"GET": only(Role.admin), "POST": only(Role.admin)},
    "admin.edit_user": {"GET": only(Role.admin), "POST": only(Role.admin)},
    "admin.set_user_active": {"POST": only(Role.admin)},
    "admin.reset_password": {"POST": only(Role.admin)},
    "admin.institutions": {"GET": only(Role.admin)},
    "admin.new_institution": {"GET": only(Role.admin), "POST": only(Role.admin)},
    "admin.edit_institution": {"GET": only(Role.admin), "POST": only(Role.admin)},
    "admin.audit_log": {"GET": only(Role.admin)},
    # Progress reporting: reporters enter their institution's data, the committee reviews and runs cycles.
    "progress.my_work": {"GET": only(Role.reporter, Role.committee)},
    "progress.worklist": {"GET": only(Role.reporter, Role.committee)},
    "progress.indicator_entry": {"GET": only(Role.reporter), "POST": only(Role.reporter)},  # always one's own institution
    "progress.action_entry": {"GET": only(Role.reporter), "POST": only(Role.reporter)},
    "progress.show_entry": {"GET": entry_of_the_navy(OK, OK)},  # a draft
    "progress.download_evidence": {"GET": entry_of_the_navy(OK, OK)},
    "progress.remove_evidence": {"POST": entry_of_the_navy(OK, FORBIDDEN)},
    "progress.submit_entry": {"POST": entry_of_the_navy(OK, FORBIDDEN)},  # a complete draft
    "progress.withdraw_entry": {"POST": entry_of_the_navy(OK, FORBIDDEN)},  # a submitted entry
    "progress.approve_entry": {"POST": entry_of_the_navy(FORBIDDEN, OK)},  # a submitted entry
    "progress.return_entry": {"POST": entry_of_the_navy(FORBIDDEN, OK)},  # a submitted entry, with a note
    "progress.reopen_entry": {"POST": entry_of_the_navy(FORBIDDEN, OK, others=FORBIDDEN)},  # approved: seen by all
    "progress.review_queue": {"GET": only(Role.committee), "POST": only(Role.committee)},
    "progress.cycles": {"GET": only(Role.reporter, Role.committee), "POST": only(Role.committee)},
    "progress.close_cycle": {"POST": only(Role.committee)},
    "progress.reopen_cycle": {"POST": only(Role.committee)},
    "progress.notifications_page": {"GET": logged_in()},
    "progress.mark_notifications_read": {"POST": logged_in()},
    "progress.bulk_template": {"GET": only(Role.reporter)},
    "progress.bulk_import": {"GET": only(Role.reporter), "POST": only(Role.reporter)},
    # The token names an upload kept in the uploader's own session: any other token is not found.
    "progress.bulk_import_confirm": {"POST": only(Role.reporter) | {Role.reporter.value: HIDDEN, OTHER_REPORTER: HIDDEN}},
    # Dashboards show approved data only.
    "dashboard.committee_dashboard": {"GET": logged_in()},
    "dashboard.pillar": {"GET": logged_in()},
    "dashboard.indicator": {"GET": logged_in()},
    "dashboard.reporter_home": {"GET": only(Role.reporter)},
    "dashboard.status_rules": {"GET": logged_in()},
    # Budget items go through the entry workflow; the compliance table and history show approved data.
    "budget.item": {"GET": only(Role.reporter), "POST": only(Role.reporter)},
    "budget.import_csv": {"POST": only(Role.reporter)},
    "budget.compliance": {"GET": logged_in()},
    "budget.history": {"GET": logged_in()},
    # Annual reports: approved data for the committee, viewers and admins; the committee validates and finalises.
    "reports.index": {"GET": only(Role.committee, Role.viewer, Role.admin)},
    "reports.download": {"GET": only(Role.committee, Role.viewer, Role.admin)},
    "reports.final": {"GET": only(Role.committee, Role.viewer, Role.admin)},
    "reports.save_validation": {"POST": only(Role.committee)},
    "reports.finalize": {"POST": only(Role.committee)},  # refused with a message here: no validation yet
}

# Form fields sent with the CSRF token, where an empty form would stop the request before the policy decides.
FORM_DATA: dict[str, dict[str, str]] = {
    "progress.return_entry": {"note": "Falta la fuente de los datos."},
    "progress.reopen_entry": {"reason": "Corrección de cifras."},
    "progress.reopen_cycle": {"reason": "Entrega tardía autorizada."},
}


@dataclass
class World:
    """Real rows whose ids fill the URL arguments, and the e-mail of each visitor."""

    samples: dict[str, object]
    emails: dict[str, str]
    overrides: dict[str, dict[str, object]] = field(default_factory=dict)

    def samples_for(self, endpoint: str) -> dict[str, object]:
        return self.samples | self.overrides.get(endpoint, {})


def _one(model, **by):
    return db.session.scalars(sa.select(model).filter_by(**by)).one()


def _navy_entries(app, reporter_id: int, committee_id: int) -> dict[str, int]:
    """MGP entries of the 2025 cycle, each in the state its workflow route needs, and one evidence file."""
    from tracker.auth.models import User

    with app.test_request_context():
        session = db.session
        plan = _one(pm.Plan, code="PE-2021")
        navy = _one(pm.Institution, code="MGP")
        cycle = ReportingCycle(plan_id=plan.id, year=YEAR, deadline=date.today() + timedelta(days=30), state=CycleState.open)
        session.add(cycle)
        session.flush()
        reporter, committee = session.get(User, reporter_id), session.get(User, committee_id)

        def indicator(code, submit=False):
            item = _one(pm.Indicator, plan_id=plan.id, code=code)
            return progress.save_entry(session, reporter, cycle, navy, item,
                                       progress.IndicatorInput(women=5, men=20, narrative="Despliegue"), submit=submit)

        def action(code, submit=False):
            item = _one(pm.Action, plan_id=plan.id, code=code)
            return progress.save_entry(session, reporter, cycle, navy, item,
                                       progress.ActionInput(action_status=ActionStatus.in_progress), submit=submit)

        draft = indicator("IND-PAR-2")
        (evidence,) = uploads.store_evidence(session, reporter, draft, [(PDF, "application/pdf", "informe.pdf")])
        to_withdraw, to_approve, to_return = action("PAR-1", True), action("PAR-2", True), action("PAR-3", True)
        approved = action("REC-4", True)
        progress.approve_entry(session, committee, approved)
        session.commit()
        ids = {"cycle": cycle.id, "draft": draft.id, "evidence": evidence.id, "withdraw": to_withdraw.id,
               "approve": to_approve.id, "return": to_return.id, "approved": approved.id}
    return ids


def _final_report(app, committee_id: int) -> int:
    """A stored final report file (JSON), as finalising the year would leave it."""
    import hashlib

    from tracker.reports import services as reports
    from tracker.reports.models import FinalReport

    data = b'{"report": "final"}'
    with app.test_request_context():
        plan = _one(pm.Plan, code="PE-2021")
        (reports.reports_folder() / "final-sample.json").write_bytes(data)
        row = FinalReport(plan_id=plan.id, year=YEAR, version=1, language="es", format="json", stored_name="final-sample.json",
                          size=len(data), sha256=hashlib.sha256(data).hexdigest(), finalized_by_id=committee_id)
        db.session.add(row)
        db.session.commit()
        return row.id


@pytest.fixture
def world(app, make_user, monkeypatch, tmp_path) -> World:
    monkeypatch.setitem(app.config, "UPLOAD_FOLDER", tmp_path)
    emails = {role.value: make_user(role)[1] for role in Role}
    reporter_id, _ = make_user(Role.reporter, email="navy-reporter@example.org", institution="MGP")
    committee_id, _ = make_user(Role.committee, email="committee-member@example.org")
    emails[OTHER_REPORTER] = make_user(Role.reporter, email="army-reporter@example.org", institution="EP")[1]
    target_id, _ = make_user(Role.reporter, email="target@example.org", institution="FAP")
    with app.app_context():
        institution_id = db.session.scalars(sa.select(pm.Institution.id).filter_by(code="MGP")).one()
    entries = _navy_entries(app, reporter_id, committee_id)
    samples = {
        "user_id": target_id,
        "institution_id": institution_id,
        "code": "PE-2021",
        "pillar_code": "PRE",
        "indicator_code": "IND-PAR-1",
        "lang": "es",
        "state": "on",
        "year": YEAR,
        "item_code": "IND-PAR-1",
        "entry_id": entries["draft"],
        "evidence_id": entries["evidence"],
        "cycle_id": entries["cycle"],
        "token": "0" * 32,
        "institution_code": "MGP",
        "fmt": "json",
        "report_id": _final_report(app, committee_id),
    }
    overrides = {
        "progress.action_entry": {"item_code": "PAR-2"},
        "progress.withdraw_entry": {"entry_id": entries["withdraw"]},
        "progress.approve_entry": {"entry_id": entries["approve"]},
        "progress.return_entry": {"entry_id": entries["return"]},
        "progress.reopen_entry": {"entry_id": entries["approved"]},
    }
    return World(samples, emails, overrides)


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
    missing = sorted(set(rule.arguments) - set(samples))
    assert not missing, f"no sample value for {missing} of {rule.endpoint} ({rule.rule}): add one to the world fixture"
    return app.url_map.bind("localhost").build(rule.endpoint, {a: samples[a] for a in rule.arguments})


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
    open_to_anonymous = {e for e, by_method in EXPECTED.items() if any(o[ANONYMOUS] != LOGIN for o in by_method.values())}
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


@pytest.mark.parametrize("who", WHO)
def test_every_route_answers_as_the_table_says(app, world, who):
    visitor = Visitor(app, who, world)
    csrf_message = csrf_refusal_text(app)
    mismatches = []
    checked = 0
    for rule, method in app_routes(app):
        expected = EXPECTED.get(rule.endpoint, {}).get(method, {}).get(who, "no decision in EXPECTED")
        url = build_url(app, rule, world.samples_for(rule.endpoint))
        got = classify(visitor.request(method, url, FORM_DATA.get(rule.endpoint)), method, csrf_message)
        checked += 1
        if got != expected:
            mismatches.append(f"{method} {url} ({rule.endpoint}): expected {expected}, got {got}")
        if rule.endpoint == "auth.logout" and who != ANONYMOUS:
            visitor.start()  # logging out worked: log in again for the next routes
    assert checked >= len(EXPECTED)
    assert not mismatches, f"{who}:\n  " + "\n  ".join(mismatches)


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
