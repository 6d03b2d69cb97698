"""Open data and the public page (issue 19): a flat CSV in the Open SDG layout with a Data Package descriptor that
the frictionless library validates, from the CLI, the API and the public page; the public page itself, turned on by
the committee, with approved data only, small cells suppressed, and nothing of drafts, narratives or evidence; and
the same figures on the dashboard, the API, the open data and the public page."""

from __future__ import annotations

import csv
import io
import json
from decimal import Decimal

import pytest
import sqlalchemy as sa

from conftest import YEAR_NOW, logged_in, page_text
from tracker.api import tokens
from tracker.auth.models import User
from tracker.dashboard import services as dashboard
from tracker.db import db
from tracker.plan import models as pm
from tracker.progress.models import Entry

EN = {"Accept-Language": "en"}


@pytest.fixture
def published(app, review_world):
    """review_world (the Army's approved 5 women / 15 men, the Navy's 40 / 100 submitted, demo years approved), with
    IND-PAR-1 matched to SDG 5.5.2 and the public page turned on by the committee."""
    with app.app_context():
        indicator = db.session.scalars(sa.select(pm.Indicator).filter_by(code="IND-PAR-1")).one()
        indicator.global_indicator = "SDG 5.5.2"
        db.session.commit()
    committee = logged_in(app, review_world["committee"])
    page = "/plans/PE-2021/public-page"
    assert committee.post_form(page, {"published": "y", "threshold": "5", "reason": "Acta 9"}, token_from=page).status_code == 302
    return review_world | {"committee_client": committee}


def _csv(data: bytes) -> list[dict]:
    return list(csv.DictReader(io.StringIO(data.decode("utf-8"))))


def test_the_cli_writes_a_data_package_that_frictionless_validates(app, cli, published, tmp_path):
    from frictionless import Package, validate

    result = cli("export", "opendata", "--plan", "PE-2021", "--output", str(tmp_path / "out"))
    assert result.exit_code == 0, result.output
    report = validate(str(tmp_path / "out" / "datapackage.json"))
    assert report.valid, report.flatten(["rowNumber", "fieldName", "type", "note"])
    rows = _csv((tmp_path / "out" / "data.csv").read_bytes())
    army = [r for r in rows if r["Indicator"] == "IND-PAR-1" and r["Year"] == str(YEAR_NOW) and r["Institution"] == "EP"]
    assert sorted((r["Sex"], r["Value"]) for r in army) == [("", "20.0"), ("female", "5.0"), ("male", "15.0")]
    assert {r["Global indicator"] for r in army} == {"SDG 5.5.2"}
    assert not [r for r in rows if r["Institution"] == "MGP" and r["Year"] == str(YEAR_NOW)]  # submitted, not approved
    assert Package(str(tmp_path / "out" / "datapackage.json")).resources[0].name == "values"
    assert cli("export", "opendata", "--plan", "NOPE", "--output", str(tmp_path)).exit_code == 1


def test_the_public_data_is_national_and_suppresses_small_cells(app, client, published, tmp_path):
    from frictionless import validate

    rows = _csv(client.get("/public/PE-2021/data.csv").data)
    this_year = {r["Sex"]: r for r in rows if r["Indicator"] == "IND-PAR-1" and r["Year"] == str(YEAR_NOW)}
    assert {r["Institution"] for r in rows} == {""}
    # Women 5 and men 15 are shown; with a threshold of 6 the women's 5 is suppressed, and the men's 15 with it.
    assert (this_year["female"]["Value"], this_year["male"]["Value"]) == ("5.0", "15.0")
    published["committee_client"].post_form("/plans/PE-2021/public-page", {"published": "y", "threshold": "6",
                                                                          "reason": "Más reserva"},
                                            token_from="/plans/PE-2021/public-page")
    rows = _csv(client.get("/public/PE-2021/data.csv").data)
    this_year = {r["Sex"]: r for r in rows if r["Indicator"] == "IND-PAR-1" and r["Year"] == str(YEAR_NOW)}
    assert [(this_year[s]["Value"], this_year[s]["Observation status"]) for s in ("female", "male")] == [("", "suppressed")] * 2
    assert this_year[""]["Value"] == "20.0"
    (tmp_path / "data.csv").write_bytes(client.get("/public/PE-2021/data.csv").data)
    descriptor = json.loads(client.get("/public/PE-2021/datapackage.json").data)
    descriptor["resources"][0]["path"] = "data.csv"
    (tmp_path / "datapackage.json").write_text(json.dumps(descriptor))
    assert validate(str(tmp_path / "datapackage.json")).valid


def test_the_public_page_needs_no_login_and_shows_approved_figures_only(app, client, published):
    page = client.get("/public/PE-2021", headers=EN)
    text = page_text(page)
    assert page.status_code == 200 and "Progress in" in text and "Download the figures" in text
    html = page.get_data(as_text=True)
    row = html[html.index('data-code="IND-PAR-1"'):].split("</tr>")[0]
    assert ">20<" in row.replace(" ", "") and ">5<" in row.replace(" ", "")  # the Army's approved 5 of 20
    assert "140" not in row and ">40<" not in row  # the Navy's submitted 40 / 100
    assert "Cursos" not in text and "evidence" not in html  # no narrative, no evidence
    demo_years = [r for r in _csv(client.get("/public/PE-2021/data.csv").data)
                  if r["Indicator"] == "IND-PAR-1" and r["Year"] in ("2022", "2023", "2024")]
    assert demo_years == []  # the demo entries (60, 70, 80) are approved, but never public


def test_the_public_page_suppresses_small_counts_and_the_share_that_would_give_them_away(app, client, published):
    published["committee_client"].post_form("/plans/PE-2021/public-page", {"published": "y", "threshold": "6",
                                                                          "reason": "Más reserva"},
                                            token_from="/plans/PE-2021/public-page")
    html = client.get("/public/PE-2021", headers=EN).get_data(as_text=True)
    row = html[html.index('data-code="IND-PAR-1"'):].split("</tr>")[0]
    assert row.count("&lt; 6") == 2 and "25" not in row  # women, men hidden; no share (5 of 20 = 25 %)


def test_an_approval_shows_on_the_public_page_at_once(app, client, published):
    before = page_text(client.get("/public/PE-2021", headers=EN))
    with app.app_context():
        committee = db.session.scalars(sa.select(User).filter_by(email=published["committee"])).one()
        from tracker.review import steps

        steps.take_step(db.session, committee, db.session.get(Entry, published["entry"]), "approve")
        db.session.commit()
    html = client.get("/public/PE-2021", headers=EN).get_data(as_text=True)
    row = html[html.index('data-code="IND-PAR-1"'):].split("</tr>")[0]
    assert ">160<" in row.replace(" ", "") and page_text(client.get("/public/PE-2021", headers=EN)) != before


def test_an_unpublished_plan_has_no_public_page(app, client, review_world):
    for path in ("/public/PE-2021", "/public/PE-2021/data.csv", "/public/PE-2021/datapackage.json", "/public/NOPE"):
        assert client.get(path).status_code == 404


def test_only_the_committee_publishes_and_with_a_reason(app, published, login_as):
    from tracker.auth.models import Role

    for role in (Role.admin, Role.viewer):
        assert login_as(role).get("/plans/PE-2021/public-page").status_code == 403
    page, client = "/plans/PE-2021/public-page", published["committee_client"]
    no_reason = client.post_form(page, {"published": "y", "threshold": "5", "reason": ""}, token_from=page, headers=EN)
    assert no_reason.status_code == 400 and "This field is required." in page_text(no_reason)
    too_small = client.post_form(page, {"published": "y", "threshold": "1", "reason": "x"}, token_from=page, headers=EN)
    assert too_small.status_code == 400 and "Give a whole number from 2 to 100." in page_text(too_small)
    with app.app_context():
        assert db.session.scalars(sa.select(pm.PlanProfile.public_threshold)).one() == 5


def test_the_four_outputs_agree(app, client, published):
    with app.app_context():
        user = db.session.scalars(sa.select(User).filter_by(email=published["committee"])).one()
        _row, token = tokens.create(db.session, user, "comparación", 1)
        db.session.commit()
        plan = db.session.scalars(sa.select(pm.Plan).filter_by(code="PE-2021")).one()
        board = dashboard.build_dashboard(db.session, plan, YEAR_NOW, published=True)
        actual = next(r.result.actual for c in board.cards for r in c.indicators if r.indicator.code == "IND-PAR-1")
    progress = client.get(f"/api/v1/plans/PE-2021/progress?year={YEAR_NOW}",
                          headers={"Authorization": f"Bearer {token}"}).get_json()
    api = next(i for i in progress["indicators"] if i["indicator"] == "IND-PAR-1")
    public_csv = {r["Sex"]: r["Value"] for r in _csv(client.get("/public/PE-2021/data.csv").data)
                  if r["Indicator"] == "IND-PAR-1" and r["Year"] == str(YEAR_NOW)}
    html = client.get("/public/PE-2021", headers=EN).get_data(as_text=True)
    row = html[html.index('data-code="IND-PAR-1"'):].split("</tr>")[0]
    assert (actual.women, actual.men) == (api["women"], api["men"]) == (5, 15)
    assert (Decimal(public_csv["female"]), Decimal(public_csv["male"])) == (5, 15)
    assert ">5<" in row.replace(" ", "") and ">15<" in row.replace(" ", "")


def test_the_api_serves_the_open_data_too(app, client, published):
    with app.app_context():
        user = db.session.scalars(sa.select(User).filter_by(email=published["committee"])).one()
        _row, token = tokens.create(db.session, user, "datos", 1)
        db.session.commit()
    auth = {"Authorization": f"Bearer {token}"}
    response = client.get("/api/v1/plans/PE-2021/opendata.csv", headers=auth)
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert {r["Institution"] for r in _csv(response.data) if r["Year"] == str(YEAR_NOW)} == {"EP"}
    package = client.get("/api/v1/plans/PE-2021/datapackage.json", headers=auth).get_json()
    assert package["resources"][0]["path"].endswith("/api/v1/plans/PE-2021/opendata.csv")


def test_suppression_counts_people_not_percentages_and_hides_small_increases_of_a_cumulative_count():
    from types import SimpleNamespace as NS

    from tracker import opendata
    from tracker.status import Actual

    share = NS(code="P", global_indicator="", counts_people=True, measure=pm.Measure.percentage, cumulative=False,
               unit_en="")
    rows = {r.sex: r for r in opendata._national_rows(share, 2025, Actual(Decimal(3), women=30, men=970), None, 5)}
    assert (rows[""].value, rows[""].units, rows["female"].units) == (Decimal(3), "percent", "persons")  # 3 % is shown
    trained = NS(code="N", global_indicator="", counts_people=True, measure=pm.Measure.number, cumulative=True,
                 unit_en="")
    before = Actual(Decimal(100), women=40, men=60)
    rows = {r.sex: r for r in opendata._national_rows(trained, 2026, Actual(Decimal(103), women=42, men=61), before, 5)}
    assert [rows[s].status for s in ("", "female", "male")] == ["suppressed"] * 3  # +3 people, +2 women: too few
    rows = {r.sex: r for r in opendata._national_rows(trained, 2026, Actual(Decimal(120), women=50, men=70), before, 5)}
    assert [rows[s].value for s in ("", "female", "male")] == [120, 50, 70]
