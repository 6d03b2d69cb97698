"""Two countries in one instance (issue 14): Peru's seed plan beside a test plan modelled on Chile.

Neither country's committee, reporters or limited viewers see, review or change the other's plan, and
Chile's pages are never described in Peru's terms (soles, PIA/PIM, the spending portal, Peru's committee,
Peru's "pages 13-16"). Requests go through the test client; outcomes are checked in the stored rows.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

import pytest
import sqlalchemy as sa
import yaml

from conftest import CHILE_FILE, Client
from tracker.auth.models import Role, User
from tracker.db import db
from tracker.plan import models as pm
from tracker.plan.export import export_plan
from tracker.plan.loader import read_plan_file, validate_plan_data
from tracker.progress import services as progress
from tracker.progress.models import ActionStatus, CycleState, Entry, EntryState, ReportingCycle
from tracker.review import steps

YEAR = 2024
PE, CL = "PE-2021", "CL-2022"
# Peru's vocabulary, which must never describe Chile's plan (as words, not inside other words).
PERU_TERMS = [r"\bS/", r"\bsoles\b", r"\bPIA\b", r"\bPIM\b", r"Consulta Amigable", r"13-16",
              r"Comité de Igualdad de Género", r"Gender Equality Committee"]


# -- the second country (conftest's `chile` fixture imports it beside Peru's) ------------------------


def _one(model, **by):
    return db.session.scalars(sa.select(model).filter_by(**by)).one()


def _institution(country: str, code: str) -> pm.Institution:
    return db.session.scalars(
        sa.select(pm.Institution).join(pm.Country).where(pm.Country.iso_code == country, pm.Institution.code == code)
    ).one()


def test_chile_plan_validates_and_round_trips(app, chile):
    """import -> export -> the exported file validates to the very file we wrote."""
    written = read_plan_file(CHILE_FILE)
    with app.app_context():
        exported = export_plan(db.session, CL)
    again = validate_plan_data(yaml.safe_load(exported), "exported CL-2022")
    assert again == written
    assert {i.code for i in again.institutions} == {"MINREL", "MINDEF", "MININTER", "MMEG", "EMCO", "CECOPAC"}


def test_chile_plan_is_its_own_country(app, chile):
    """Codes shared with Peru (MININTER, MINDEF, PRE-1, PAR...) are separate rows of Chile's plan and country."""
    with app.app_context():
        plan = _one(pm.Plan, code=CL)
        assert (plan.country.iso_code, plan.country.timezone, plan.country.currency, plan.country.locale) == (
            "CL", "America/Santiago", "CLP", "es_CL")
        assert (plan.start_year, plan.end_year) == (2022, 2026)
        assert _institution("CL", "MININTER").id != _institution("PE", "MININTER").id
        assert [p.code for p in plan.pillars] == ["PAR", "PRE", "PRO", "REC", "COO"]
        assert plan.pillars[-1].kind == pm.PillarKind.other
        assert plan.profile.budget_profile == pm.BudgetProfile.generic
        binds = db.session.scalars(sa.select(pm.BudgetBinding.institution_id).filter_by(plan_id=plan.id)).all()
        assert sorted(binds) == sorted([_institution("CL", "MINDEF").id, _institution("CL", "MMEG").id])
        assert [(b.code, b.name_es, b.active) for b in plan.bodies] == [("MESA-1325", "Mesa Intersectorial 1325", True)]
        indicators = db.session.scalars(sa.select(pm.Indicator).filter_by(plan_id=plan.id))
        measures = {i.code: (i.measure, i.direction) for i in indicators}
        assert measures["PRE-1"] == (pm.Measure.percentage, pm.Direction.maintain)
        assert measures["IND-PRO-1"] == (pm.Measure.number, pm.Direction.decrease)
        assert measures["IND-REC-1"][0] == pm.Measure.qualitative and measures["IND-COO-1"][0] == pm.Measure.yes_no


# -- the people and the entries of both countries -------------------------------------------------


@dataclass
class TwoCountries:
    """Clients of both countries' people, and each plan's cycle and entries (ids)."""

    clients: dict[str, Client]
    users: dict[str, int]
    cycles: dict[str, int]
    submitted: dict[str, list[int]]  # plan -> two submitted entries
    approved: dict[str, int]  # plan -> an approved entry


PEOPLE = {
    # name: (role, institution, plans, e-mail)
    "pe_committee": (Role.committee, "default", (PE,), "comite-pe@example.org"),  # Peru's CIG-MINDEF
    "cl_committee": (Role.committee, None, (CL,), "mesa-cl@example.org"),
    "pe_mininter": (Role.reporter, "PE:MININTER", (), "mininter-pe@example.org"),
    "cl_mininter": (Role.reporter, "CL:MININTER", (), "mininter-cl@example.org"),
    "cl_mindef": (Role.reporter, "CL:MINDEF", (), "mindef-cl@example.org"),
    "pe_navy": (Role.reporter, "PE:MGP", (), "marina-pe@example.org"),
    "cl_viewer": (Role.viewer, None, (CL,), "lector-cl@example.org"),
    "admin": (Role.admin, None, (), "admin@example.org"),
}


def _login(app, email: str) -> Client:
    client = Client(app.test_client())
    assert client.login(email).status_code == 302
    return client


def _cycle(plan_code: str) -> int:
    plan = _one(pm.Plan, code=plan_code)
    cycle = ReportingCycle(plan_id=plan.id, year=YEAR, deadline=date.today() + timedelta(days=30), state=CycleState.open)
    db.session.add(cycle)
    db.session.flush()
    return cycle.id


def _entries(plan_code: str, country: str, reporter_id: int, reviewer_id: int, institution: str,
             actions: tuple[str, str], approved_action: str) -> tuple[list[int], int]:
    """Two submitted action entries and an approved one of the institution, in the plan's cycle."""
    plan = _one(pm.Plan, code=plan_code)
    cycle = _one(ReportingCycle, plan_id=plan.id, year=YEAR)
    reporter, reviewer = db.session.get(User, reporter_id), db.session.get(User, reviewer_id)
    inst = _institution(country, institution)

    def submit(code: str) -> Entry:
        action = _one(pm.Action, plan_id=plan.id, code=code)
        return progress.save_entry(db.session, reporter, cycle, inst, action,
                                   progress.ActionInput(action_status=ActionStatus.in_progress), submit=True)

    submitted = [submit(code).id for code in actions]
    approved = steps.take_step(db.session, reviewer, submit(approved_action), "approve")
    return submitted, approved.id


@pytest.fixture
def two(app, chile, make_user) -> TwoCountries:
    users = {}
    for name, (role, institution, plans, email) in PEOPLE.items():
        users[name] = make_user(role, email=email, institution=institution, plans=plans)[0]
    with app.test_request_context():
        cycles = {PE: _cycle(PE), CL: _cycle(CL)}
        pe_sub, pe_ok = _entries(PE, "PE", users["pe_navy"], users["pe_committee"], "MGP", ("PAR-1", "PAR-2"), "REC-4")
        cl_sub, cl_ok = _entries(CL, "CL", users["cl_mininter"], users["cl_committee"], "MININTER", ("PRE-1", "PRO-1"), "COO-1")
        db.session.commit()
    clients = {name: _login(app, PEOPLE[name][3]) for name in PEOPLE}
    return TwoCountries(clients, users, cycles, {PE: pe_sub, CL: cl_sub}, {PE: pe_ok, CL: cl_ok})


def _state(entry_id: int) -> tuple[EntryState, int, str]:
    entry = db.session.get(Entry, entry_id)
    db.session.refresh(entry)
    return entry.state, entry.version, entry.review_note


def _text(response) -> str:
    return html.unescape(response.get_data(as_text=True))


# -- committees: each reviews its own plan only ---------------------------------------------------

SIDES = [pytest.param("cl_committee", PE, id="chile-committee-on-peru"),
         pytest.param("pe_committee", CL, id="peru-committee-on-chile")]


@pytest.mark.parametrize("who, other", SIDES)
def test_committee_gets_404_on_the_other_plans_pages(two, who, other):
    c = two.clients[who]
    for url in (f"/plans/{other}", f"/plans/{other}/pillars/PAR", f"/dashboard?plan={other}", f"/dashboard/{other}/pillars/PAR",
                f"/dashboard/{other}/indicators/PRE-1", f"/reports/{other}/{YEAR}.json", f"/reports/{other}/{YEAR}.csv",
                f"/plans/{other}/cycles", f"/plans/{other}/report/{YEAR}", f"/plans/{other}/budget/{YEAR}/compliance",
                f"/plans/{other}/budget/institutions/MININTER"):
        assert c.get(url).status_code == 404, url


@pytest.mark.parametrize("who, other", SIDES)
def test_committee_cannot_open_or_change_the_other_plans_cycles(app, two, who, other):
    c = two.clients[who]
    token = c.csrf_token("/review")
    opening = {"csrf_token": token, "year": "2026", "deadline": "2027-03-31"}
    assert c.post(f"/plans/{other}/cycles", data=opening).status_code == 404
    assert c.post(f"/cycles/{two.cycles[other]}/close", data={"csrf_token": token}).status_code == 404
    with app.app_context():
        cycles = db.session.scalars(sa.select(ReportingCycle).join(pm.Plan).where(pm.Plan.code == other)).all()
        assert [(cy.year, cy.state) for cy in cycles] == [(YEAR, CycleState.open)]
        db.session.get(ReportingCycle, two.cycles[other]).state = CycleState.closed
        db.session.commit()
    assert c.post(f"/cycles/{two.cycles[other]}/reopen", data={"csrf_token": token, "reason": "Prórroga"}).status_code == 404
    with app.app_context():
        assert db.session.get(ReportingCycle, two.cycles[other]).state == CycleState.closed


@pytest.mark.parametrize("who, other", SIDES)
def test_committee_cannot_review_the_other_plans_entries(app, two, who, other):
    c = two.clients[who]
    token = c.csrf_token("/review")
    to_approve, to_return = two.submitted[other]
    with app.app_context():
        before = {i: _state(i) for i in (to_approve, to_return, two.approved[other])}
    assert c.get(f"/entries/{to_approve}").status_code == 404
    assert c.get(f"/entries/{two.approved[other]}").status_code == 404
    assert c.post(f"/entries/{to_approve}/approve", data={"csrf_token": token}).status_code == 404
    assert c.post(f"/entries/{to_return}/return", data={"csrf_token": token, "note": "Falta la fuente"}).status_code == 404
    reopening = {"csrf_token": token, "reason": "Cifra corregida"}
    assert c.post(f"/entries/{two.approved[other]}/reopen", data=reopening).status_code == 404
    bulk = c.post("/review", data={"csrf_token": token, "decision": "approve", "scope": "selected",
                                   "entry_ids": [to_approve, to_return], f"seen-{to_approve}": "99"})
    # The other plan's entries are not even looked at: no word on their versions or states gives them away.
    assert bulk.status_code == 302 and "Seleccione al menos un registro." in _text(c.get(bulk.headers["Location"]))
    with app.app_context():
        assert {i: _state(i) for i in before} == before
        assert before[to_approve][0] == EntryState.submitted and before[two.approved[other]][0] == EntryState.approved


@pytest.mark.parametrize("who, own, other", [("cl_committee", CL, PE), ("pe_committee", PE, CL)])
def test_review_queue_lists_only_the_members_plan(two, who, own, other):
    c = two.clients[who]
    for url in ("/review", f"/review?plan={other}", "/review?state="):
        page = _text(c.get(url))
        for entry_id in two.submitted[other] + [two.approved[other]]:
            assert f"/entries/{entry_id}\"" not in page, url
        for entry_id in two.submitted[own]:
            assert f"/entries/{entry_id}\"" in page, url
    assert other not in _text(c.get("/review"))


@pytest.mark.parametrize("who, own", [("cl_committee", CL), ("pe_committee", PE)])
def test_committee_still_reviews_its_own_plan(app, two, who, own):
    """The control: the same requests work on one's own plan."""
    c = two.clients[who]
    token = c.csrf_token("/review")
    to_approve, to_return = two.submitted[own]
    assert c.post(f"/entries/{to_approve}/approve", data={"csrf_token": token}).status_code == 302
    assert c.post(f"/entries/{to_return}/return", data={"csrf_token": token, "note": "Falta la fuente"}).status_code == 302
    assert c.post(f"/plans/{own}/cycles", data={"csrf_token": token, "year": "2025", "deadline": "2026-03-31"}).status_code == 302
    with app.app_context():
        assert _state(to_approve)[0] == EntryState.approved and _state(to_return)[0] == EntryState.returned
        plan = _one(pm.Plan, code=own)
        assert progress.get_cycle(db.session, plan, 2025) is not None


# -- reporters: their institution, in their country -----------------------------------------------


def _listed_plans(client: Client) -> set[str]:
    page = _text(client.get("/plans/"))
    return set(re.findall(r'href="/plans/([A-Z]{2}-\d{4})"', page))


@pytest.mark.parametrize("who, listed", [("cl_mininter", {CL}), ("pe_mininter", {PE}), ("cl_viewer", {CL}),
                                          ("cl_committee", {CL}), ("pe_committee", {PE}), ("admin", {PE, CL})])
def test_plans_list_shows_only_readable_plans(two, who, listed):
    assert _listed_plans(two.clients[who]) == listed


@pytest.mark.parametrize("who, readable", [("cl_mininter", {CL}), ("pe_mininter", {PE}), ("cl_viewer", {CL}),
                                            ("cl_committee", {CL}), ("pe_committee", {PE}), ("admin", None)])
def test_policy_names_the_plans_each_may_read(app, two, who, readable):
    """visible_plan_ids, for callers that filter queries by it: None (every plan) is for admins only here."""
    from tracker.permissions import visible_plan_ids

    with app.test_request_context():
        ids = visible_plan_ids(db.session.get(User, two.users[who]))
        codes = None if ids is None else {db.session.get(pm.Plan, i).code for i in ids}
    assert codes == readable


@pytest.mark.parametrize("who, other, own_country", [("cl_mininter", PE, "CL"), ("pe_mininter", CL, "PE")])
def test_reporter_cannot_reach_the_other_countrys_worklist_or_entries(app, two, who, other, own_country):
    """Both plans have PRE-1 and PAR-1, both countries a MININTER: still nothing of the other plan answers."""
    c = two.clients[who]
    token = c.csrf_token("/account/password")
    for url in (f"/plans/{other}", f"/plans/{other}/report/{YEAR}", f"/plans/{other}/report/{YEAR}/indicators/PRE-1",
                f"/plans/{other}/report/{YEAR}/actions/PAR-1", f"/plans/{other}/report/{YEAR}/template.xlsx",
                f"/plans/{other}/cycles", f"/plans/{other}/budget/{YEAR}", f"/dashboard?plan={other}",
                f"/entries/{two.submitted[other][0]}", f"/entries/{two.approved[other]}"):
        assert c.get(url).status_code == 404, url
    data = {"csrf_token": token, "women": "1", "men": "1", "numerator": "1", "denominator": "2", "save": "1"}
    assert c.post(f"/plans/{other}/report/{YEAR}/indicators/PRE-1", data=data).status_code == 404
    assert c.post(f"/plans/{other}/report/{YEAR}/actions/PAR-1", data={**data, "action_status": "completed"}).status_code == 404
    assert c.post(f"/entries/{two.submitted[other][0]}/withdraw", data={"csrf_token": token}).status_code == 404
    with app.app_context():
        assert _state(two.submitted[other][0])[0] == EntryState.submitted
        mine = _institution(own_country, "MININTER").id
        assert db.session.scalars(sa.select(Entry.id).filter_by(cycle_id=two.cycles[other], institution_id=mine)).all() == []


def test_reporters_of_same_coded_institutions_save_to_their_own(app, two):
    """MININTER of Chile and MININTER of Peru report on PRE-1 (a code both plans use): each entry lands on
    its own institution, indicator and cycle, and neither reporter sees the other's draft."""
    with app.app_context():  # Peru's PRE-1 names MINDEF only: give Peru's MININTER a share of it for this test
        indicator = _one(pm.Indicator, plan_id=_one(pm.Plan, code=PE).id, code="PRE-1")
        db.session.add(pm.IndicatorInstitution(indicator_id=indicator.id, institution_id=_institution("PE", "MININTER").id,
                                               role=pm.ResponsibilityRole.support, verification=pm.Verification.derived))
        db.session.commit()
    cl, pe = two.clients["cl_mininter"], two.clients["pe_mininter"]
    cl_url, pe_url = f"/plans/{CL}/report/{YEAR}/indicators/PRE-1", f"/plans/{PE}/report/{YEAR}/indicators/PRE-1"
    assert cl.post_form(cl_url, {"numerator": "45", "denominator": "50", "save": "1"}).status_code == 302
    assert pe.post_form(pe_url, {"women": "3", "men": "4", "save": "1"}).status_code == 302
    with app.app_context():
        saved = db.session.execute(
            sa.select(pm.Country.iso_code, Entry.institution_id, Entry.cycle_id, pm.Indicator.plan_id, Entry.id, Entry.value)
            .select_from(Entry).join(pm.Indicator, pm.Indicator.id == Entry.indicator_id).join(pm.Plan).join(pm.Country)
            .where(pm.Indicator.code == "PRE-1")
        ).all()
        by_country = {row[0]: row for row in saved}
        assert set(by_country) == {"CL", "PE"} and len(saved) == 2
        assert by_country["CL"][1:4] == (_institution("CL", "MININTER").id, two.cycles[CL], _one(pm.Plan, code=CL).id)
        assert by_country["PE"][1:4] == (_institution("PE", "MININTER").id, two.cycles[PE], _one(pm.Plan, code=PE).id)
        assert by_country["CL"][5] == Decimal(90) and by_country["PE"][5] == Decimal(7)
    assert cl.get(f"/entries/{by_country['PE'][4]}").status_code == 404
    assert pe.get(f"/entries/{by_country['CL'][4]}").status_code == 404
    assert cl.get(f"/entries/{by_country['CL'][4]}").status_code == 200


def test_reporter_worklist_is_its_countrys(two):
    page = _text(two.clients["cl_mininter"].get(f"/plans/{CL}/report/{YEAR}"))
    for code in ("PRE-1", "IND-PRO-1", "PRO-1", "COO-1"):
        assert code in page
    for peru_only in ("IND-OE1-1", "REC-4", "PE-2021"):
        assert peru_only not in page
    start = two.clients["cl_mininter"].get("/report")
    assert start.status_code == 302 and start.headers["Location"].endswith(f"/plans/{CL}/report/{YEAR}")


# -- viewers limited to a plan --------------------------------------------------------------------


def test_viewer_limited_to_chile_sees_only_chile(two):
    c = two.clients["cl_viewer"]
    for url in (f"/plans/{PE}", f"/dashboard?plan={PE}", f"/dashboard/{PE}/pillars/PAR", f"/reports/{PE}/{YEAR}.json",
                f"/plans/{PE}/budget/{YEAR}/compliance", f"/entries/{two.approved[PE]}"):
        assert c.get(url).status_code == 404, url
    for url in (f"/plans/{CL}", f"/dashboard?plan={CL}", f"/reports/{CL}/{YEAR}.json", f"/entries/{two.approved[CL]}"):
        assert c.get(url).status_code == 200, url
    reports = _text(c.get("/reports"))
    assert CL in reports and PE not in reports


def test_chile_users_never_meet_perus_plan(two):
    """No page a Chilean user opens names Peru's plan (navigation, plan switcher, filters)."""
    extra = {"cl_committee": ("/review", f"/review?plan={PE}", f"/reports?plan={PE}", f"/plans/{CL}/cycles"),
             "cl_mininter": ("/home", "/report", f"/plans/{CL}/cycles"), "cl_viewer": (f"/reports?plan={PE}",)}
    for who in ("cl_committee", "cl_mininter", "cl_viewer"):
        c = two.clients[who]
        for url in ("/", "/plans/", f"/plans/{CL}", "/dashboard", "/notifications", *extra[who]):
            response = c.get(url, follow_redirects=True)
            assert response.status_code == 200, (who, url)
            assert PE not in _text(response).replace(url, ""), (who, url)  # the language switcher echoes the URL


# -- Chile's pages in Chile's terms ---------------------------------------------------------------


def _visible(page: str) -> str:
    """The page without hidden inputs and nonces (random tokens could contain anything)."""
    page = re.sub(r"<input[^>]*type=\"hidden\"[^>]*>", "", page)
    return re.sub(r'nonce="[^"]*"', "", page)


def _peru_terms(page: str) -> list[str]:
    text = _visible(page)
    return [term for term in PERU_TERMS if re.search(term, text, flags=re.IGNORECASE if "soles" in term else 0)]


def _chile_pages(two) -> dict[str, tuple[str, str]]:
    """url -> who opens it."""
    return {
        f"/plans/{CL}": "cl_committee",
        f"/plans/{CL}/pillars/COO": "cl_committee",
        f"/plans/{CL}/indicators/IND-REC-1": "cl_committee",
        f"/plans/{CL}/indicators/IND-COO-1": "cl_committee",
        f"/dashboard?plan={CL}&year={YEAR}": "cl_committee",
        f"/dashboard/{CL}/pillars/PAR?year={YEAR}": "cl_committee",
        f"/dashboard/{CL}/indicators/IND-PRO-1": "cl_committee",
        f"/plans/{CL}/budget/{YEAR}/compliance": "cl_committee",
        f"/plans/{CL}/budget/institutions/MINDEF": "cl_committee",
        f"/plans/{CL}/cycles": "cl_committee",
        "/review": "cl_committee",
        f"/reports?plan={CL}": "cl_committee",
        f"/plans/{CL}/report/{YEAR}": "cl_mininter",
        f"/plans/{CL}/report/{YEAR}/indicators/PRE-1": "cl_mininter",
        f"/plans/{CL}/budget/{YEAR}": "cl_mindef",
        "/home": "cl_mindef",
        f"/entries/{two.approved[CL]}": "cl_viewer",
    }


@pytest.mark.parametrize("language", ["es", "en"])
def test_chile_pages_are_not_described_in_perus_terms(two, language):
    found = {}
    for who in ("cl_committee", "cl_mininter", "cl_mindef", "cl_viewer"):
        c = two.clients[who]
        c.post_form(f"/language/{language}", token_from="/account/password")
    for url, who in _chile_pages(two).items():
        response = two.clients[who].get(url)
        assert response.status_code == 200, (url, who, response.status_code)
        terms = _peru_terms(_text(response))
        if terms:
            found[url] = terms
    assert not found, f"Peru's terms on Chile's pages ({language}): {found}"


def test_chile_report_is_not_described_in_perus_terms(two):
    for language in ("es", "en"):
        response = two.clients["cl_committee"].get(f"/reports/{CL}/{YEAR}.json?lang={language}")
        assert response.status_code == 200
        assert _peru_terms(response.get_data(as_text=True)) == [], language


def test_perus_pages_keep_perus_terms(two):
    """The control for the test above: the same check does find Peru's budget vocabulary on Peru's pages."""
    page = _text(two.clients["pe_committee"].get(f"/plans/{PE}/budget/{YEAR}/compliance"))
    assert r"\bPIA\b" in _peru_terms(page)


def test_chile_notes_come_from_its_plan_file(two):
    """Where an indicator has no target, Chile's own note is shown; an indicator's note is shown on its page."""
    c = two.clients["cl_committee"]
    no_targets = _text(c.get(f"/plans/{CL}/indicators/IND-REC-1"))
    assert "Meta por definir en la revisión anual de la Mesa Intersectorial 1325." in no_targets
    with_note = _text(c.get(f"/plans/{CL}/indicators/IND-COO-1"))
    assert "Se verifica con el acta de la sesión en que la Mesa aprueba el informe." in with_note


# -- nested objectives ----------------------------------------------------------------------------


def _pillar_codes(page: str) -> set[str]:
    return set(re.findall(r"/indicators/([A-Z0-9.\-]+)\"", page))


def test_indicator_of_a_child_objective_shows_under_the_parents_pillar(two):
    """IND-OE11 hangs from OE-1.1, which names no pillar; its parent OG-1 names PAR."""
    c = two.clients["cl_committee"]
    participation = _text(c.get(f"/dashboard/{CL}/pillars/PAR?year={YEAR}"))
    assert "IND-OE11" in _pillar_codes(participation)
    for other in ("PRE", "PRO", "REC", "COO"):
        assert "IND-OE11" not in _pillar_codes(_text(c.get(f"/dashboard/{CL}/pillars/{other}?year={YEAR}"))), other
    dashboard = _text(c.get(f"/dashboard?plan={CL}&year={YEAR}"))
    assert "Not linked to a pillar" not in dashboard and "Sin eje asociado" not in dashboard


def test_plan_pillar_page_lists_the_child_objectives_indicator(two):
    """The plan's own pillar page follows the same inheritance as the dashboard."""
    page = _text(two.clients["cl_committee"].get(f"/plans/{CL}/pillars/PAR"))
    assert "IND-OE11" in page
