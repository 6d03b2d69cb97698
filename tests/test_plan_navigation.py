"""Several plans in one instance: the plan switcher, each plan's own pages, the plan file's notes, inherited
pillars, reporting years within the plan's timeframe and the plan's own monitoring body (issue 14).

Beside Peru's real plan lives the tests' plan of a second country, tests/plans/chile-2022.yaml (conftest's `chile`;
NOT any real plan)."""

from __future__ import annotations

import html
import json
import re
from datetime import date, datetime, timezone
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa

from conftest import chile_plan_file, count_queries
from tracker.auth.models import Role
from tracker.db import db
from tracker.plan import models as pm
from tracker.plan.loader import import_plan
from tracker.progress.models import CycleState, Entry, EntryKind, EntryState, EntryVersion, ReportingCycle

EN = {"Accept-Language": "en"}
CL = "CL-2022"
CL_TITLES = ("Plan de prueba 1325 (modelado en Chile)", "Test plan 1325 (modelled on Chile)")
CL_BODY = "Intersectoral Roundtable 1325"  # the plan's monitoring body, in English
TARGETS_NOTE = "Target to be set at the annual review of the Intersectoral Roundtable 1325."
INDICATOR_NOTE = "Checked against the minutes of the session where the roundtable approves the report."

@pytest.fixture
def admin(login_as, chile):
    return login_as(Role.admin)


@pytest.fixture
def peru_member(login_as, chile):
    """A committee member of Peru's monitoring body only."""
    return login_as(Role.committee, plans=("PE-2021",))


@pytest.fixture
def chile_member(login_as, chile):
    return login_as(Role.committee, email="mesa@example.cl", institution=None, plans=(CL,))


def text(response, status: int = 200) -> str:
    assert response.status_code == status, response.get_data(as_text=True)[:400]
    return html.unescape(response.get_data(as_text=True))


def switcher(page: str) -> list[tuple[str, bool]]:
    """The plans the navigation's switcher lists, and whether each is marked current."""
    menu = re.search(r'<li class="nav-item dropdown plan-switcher">(.*?)</ul>', page, re.S)
    if menu is None:
        return []
    items = re.findall(r'<a class="dropdown-item[^"]*" href="/dashboard\?plan=([\w.-]+)"\s*(aria-current="true")?', menu.group(1))
    return [(code, bool(current)) for code, current in items]


def cycle(app, code: str, year: int) -> int:
    with app.app_context():
        plan = db.session.scalars(sa.select(pm.Plan).filter_by(code=code)).one()
        row = ReportingCycle(plan_id=plan.id, year=year, deadline=date(year + 1, 3, 31), state=CycleState.open)
        db.session.add(row)
        db.session.commit()
        return row.id


def years_stored(app, code: str) -> list[int]:
    with app.app_context():
        query = sa.select(ReportingCycle.year).join(pm.Plan).where(pm.Plan.code == code).order_by(ReportingCycle.year)
        return list(db.session.scalars(query))


# -- the plan switcher and the remembered plan ----------------------------------------------------


def test_the_switcher_lists_every_plan_an_admin_reads(admin):
    codes = [code for code, _ in switcher(text(admin.get("/plans/")))]
    assert sorted(codes) == [CL, "PE-2021"]


def test_a_peru_member_is_offered_only_perus_plan(peru_member):
    page = text(peru_member.get("/plans/"))
    assert switcher(page) == []  # a single plan: nothing to switch to
    assert f"plan={CL}" not in page and not any(title in page for title in CL_TITLES)
    assert "De la Aceptación a la Inclusión" in page
    assert peru_member.get(f"/dashboard?plan={CL}").status_code == 404


def test_a_member_of_both_bodies_is_offered_both_plans(login_as, chile):
    member = login_as(Role.committee, email="both@example.org", plans=("PE-2021", CL))
    assert sorted(code for code, _ in switcher(text(member.get("/plans/")))) == [CL, "PE-2021"]


def test_the_switcher_marks_the_plan_in_use(admin):
    assert (CL, True) in switcher(text(admin.get(f"/plans/{CL}")))
    on_the_index = switcher(text(admin.get("/plans/")))  # a page of no plan: the remembered one is marked
    assert dict(on_the_index) == {CL: True, "PE-2021": False}
    assert dict(switcher(text(admin.get("/plans/PE-2021")))) == {CL: False, "PE-2021": True}


def test_the_dashboard_menu_opens_the_plan_used_last(admin):
    page = text(admin.get(f"/plans/{CL}/pillars/COO", headers=EN))
    assert 'href="/dashboard">Dashboard</a>' in page  # the menu names no plan: the server remembers it
    assert f"{CL_TITLES[1]} · {CL}" in text(admin.get("/dashboard", headers=EN))
    admin.get("/plans/PE-2021/indicators/IND-PAR-2")
    assert "From Acceptance to Inclusion · PE-2021" in text(admin.get("/dashboard", headers=EN))
    admin.get(f"/dashboard?plan={CL}")  # the switcher's links remember too
    assert f"{CL_TITLES[1]} · {CL}" in text(admin.get("/dashboard", headers=EN))


def test_a_remembered_plan_the_user_may_no_longer_read_is_not_opened(app, admin, peru_member):
    peru_member.get("/plans/PE-2021")
    with peru_member.session_transaction() as flask_session:
        flask_session["plan"] = CL  # e.g. remembered before the member left Chile's body
    assert "PE-2021" in text(peru_member.get("/dashboard"))


# -- every plan's pages, linked ----------------------------------------------------------------------


def test_the_dashboard_header_links_to_the_plans_pages(app, chile_member):
    cycle(app, CL, 2024)
    page = text(chile_member.get(f"/dashboard?plan={CL}&year=2024"))
    for href in (f"/plans/{CL}", f"/reports?plan={CL}", f"/plans/{CL}/budget/2024/compliance", f"/plans/{CL}/cycles"):
        assert f'href="{href}"' in page
    assert chile_member.get(f"/plans/{CL}/budget/2024/compliance").status_code == 200
    assert chile_member.get(f"/plans/{CL}/cycles").status_code == 200
    assert f"plan={CL}" in text(chile_member.get(f"/reports?plan={CL}"))


def test_the_plan_index_links_each_plan_to_its_pages(app, admin):
    cycle(app, CL, 2023)
    page = text(admin.get("/plans/"))
    for href in (f"/dashboard?plan={CL}&year=2023", f"/reports?plan={CL}", f"/plans/{CL}/budget/2023/compliance",
                 "/dashboard?plan=PE-2021", "/reports?plan=PE-2021"):
        assert f'href="{href}"' in page
    assert "/budget/" not in page.split("PE-2021")[-1]  # Peru has no cycle yet: no year for its budget page
    assert "/cycles" not in page  # admins do not run reporting cycles


def test_the_reports_page_opens_the_remembered_plan(app, admin):
    cycle(app, CL, 2025)
    admin.get(f"/plans/{CL}")
    assert f"Report for 2025 · {CL}" in text(admin.get("/reports", headers=EN))


# -- texts from the plan file ------------------------------------------------------------------------


@pytest.mark.parametrize("where", ["plans", "dashboard"])
def test_an_indicator_page_shows_the_plan_files_notes_never_perus(admin, where):
    """IND-COO-1 has a note of its own; IND-REC-1 has no targets, so the plan's targets note stands in for them."""
    with_note = text(admin.get(f"/{where}/{CL}/indicators/IND-COO-1", headers=EN))
    without_targets = text(admin.get(f"/{where}/{CL}/indicators/IND-REC-1", headers=EN))
    assert INDICATOR_NOTE in with_note and TARGETS_NOTE in without_targets
    for page in (with_note, without_targets):
        assert "13-16" not in page and "13–16" not in page


def test_an_indicator_with_targets_shows_no_targets_note(admin):
    page = text(admin.get(f"/plans/{CL}/indicators/IND-PRO-1", headers=EN))
    assert TARGETS_NOTE not in page and "annual review" not in page and "No target set" not in page


def test_perus_note_comes_from_its_plan_file_and_a_neutral_sentence_without_one(app, admin):
    assert "pages 13-16" in text(admin.get("/plans/PE-2021/indicators/IND-PAR-2", headers=EN))
    with app.app_context():
        profile = db.session.scalars(sa.select(pm.PlanProfile).join(pm.Plan).filter(pm.Plan.code == "PE-2021")).one()
        profile.targets_note_es = profile.targets_note_en = ""
        db.session.commit()
    page = text(admin.get("/plans/PE-2021/indicators/IND-PAR-2", headers=EN))
    assert "No target set." in page and "13-16" not in page


# -- pillars inherited from the objective's ancestors -------------------------------------------------


def test_the_pillar_page_lists_indicators_of_nested_objectives(admin):
    page = text(admin.get(f"/plans/{CL}/pillars/PAR", headers=EN))  # OE-1.1 names no pillar; its parent OG-1 names PAR
    assert "IND-OE11" in page and "OE-1.1" in page
    assert "IND-OE11" not in text(admin.get(f"/plans/{CL}/pillars/COO", headers=EN))


def test_the_indicator_breadcrumb_names_the_inherited_pillar(admin):
    page = text(admin.get(f"/plans/{CL}/indicators/IND-OE11", headers=EN))
    breadcrumb = page.split('<ol class="breadcrumb">')[1].split("</ol>")[0]
    assert f'href="/plans/{CL}/pillars/PAR">Participation</a>' in breadcrumb


def test_the_review_queue_pillar_filter_matches_inherited_indicators(app, chile_member):
    cycle_id = cycle(app, CL, 2024)
    with app.app_context():
        indicator = db.session.scalars(sa.select(pm.Indicator).join(pm.Plan).where(
            pm.Plan.code == CL, pm.Indicator.code == "IND-OE11")).one()
        mindef = db.session.scalars(sa.select(pm.Institution).join(pm.Country).where(
            pm.Country.iso_code == "CL", pm.Institution.code == "MINDEF")).one()
        entry = Entry(cycle_id=cycle_id, institution_id=mindef.id, kind=EntryKind.indicator, indicator_id=indicator.id,
                      state=EntryState.submitted, version=1, value_bool=True,
                      submitted_at=datetime(2025, 1, 5, tzinfo=timezone.utc))
        db.session.add(entry)
        db.session.flush()
        db.session.add(EntryVersion(entry_id=entry.id, number=1, event="submit", state=EntryState.submitted,
                                    data=json.dumps(entry.snapshot(), default=str)))
        db.session.commit()
    assert "IND-OE11" in text(chile_member.get("/review?pillar=PAR"))
    assert "IND-OE11" not in text(chile_member.get("/review?pillar=COO"))


# -- reporting cycles within the plan's timeframe ------------------------------------------------------


def test_the_cycles_form_offers_only_the_plans_years(chile_member):
    page = text(chile_member.get(f"/plans/{CL}/cycles", headers=EN))
    offered = re.findall(r'<option[^>]*value="(\d{4})"', page)
    assert offered == [str(y) for y in range(2022, 2027)]
    assert "2022–2026" in page


def test_an_open_ended_plan_offers_its_years_from_adoption_to_next_year(peru_member):
    page = text(peru_member.get("/plans/PE-2021/cycles", headers=EN))
    offered = [int(y) for y in re.findall(r'<option[^>]*value="(\d{4})"', page)]
    assert offered == list(range(2021, datetime.now(ZoneInfo("America/Lima")).year + 2))  # up to next year in Peru
    assert "from 2021 on" in page


@pytest.mark.parametrize("year", ["2021", "2027"])
def test_a_year_outside_the_plans_timeframe_is_refused_with_its_reason(app, chile_member, year):
    response = chile_member.post_form(f"/plans/{CL}/cycles", {"year": year, "deadline": "2028-03-31"}, headers=EN)
    page = text(response)  # the form again, with the field's error
    assert re.search(r'<div class="invalid-feedback[^"]*">The plan\'s reporting years are 2022–2026\.</div>', page)
    assert years_stored(app, CL) == []


@pytest.mark.parametrize("year", ["", "abc", "99999"])
def test_a_year_that_is_no_year_is_refused(app, chile_member, year):
    page = text(chile_member.post_form(f"/plans/{CL}/cycles", {"year": year, "deadline": "2028-03-31"}, headers=EN))
    assert re.search(r'<div class="invalid-feedback[^"]*">Choose a year\.</div>', page)
    assert years_stored(app, CL) == []


def test_a_year_of_the_timeframe_opens_a_cycle(app, chile_member):
    response = chile_member.post_form(f"/plans/{CL}/cycles", {"year": "2026", "deadline": "2027-03-31"})
    assert response.status_code == 302
    assert years_stored(app, CL) == [2026]


# -- the plan's own monitoring body ------------------------------------------------------------------


def test_pages_name_the_plans_monitoring_body(app, admin):
    assert f"approved by the monitoring body ({CL_BODY})" in text(admin.get(f"/dashboard?plan={CL}", headers=EN))
    peru = text(admin.get("/dashboard?plan=PE-2021", headers=EN))
    assert "approved by the monitoring body (Gender Equality Committee of the Ministry of Defense)" in peru
    assert CL_BODY in text(admin.get(f"/plans/{CL}", headers=EN))


def test_a_plan_without_a_monitoring_body_gets_the_generic_wording(app, admin):
    with app.app_context():
        for body in db.session.scalars(sa.select(pm.MonitoringBody).join(pm.Plan).where(pm.Plan.code == CL)):
            body.active = False
        db.session.commit()
    page = text(admin.get(f"/dashboard?plan={CL}", headers=EN))
    assert "Only data approved by the monitoring body is counted." in page and "Gender Equality Committee" not in page


def test_a_reporter_without_a_cycle_is_told_which_body_opens_one(login_as, chile):
    reporter = login_as(Role.reporter, email="mmeg@example.cl", institution="CL:MMEG")
    page = text(reporter.get("/report", headers=EN, follow_redirects=True))
    assert f"It is opened once a year by the monitoring body ({CL_BODY})." in page
    assert "Gender Equality Committee" not in page


# -- constant queries ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "peru_url, chile_url",
    [
        ("/plans/PE-2021", f"/plans/{CL}"),
        ("/plans/PE-2021/pillars/PAR", f"/plans/{CL}/pillars/PAR"),  # pillars with actions
        ("/plans/PE-2021/pillars/PRO", f"/plans/{CL}/pillars/REC"),  # without
        ("/plans/PE-2021/indicators/IND-OE1-1", f"/plans/{CL}/indicators/IND-OE11"),  # both inherit through an objective
        ("/plans/PE-2021/indicators/IND-PAR-2", f"/plans/{CL}/indicators/IND-PRO-1"),
        ("/dashboard?plan=PE-2021", f"/dashboard?plan={CL}"),
        ("/dashboard/PE-2021/indicators/IND-PAR-2", f"/dashboard/{CL}/indicators/IND-PRO-1"),
    ],
)
def test_plan_pages_cost_the_same_queries_for_either_plan(app, admin, peru_url, chile_url):
    def queries_for(url: str) -> int:
        admin.get(url)  # warm caches; the plan is now the remembered one
        with count_queries(db.engine) as statements:
            assert admin.get(url).status_code == 200
        return len(statements)

    assert queries_for(peru_url) == queries_for(chile_url)


@pytest.mark.parametrize("role", [Role.admin, Role.committee, Role.viewer, Role.reporter])
def test_the_plan_index_costs_the_same_queries_with_more_plans(app, login_as, peru, role):
    client = login_as(role)

    def queries() -> int:
        client.get("/plans/")
        with count_queries(db.engine) as statements:
            assert client.get("/plans/").status_code == 200
        return len(statements)

    alone = queries()
    with app.app_context():
        import_plan(db.session, chile_plan_file())
        db.session.commit()
    assert queries() == alone


def test_the_switcher_costs_no_query_for_visitors(client, peru):
    with count_queries(db.engine) as statements:
        page = text(client.get("/login"))
    assert "plan-switcher" not in page
    assert not [s for s in statements if "FROM plan" in s]
