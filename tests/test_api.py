"""The read API (issue 19): personal tokens (made on the account page or with `tracker tokens create`, stored hashed,
with an expiry, revocable), 401 JSON without one, the data each token may read, the same figures as the dashboard,
ETags, and the OpenAPI description, generated from the code, that schemathesis checks every operation against."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
import sqlalchemy as sa

from conftest import YEAR_NOW, logged_in, page_text
from tracker.api import tokens
from tracker.auth.models import Role, User
from tracker.dashboard import services as dashboard
from tracker.db import db, utcnow
from tracker.plan import models as pm

EN = {"Accept-Language": "en"}


def _token(app, email: str, days: int = 30) -> str:
    with app.app_context():
        user = db.session.scalars(sa.select(User).filter_by(email=email)).one()
        _row, raw = tokens.create(db.session, user, "Power BI", days)
        db.session.commit()
        return raw


def _get(client, url: str, token: str | None, **headers):
    if token:
        headers["Authorization"] = f"Bearer {token}"
    return client.get(url, headers=headers)


def test_without_a_valid_token_the_api_answers_401_json(app, client, review_world):
    for header in (None, "Bearer napt_wrong", "Basic abc"):
        response = client.get("/api/v1/plans", headers={"Authorization": header} if header else {})
        assert response.status_code == 401 and response.is_json and response.get_json()["error"] == "unauthorized"
        assert response.headers["WWW-Authenticate"].startswith("Bearer") and "Set-Cookie" not in response.headers
    committee = logged_in(app, review_world["committee"])  # a browser's session is not a token
    assert committee.get("/api/v1/plans").status_code == 401


def test_a_token_reads_what_its_user_may_read(app, client, review_world):
    token = _token(app, review_world["committee"])
    listed = _get(client, "/api/v1/plans", token).get_json()
    assert [p["code"] for p in listed["items"]] == ["PE-2021"] and listed["paging"]["total"] == 1
    plan = _get(client, "/api/v1/plans/PE-2021", token).get_json()
    ind = next(i for i in plan["indicators"] if i["code"] == "IND-PAR-1")
    assert ind["counts_people"] and {"year": YEAR_NOW, "value": 200.0} in ind["targets"] and "MGP" in ind["institutions"]
    assert {p["code"] for p in plan["pillars"]} >= {"PRE", "PAR"} and YEAR_NOW in plan["reporting_years"]
    values = _get(client, f"/api/v1/plans/PE-2021/values?indicator=IND-PAR-1&year={YEAR_NOW}", token).get_json()
    # The Army's approved 5 women and 15 men; the Navy's 40/100 is only submitted: not there.
    assert [(v["institution"], v["women"], v["men"], v["state"]) for v in values["items"]] == [("EP", 5, 15, "approved")]
    assert _get(client, "/api/v1/plans/NOPE", token).status_code == 404


def test_a_reporter_s_token_also_sees_its_institution_s_entries_in_progress(app, client, review_world):
    token = _token(app, review_world["navy"])
    values = _get(client, f"/api/v1/plans/PE-2021/values?indicator=IND-PAR-1&year={YEAR_NOW}", token).get_json()
    assert sorted((v["institution"], v["state"]) for v in values["items"]) == [("EP", "approved"), ("MGP", "submitted")]
    army = _token(app, "ejercito@example.org")
    values = _get(client, f"/api/v1/plans/PE-2021/values?indicator=IND-PAR-1&year={YEAR_NOW}", army).get_json()
    assert [(v["institution"], v["state"]) for v in values["items"]] == [("EP", "approved")]


def test_progress_is_the_dashboard_s(app, client, review_world):
    token = _token(app, review_world["committee"])
    body = _get(client, f"/api/v1/plans/PE-2021/progress?year={YEAR_NOW}", token).get_json()
    with app.test_request_context():
        plan = db.session.scalars(sa.select(pm.Plan).filter_by(code="PE-2021")).one()
        board = dashboard.build_dashboard(db.session, plan, YEAR_NOW)
    assert body["overall"]["indicators_reported"] == board.overall.indicators_reported
    assert len(body["pillars"]) == len(board.cards)
    par1 = next(i for i in body["indicators"] if i["indicator"] == "IND-PAR-1")
    assert (par1["women"], par1["men"], par1["target"], par1["women_share"]) == (5, 15, 200.0, 0.25)
    assert {row["institution"] for row in body["institutions"]} >= {"MGP", "EP"}


def test_pages_filters_and_etags(app, client, review_world):
    token = _token(app, review_world["committee"])
    first = _get(client, "/api/v1/plans/PE-2021/values?per_page=1&page=1", token)
    assert first.status_code == 200 and first.get_json()["paging"] == {"page": 1, "per_page": 1,
                                                                       "total": first.get_json()["paging"]["total"]}
    etag = first.headers["ETag"]
    again = _get(client, "/api/v1/plans/PE-2021/values?per_page=1&page=1", token, **{"If-None-Match": etag})
    assert again.status_code == 304 and again.data == b""
    refused = _get(client, "/api/v1/plans/PE-2021/values?per_page=100000", token)
    assert refused.status_code == 422 and refused.is_json


def test_expired_and_revoked_tokens_stop_working(app, client, review_world):
    token = _token(app, review_world["committee"])
    assert _get(client, "/api/v1/plans", token).status_code == 200
    with app.app_context():
        row = db.session.scalars(sa.select(tokens.ApiToken)).one()
        assert row.token_hash != token and token not in row.token_hash and row.last_used_at is not None
        row.expires_at = utcnow() - timedelta(seconds=1)
        db.session.commit()
    assert _get(client, "/api/v1/plans", token).status_code == 401
    second = _token(app, review_world["committee"])
    with app.app_context():
        user = db.session.scalars(sa.select(User).filter_by(email=review_world["committee"])).one()
        row = db.session.scalars(sa.select(tokens.ApiToken).order_by(tokens.ApiToken.id.desc())).first()
        assert tokens.revoke(db.session, user, row.id)
        db.session.commit()
    assert _get(client, "/api/v1/plans", second).status_code == 401


def test_tokens_on_the_account_page(app, review_world):
    navy = logged_in(app, review_world["navy"])
    refused = navy.post_form("/account/tokens", {"name": "", "days": "400"}, token_from="/account/tokens", headers=EN)
    assert refused.status_code == 400 and "A token lasts from 1 to 365 days." in page_text(refused)
    made = navy.post_form("/account/tokens", {"name": "Hoja de cálculo", "days": "7"}, token_from="/account/tokens",
                          headers=EN)
    raw = re.search(r'id="new-token">(napt_[^<]+)<', made.get_data(as_text=True)).group(1)
    assert made.status_code == 200 and "Hoja de cálculo" in page_text(made)
    assert navy.get("/api/v1/plans", headers={"Authorization": f"Bearer {raw}"}).status_code == 200
    assert raw not in navy.get("/account/tokens").get_data(as_text=True)  # shown once
    with app.app_context():
        token_id = db.session.scalars(sa.select(tokens.ApiToken.id)).one()
    other = logged_in(app, review_world["committee"])
    assert other.post_form(f"/account/tokens/{token_id}/revoke", token_from="/account/tokens").status_code == 404
    assert navy.post_form(f"/account/tokens/{token_id}/revoke", token_from="/account/tokens").status_code == 302
    assert navy.get("/api/v1/plans", headers={"Authorization": f"Bearer {raw}"}).status_code == 401


def test_the_cli_prints_the_token_once_on_its_last_line(app, cli, client, review_world):
    result = cli("tokens", "create", review_world["committee"], "--name", "Tablero", "--expires", "30")
    assert result.exit_code == 0, result.output
    raw = result.output.strip().splitlines()[-1]
    assert raw.startswith("napt_") and _get(client, "/api/v1/plans", raw).status_code == 200
    listed = cli("tokens", "list", review_world["committee"])
    assert "Tablero" in listed.output and raw not in listed.output
    bad = cli("tokens", "create", review_world["committee"], "--name", "x", "--expires", "0")
    assert bad.exit_code == 1 and "Error: A token lasts from 1 to 365 days." in bad.output
    assert cli("tokens", "create", "nobody@example.org", "--name", "x").exit_code == 1


def test_the_description_is_openapi_3_1_and_has_a_page(client, peru):
    spec = client.get("/api/v1/openapi.json").get_json()
    assert spec["openapi"].startswith("3.1") and spec["components"]["securitySchemes"]["token"]["scheme"] == "bearer"
    assert set(spec["paths"]) == {"/api/v1/plans", "/api/v1/plans/{code}", "/api/v1/plans/{code}/values",
                                  "/api/v1/plans/{code}/progress", "/api/v1/plans/{code}/reports",
                                  "/api/v1/plans/{code}/opendata.csv", "/api/v1/plans/{code}/datapackage.json",
                                  "/api/v1/plans/{code}/reports/{report_id}"}
    page = client.get("/api/v1/docs", headers=EN)
    assert page.status_code == 200 and "GET /api/v1/plans/{code}/values" in page_text(page)


@pytest.fixture
def api_token(app, review_world):
    return _token(app, review_world["committee"])


def test_schemathesis_finds_no_server_error_and_no_response_off_the_schema(app, api_token):
    import schemathesis
    from hypothesis import HealthCheck, given, settings

    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    failures = []
    for result in schema.get_all_operations():
        operation = result.ok()

        @settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck), database=None)
        @given(case=operation.as_strategy())
        def check(case):
            if "code" in (case.path_parameters or {}):
                case.path_parameters["code"] = "PE-2021"
            case.call_and_validate(headers={"Authorization": f"Bearer {api_token}"})

        try:
            check()
        except Exception as exc:  # noqa: BLE001 - collected to report every operation at once
            failures.append(f"{operation.method.upper()} {operation.path}: {exc}")
    assert failures == []


def test_requests_are_limited_per_token(app, client, review_world, monkeypatch):
    monkeypatch.setitem(app.config, "API_RATE_LIMIT", "3 per minute")
    token = _token(app, review_world["committee"])
    answers = [_get(client, "/api/v1/plans", token) for _ in range(4)]
    assert [a.status_code for a in answers] == [200, 200, 200, 429]
    assert answers[-1].is_json and answers[-1].get_json()["error"] == "rate_limited"


def test_the_other_country_s_token_does_not_reach_peru_s_plan(app, client, chile, make_user):
    _, email = make_user(Role.reporter, email="reporter-of-chile@example.org", institution="CL:MININTER")
    token = _token(app, email)
    assert [p["code"] for p in _get(client, "/api/v1/plans", token).get_json()["items"]] == ["CL-2022"]
    for path in ("", "/values", "/progress", "/reports"):
        response = _get(client, f"/api/v1/plans/PE-2021{path}", token)
        assert response.status_code == 404 and response.get_json()["error"] == "not_found"


def test_a_token_downloads_the_final_reports(app, client, review_world):
    import hashlib

    from datetime import date

    committee = logged_in(app, review_world["committee"])
    url = f"/reports/PE-2021/{YEAR_NOW}"
    assert committee.post_form(f"{url}/validation", {"validated_on": date.today().isoformat(), "minutes_reference": "Acta 1",
                                                     "recommendations": ""}, token_from="/reports").status_code == 302
    assert committee.post_form(f"{url}/finalize", token_from="/reports").status_code == 302
    viewer_token = _token(app, review_world["committee"])
    listed = _get(client, "/api/v1/plans/PE-2021/reports", viewer_token).get_json()["items"]
    assert len(listed) == 10 and {r["version"] for r in listed} == {1}
    pdf = next(r for r in listed if r["format"] == "pdf" and r["language"] == "es")
    path = pdf["url"].split("localhost", 1)[-1]
    response = _get(client, path, viewer_token)
    assert response.status_code == 200 and hashlib.sha256(response.data).hexdigest() == pdf["sha256"]
    assert _get(client, path, None).status_code == 401
    army = _token(app, "ejercito@example.org")  # reporters do not download reports (as on the site)
    assert _get(client, path, army).status_code == 404 and _get(client, "/api/v1/plans/PE-2021/reports", army).get_json() == {"items": []}


def test_a_token_does_not_open_what_the_account_s_login_would_not(app, client, review_world, monkeypatch):
    token = _token(app, review_world["committee"])
    monkeypatch.setitem(app.config, "REQUIRE_2FA_ROLES", frozenset({"committee"}))  # required, and not set up yet
    assert _get(client, "/api/v1/plans", token).status_code == 401
    monkeypatch.setitem(app.config, "REQUIRE_2FA_ROLES", frozenset())
    assert _get(client, "/api/v1/plans", token).status_code == 200
    with app.app_context():  # a new password (or a reset): the account's tokens are revoked with its sessions
        user = db.session.scalars(sa.select(User).filter_by(email=review_world["committee"])).one()
        user.session_token = "rotated-" + user.session_token[:20]
        db.session.commit()
        assert db.session.scalars(sa.select(tokens.ApiToken.revoked_at)).one() is not None
    assert _get(client, "/api/v1/plans", token).status_code == 401
