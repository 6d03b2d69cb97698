"""Dashboards show the numbers the status engine computes from approved data, in constant queries."""

from __future__ import annotations

from decimal import Decimal

import pytest
import sqlalchemy as sa

from conftest import count_queries
from test_progress import BASE, YEAR, _entry, _save, committee, cycle, navy  # noqa: F401
from tracker.auth.models import Role
from tracker.dashboard import services
from tracker.db import db
from tracker.demo import Size, generate, seed_peru_demo
from tracker.plan import models as pm
from tracker.status import Performance


def _approve(app, committee, code):
    entry_id = _entry(app, code).id
    committee.post_form(f"/entries/{entry_id}/approve", token_from=f"/entries/{entry_id}")


def _dashboard(app, **kw):
    with app.test_request_context():
        plan = db.session.scalars(sa.select(pm.Plan).filter_by(code="PE-2021")).one()
        return services.build_dashboard(db.session, plan, YEAR, **kw)


def test_pillar_measures_change_only_with_approved_data(app, navy, committee):
    before = _dashboard(app)
    par = next(c for c in before.cards if c.pillar and c.pillar.code == "PAR")
    assert (par.completion.actions_total, par.completion.actions_done, par.completion.actions_share) == (3, 0, Decimal(0))
    _save(navy, "PAR-1", {"action_status": "completed"}, send=True, kind="actions")
    _save(navy, "PAR-2", {"action_status": "ongoing"}, send=True, kind="actions")
    assert next(c for c in _dashboard(app).cards if c.pillar and c.pillar.code == "PAR").completion.actions_done == 0
    _approve(app, committee, "PAR-1")
    _approve(app, committee, "PAR-2")
    par = next(c for c in _dashboard(app).cards if c.pillar and c.pillar.code == "PAR")
    assert (par.completion.actions_done, par.completion.actions_reported) == (2, 2)
    assert par.completion.actions_share == Decimal(2) / Decimal(3)


def test_pillar_without_actions(app, committee):
    prot = next(c for c in _dashboard(app).cards if c.pillar and c.pillar.code == "PRO")
    assert not prot.completion.has_actions and prot.completion.actions_share is None
    page = committee.get(f"/dashboard?year={YEAR}", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "No actions recorded" in page


def test_dashboard_page_shows_engine_numbers(app, navy, committee):
    _save(navy, "PAR-1", {"action_status": "completed"}, send=True, kind="actions")
    _save(navy, "IND-PAR-2", {"women": "26", "men": "179"}, send=True)
    _approve(app, committee, "PAR-1")
    _approve(app, committee, "IND-PAR-2")
    d = _dashboard(app)
    par = next(c for c in d.cards if c.pillar and c.pillar.code == "PAR")
    page = committee.get(f"/dashboard?year={YEAR}", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert f"<strong>{round(par.completion.actions_share * 100)}%</strong>" in page  # 33%
    assert "12.7%" in page or "13%" in page  # women's share 26/205
    women = next(r for r in d.women if r.indicator.code == "IND-PAR-2")
    assert women.result.actual.women == 26 and women.result.performance == Performance.no_target


def test_completeness_table(app, navy, committee):
    _save(navy, "PAR-1", {"action_status": "completed"}, send=True, kind="actions")
    row = next(r for r in _dashboard(app).institutions if r.institution.code == "MGP")
    assert (row.completeness.submitted, row.completeness.on_time, row.completeness.approved) == (1, 1, 0)
    assert row.completeness.assigned == 9


def test_institution_and_pillar_filters(app, navy, committee):
    d = _dashboard(app, institution_id=_institution_id(app, "EP"), pillar_code="REC")
    assert [c.pillar.code for c in d.cards] == ["REC"]
    assert [a.action.code for a in d.cards[0].actions] == ["REC-4"]
    page = committee.get(f"/dashboard?year={YEAR}&institution=EP&pillar=REC")
    assert page.status_code == 200
    assert committee.get(f"/dashboard?year={YEAR}&institution=NOPE").status_code == 404


def _institution_id(app, code):
    with app.app_context():
        return db.session.scalar(sa.select(pm.Institution.id).filter_by(code=code))


def test_demo_data_is_labelled(app, login_as):
    committee = login_as(Role.committee)
    with app.app_context():
        assert seed_peru_demo(db.session) == 14
        db.session.commit()
    page = committee.get("/dashboard?year=2024", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "demonstration entries: they are not official data" in page
    assert "2022" in page and "2023" in page  # the trend lists the demo years


def test_drill_down_pages(app, committee):
    assert committee.get(f"/dashboard/PE-2021/pillars/PAR?year={YEAR}").status_code == 200
    assert committee.get("/dashboard/PE-2021/pillars/XX").status_code == 404
    page = committee.get("/dashboard/PE-2021/indicators/IND-PAR-2").get_data(as_text=True)
    assert str(YEAR) in page
    assert committee.get("/dashboard/PE-2021/indicators/NOPE").status_code == 404


def test_charts_are_accessible_svg(app, committee):
    page = committee.get(f"/dashboard?year={YEAR}").get_data(as_text=True)
    assert '<svg xmlns="http://www.w3.org/2000/svg"' in page and 'role="img"' in page
    assert "<title id=" in page and "<desc id=" in page
    assert "<script" not in page.split("<main")[1].split("</main>")[0]


def test_reporter_home(app, navy):
    page = navy.get("/", follow_redirects=True).get_data(as_text=True)
    assert "Marina de Guerra del Perú" in page and "IND-PAR-2" in page
    # What is due links to its form (issue 16).
    assert f'href="/plans/PE-2021/report/{YEAR}/indicators/IND-PAR-2"' in page


def test_status_rules_page_in_both_languages(committee):
    assert "Ejemplo resuelto" in committee.get("/help/status-rules").get_data(as_text=True)
    assert "Worked example" in committee.get("/help/status-rules", headers={"Accept-Language": "en"}).get_data(as_text=True)


@pytest.mark.parametrize(
    "url",
    [
        "/dashboard?plan={plan}&year=2021",
        "/dashboard?plan={plan}&year=2021&institution=INST-01&pillar=P1",
        "/dashboard/{plan}/pillars/P1?year=2021",
        "/dashboard/{plan}/indicators/I1-1-1",
        "/review?year=2021&state=",
        "/plans/{plan}",
        "/plans/{plan}/pillars/P1",
    ],
)
def test_pages_run_a_constant_number_of_queries(app, login_as, url):
    """A small plan (DEMO-001) and one ten times larger (DEMO-002) cost the same number of queries, for a
    member of both plans' monitoring bodies (who also has Peru's: the plan switcher lists three plans)."""
    with app.app_context():
        generate(db.session, Size(plans=1, institutions=3, actions_per_pillar=2, indicators_per_action=1, years=2))
        generate(db.session, Size(plans=1, institutions=30, actions_per_pillar=20, indicators_per_action=1, years=2))
        for plan in db.session.scalars(sa.select(pm.Plan).where(pm.Plan.code.like("DEMO-%"))):
            db.session.add(pm.MonitoringBody(plan_id=plan.id, code="DEMO-BODY", name_es="Órgano de prueba", name_en="Test body"))
        db.session.commit()
    client = login_as(Role.committee, plans=("PE-2021", "DEMO-001", "DEMO-002"))

    def queries_for(plan: str) -> int:
        client.get(url.format(plan=plan))  # warm caches (translations, templates)
        with count_queries(db.engine) as statements:
            assert client.get(url.format(plan=plan)).status_code == 200
        return len(statements)

    assert queries_for("DEMO-001") == queries_for("DEMO-002")


def test_objective_completion(app, navy, committee):
    _save(navy, "IND-OE1-1", {"women": "40", "men": "60"}, send=True)
    _approve(app, committee, "IND-OE1-1")
    rows = {r.objective.code: r for r in _dashboard(app).objectives}
    assert list(rows) == ["OE-1"]  # the only objective with an indicator linked to it
    assert (rows["OE-1"].completion.indicators_reported, rows["OE-1"].completion.indicators_total) == (1, 1)
    page = committee.get(f"/dashboard?year={YEAR}", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "Completion by objective" in page and "OE-1" in page


def test_reporters_land_on_their_own_plan(app, navy):
    with app.app_context():
        generate(db.session, Size(plans=1, institutions=3, actions_per_pillar=1, indicators_per_action=1, years=12))
        db.session.commit()
    assert navy.get("/report").headers["Location"].startswith(f"/plans/PE-2021/report/{YEAR}")
    assert navy.get("/home").status_code == 200


def test_institution_filter_is_limited_to_the_plan(app, committee):
    with app.app_context():
        generate(db.session, Size(plans=1, institutions=3, actions_per_pillar=1, indicators_per_action=1, years=1))
        db.session.commit()
    assert committee.get("/dashboard?plan=PE-2021&institution=INST-01").status_code == 404
