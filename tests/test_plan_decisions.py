"""The monitoring body's decisions on derived items, and the plan's change history (issue 15).

The committee ticks derived items of Peru's plan and confirms or rejects them together, on the date of its
session, with the minute's reference: all of them or none. Only the plan's own monitoring body decides; the
other country's committee is told the plan does not exist. The history lists every change of the plan (fields
and targets), newest first, with its reason and who made it, for everyone who reads the plan, at a fixed cost.
"""

from __future__ import annotations

import html
import re
from datetime import date, timedelta
from decimal import Decimal

import pytest
import sqlalchemy as sa

from conftest import Client, count_queries
from tracker.auth.models import Role
from tracker.db import db
from tracker.plan import editing
from tracker.plan import models as pm
from tracker.plan.services import get_plan

PE, CL = "PE-2021", "CL-2022"
CONFIRMATIONS = f"/plans/{PE}/confirmations"
HISTORY = f"/plans/{PE}/history"
EN = {"Accept-Language": "en"}
COMMITTEE_EMAIL = "committee-cig-mindef@example.org"  # conftest's make_user for Role.committee
SESSION = date.today() - timedelta(days=3)


@pytest.fixture
def committee(login_as) -> Client:
    return login_as(Role.committee)


def _decide(client: Client, items: list[str], decision: str = "confirm", on: date | str = SESSION,
            reference: str = "Acta N.° 3-2026-CIG", note: str = ""):
    data = {"items": [f"indicator:{c}" for c in items], "decided_on": str(on), "reference": reference, "note": note,
            decision: "1"}
    return client.post_form(CONFIRMATIONS, data, headers=EN)


def _indicator(app, code: str) -> pm.Indicator:
    with app.app_context():
        plan = get_plan(db.session, PE)
        row = editing.find_item(db.session, plan, pm.PlanItemKind.indicator, code)
        db.session.expunge(row)
        return row


def _changes(app, field: str) -> list[tuple[str, str | None, str, str, pm.ChangeChannel]]:
    with app.app_context():
        query = sa.select(pm.PlanChange).filter_by(field=field).order_by(pm.PlanChange.item_code)
        return [(c.item_code, c.new_value, c.reason, c.changed_by, c.channel) for c in db.session.scalars(query)]


def _text(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def _section(page: str, css_class: str) -> str:
    match = re.search(rf'<table class="[^"]*{css_class}[^"]*">(.*?)</table>', page, re.S)
    return match.group(1) if match else ""


def _awaiting_codes(page: str) -> list[str]:
    return re.findall(r'type="checkbox" name="items" value="indicator:([^"]+)"', page)


# -- the page ---------------------------------------------------------------------------------------


def test_page_lists_the_derived_items_awaiting_confirmation(committee):
    page = _text(committee.get(CONFIRMATIONS, headers=EN))
    assert _awaiting_codes(page) == ["IND-PAR-1", "IND-PAR-2", "IND-PAR-3", "IND-REC-1", "IND-REC-2", "IND-REC-3",
                                     "IND-REC-4"]
    assert "IND-OE1-1" not in page  # verbatim: nothing to confirm
    assert f'href="/plans/{PE}/indicators/IND-PAR-1"' in page
    assert "Number of personnel trained in Peace Operations courses, by sex" in page
    assert "Participation" in page and "Relief and Recovery" in page  # each item's pillar
    assert "<legend" in page and 'scope="col"' in page and 'type="date"' in page
    assert "No derived item has been confirmed yet." in page


def test_page_says_when_nothing_awaits_confirmation(app, committee):
    with app.app_context():
        db.session.execute(sa.update(pm.Indicator).values(verification=pm.Verification.verbatim))
        db.session.commit()
    page = _text(committee.get(CONFIRMATIONS, headers=EN))
    assert "Nothing awaits confirmation" in page and _awaiting_codes(page) == []


# -- confirming and rejecting -------------------------------------------------------------------------


def test_committee_confirms_two_derived_indicators(app, committee):
    response = _decide(committee, ["IND-PAR-1", "IND-PAR-2"], reference="Acta N.° 3-2026-CIG")
    assert response.status_code == 303 and response.headers["Location"].endswith(CONFIRMATIONS)
    for code in ("IND-PAR-1", "IND-PAR-2"):
        row = _indicator(app, code)
        assert (row.confirmed_on, row.confirmed_ref, row.confirmed_by) == (SESSION, "Acta N.° 3-2026-CIG", COMMITTEE_EMAIL)
        assert not row.awaiting_confirmation and not row.retired
        assert row.verification == pm.Verification.derived  # both facts kept: derived, then confirmed
    assert _indicator(app, "IND-PAR-3").confirmed_on is None
    decision = f"{SESSION.isoformat()} (Acta N.° 3-2026-CIG)"
    assert _changes(app, "confirmed") == [
        ("IND-PAR-1", decision, "Confirmed by the monitoring body", COMMITTEE_EMAIL, pm.ChangeChannel.web),
        ("IND-PAR-2", decision, "Confirmed by the monitoring body", COMMITTEE_EMAIL, pm.ChangeChannel.web),
    ]


def test_confirmed_items_leave_the_list_and_show_as_confirmed(committee):
    _decide(committee, ["IND-PAR-1", "IND-PAR-2"], reference="Acta 7")
    page = _text(committee.get(CONFIRMATIONS, headers=EN))
    assert "2 items confirmed." in page
    assert "IND-PAR-1" not in _awaiting_codes(page) and "IND-PAR-3" in _awaiting_codes(page)
    confirmed = _section(page, "confirmed-items")
    assert "IND-PAR-1" in confirmed and "IND-PAR-2" in confirmed and "IND-PAR-3" not in confirmed
    assert "Acta 7" in confirmed and "committee-cig-mindef" in confirmed  # the minute, and who recorded it


def test_the_note_is_the_reason_kept_in_the_history(app, committee):
    _decide(committee, ["IND-PAR-1"], note="Sesión ordinaria: la matriz queda aprobada")
    assert _changes(app, "confirmed")[0][2] == "Sesión ordinaria: la matriz queda aprobada"


def test_the_default_reason_is_in_the_users_language(app, committee):
    committee.post_form(CONFIRMATIONS, {"items": ["indicator:IND-PAR-1"], "decided_on": str(SESSION),
                                        "reference": "Acta 1", "confirm": "1"}, headers={"Accept-Language": "en"})
    assert _changes(app, "confirmed")[0][2] == "Confirmed by the monitoring body"


def test_reject_retires_the_item_with_the_decision(app, committee):
    response = _decide(committee, ["IND-REC-1"], decision="reject", reference="Acta 4")
    assert response.status_code == 303
    row = _indicator(app, "IND-REC-1")
    assert row.retired_at is not None and row.retired_by == COMMITTEE_EMAIL
    assert "Acta 4" in row.retired_reason and SESSION.isoformat() in row.retired_reason
    assert row.confirmed_on is None
    assert [c[0] for c in _changes(app, "retired")] == ["IND-REC-1"]
    page = _text(committee.get(CONFIRMATIONS, headers=EN))
    assert "1 item rejected and retired." in page
    assert "IND-REC-1" not in _awaiting_codes(page)
    rejected = _section(page, "rejected-items")
    assert "IND-REC-1" in rejected and "Acta 4" in rejected


# -- refusals: 400, the message, the input kept, nothing stored ---------------------------------------


def _nothing_decided(app) -> None:
    assert _changes(app, "confirmed") == [] and _changes(app, "retired") == []
    with app.app_context():
        for model in (pm.Objective, pm.Action, pm.Indicator):
            decided = sa.select(model.code).where(sa.or_(model.confirmed_on.is_not(None), model.retired_at.is_not(None)))
            assert db.session.scalars(decided).all() == []


FUTURE = date.today() + timedelta(days=1)


@pytest.mark.parametrize("items, decision, on, reference, message", [
    pytest.param(["IND-PAR-1", "IND-PAR-2"], "confirm", FUTURE, "Acta 9", "The decision cannot be in the future.", id="future-date"),
    pytest.param(["IND-PAR-1"], "reject", FUTURE, "Acta 9", "The decision cannot be in the future.", id="future-date-reject"),
    pytest.param(["IND-PAR-1"], "confirm", SESSION, "", "Give the reference of the session or minute that decided it.", id="no-reference"),
    pytest.param(["IND-PAR-1"], "confirm", SESSION, "   ", "Give the reference of the session or minute that decided it.", id="blank-reference"),
    pytest.param(["IND-PAR-1"], "confirm", "", "Acta 9", "Give the date of the session that decided.", id="no-date"),
    pytest.param(["IND-PAR-1"], "confirm", "31/02/2026", "Acta 9", "Not a valid date value.", id="bad-date"),
    pytest.param([], "confirm", SESSION, "Acta 9", "Tick at least one item.", id="nothing-ticked"),
    # IND-PAR-1 alone would be confirmed: all or nothing.
    pytest.param(["IND-PAR-1", "IND-OE1-1"], "confirm", SESSION, "Acta 9",
                 "IND-OE1-1: Only items derived by the tracker team await confirmation.", id="verbatim-item"),
    pytest.param(["IND-PAR-1", "IND-NOPE"], "confirm", SESSION, "Acta 9", "IND-NOPE is not an item of this plan.", id="unknown-item"),
])
def test_refused_decisions_change_nothing(app, committee, items, decision, on, reference, message):
    response = _decide(committee, items, decision, on, reference, note="Nota de la sesión")
    assert response.status_code == 400
    page = _text(response)
    assert message in page and "is-invalid" in page
    assert "Nota de la sesión</textarea>" in page  # the input is kept
    if items:
        assert re.search(r'value="indicator:IND-PAR-1"[^>]*checked', page)
    _nothing_decided(app)


def test_a_post_without_a_decision_button_is_refused(app, committee):
    response = committee.post_form(CONFIRMATIONS, {"items": ["indicator:IND-PAR-1"], "decided_on": str(SESSION),
                                                   "reference": "Acta 2"}, headers=EN)
    assert response.status_code == 400
    assert "Choose whether to confirm or to reject the ticked items." in _text(response)
    _nothing_decided(app)


def test_a_confirmed_item_cannot_be_rejected(app, committee):
    _decide(committee, ["IND-PAR-1"], reference="Acta 1")
    response = _decide(committee, ["IND-PAR-1"], decision="reject", reference="Acta 2")
    assert response.status_code == 400
    assert "IND-PAR-1: Only derived items awaiting confirmation can be rejected" in _text(response)
    row = _indicator(app, "IND-PAR-1")
    assert row.retired_at is None and row.confirmed_ref == "Acta 1"


def test_a_rejected_item_cannot_be_confirmed(app, committee):
    _decide(committee, ["IND-REC-2"], decision="reject", reference="Acta 1")
    response = _decide(committee, ["IND-REC-2"], reference="Acta 2")
    assert response.status_code == 400
    assert "IND-REC-2: A retired item cannot be confirmed." in _text(response)
    assert _indicator(app, "IND-REC-2").confirmed_on is None


# -- who decides ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("role", [Role.reporter, Role.viewer, Role.admin])
def test_only_the_monitoring_body_decides(app, login_as, role):
    client = login_as(role)
    assert client.get(CONFIRMATIONS).status_code == 403
    data = {"items": ["indicator:IND-PAR-1"], "decided_on": str(SESSION), "reference": "Acta 1", "confirm": "1",
            "csrf_token": client.csrf_token("/account")}
    assert client.post(CONFIRMATIONS, data=data).status_code == 403
    _nothing_decided(app)


def _chile_committee(app, make_user) -> Client:
    _, email = make_user(Role.committee, email="mesa-cl@example.org", institution=None, plans=(CL,))
    client = Client(app.test_client())
    assert client.login(email).status_code == 302
    return client


def test_the_other_countrys_committee_is_told_the_plan_does_not_exist(app, chile, make_user):
    client = _chile_committee(app, make_user)
    assert client.get(CONFIRMATIONS).status_code == 404
    data = {"items": ["indicator:IND-PAR-1"], "decided_on": str(SESSION), "reference": "Acta 1", "confirm": "1",
            "csrf_token": client.csrf_token("/account")}
    assert client.post(CONFIRMATIONS, data=data).status_code == 404
    assert client.get(HISTORY).status_code == 404
    assert client.get(f"/plans/{CL}/confirmations").status_code == 200  # its own plan's page
    _nothing_decided(app)


# -- the history ---------------------------------------------------------------------------------------


def _edit(app, changes: int = 1, targets: int = 0, start: int = 0) -> None:
    """`changes` renamings of Peru's indicators and `targets` target changes of its numeric ones, by several people."""
    with app.test_request_context():
        plan = get_plan(db.session, PE)
        rows = list(db.session.scalars(sa.select(pm.Indicator).filter_by(plan_id=plan.id).order_by(pm.Indicator.code)))
        for n in range(start, start + changes):
            row = rows[n % len(rows)]
            editor = editing.Editor(f"editor-{n % 4}@example.org", f"Acta {n}", pm.ChangeChannel.web)
            editing.set_fields(db.session, plan, pm.PlanItemKind.indicator, row, {"name_en": f"Renamed {n}"}, editor)
        numbers = [r for r in rows if r.measure == pm.Measure.number]
        for n in range(start, start + targets):
            editor = editing.Editor(f"editor-{n % 4}@example.org", f"Metas {n}", pm.ChangeChannel.web)
            editing.set_targets(db.session, numbers[n % len(numbers)], {2025 + n: Decimal(10 + n)}, editor)
        db.session.commit()


def _history(client: Client, query: str = "") -> str:
    response = client.get(HISTORY + query, headers=EN)
    assert response.status_code == 200
    return _text(response)


def _history_rows(page: str) -> list[str]:
    body = re.search(r'<table class="[^"]*plan-history[^"]*">.*?<tbody>(.*?)</tbody>', page, re.S)
    return re.findall(r"<tr>(.*?)</tr>", body.group(1), re.S) if body else []


def test_history_lists_field_and_target_changes_with_reason_and_who(app, committee):
    with app.test_request_context():
        plan = get_plan(db.session, PE)
        row = editing.find_item(db.session, plan, pm.PlanItemKind.indicator, "IND-PAR-1")
        old_name = row.name_en
        editing.set_fields(db.session, plan, pm.PlanItemKind.indicator, row, {"name_en": "Personnel trained, by sex"},
                           editing.Editor(COMMITTEE_EMAIL, "Sesión 12: nombre abreviado", pm.ChangeChannel.web))
        editing.set_targets(db.session, row, {2026: Decimal("120")},
                            editing.Editor("otra@example.org", "Sesión 12: metas aprobadas", pm.ChangeChannel.web))
        db.session.commit()
    rows = _history_rows(_history(committee))
    target, field = rows[0], rows[1]  # newest first
    assert "Target 2026" in target and "120" in target and "Sesión 12: metas aprobadas" in target
    assert "otra@example.org" in target and 'href="/plans/PE-2021/indicators/IND-PAR-1"' in target
    assert "Name in English" in field and old_name in field and "Personnel trained, by sex" in field
    assert "Sesión 12: nombre abreviado" in field and "committee-cig-mindef" in field  # who, by name
    assert "In the tracker" in field


def test_history_names_the_plan_file_import(committee):
    page = _history(committee, "?kind=indicator&item=IND-PAR-1")
    created = [r for r in _history_rows(page) if "Created" in r]
    assert len(created) == 1 and "plan file import" in created[0] and "Plan file" in created[0]


def test_history_filters_by_item(app, committee):
    _edit(app, changes=2, targets=2)  # the first two indicators by code are renamed, the first two numeric ones get targets
    rows = _history_rows(_history(committee, "?kind=indicator&item=IND-PAR-1"))
    assert rows and all("IND-PAR-1" in r for r in rows)
    assert any("Target 2026" in r for r in rows) and any("Renamed 1" in r for r in rows)
    actions = _history_rows(_history(committee, "?kind=action"))
    assert actions and all("Action <a" in r for r in actions)
    assert not any("Target" in r for r in actions)  # targets are indicators'


def test_history_is_read_by_whoever_reads_the_plan(app, login_as):
    _edit(app)
    for role in (Role.reporter, Role.viewer, Role.admin, Role.committee):
        assert "Renamed 0" in _history(login_as(role, email=f"{role.value}-history@example.org")), role


def test_history_costs_the_same_queries_with_1_and_30_changes(app, committee):
    with app.app_context():
        db.session.execute(sa.delete(pm.PlanChange))
        db.session.commit()
    _edit(app, changes=1)

    def queries() -> int:
        committee.get(HISTORY)  # warm caches
        with count_queries(db.engine) as statements:
            assert committee.get(HISTORY).status_code == 200
        return len(statements)

    one = queries()
    assert len(_history_rows(_history(committee))) == 1
    _edit(app, changes=20, targets=9, start=1)
    assert len(_history_rows(_history(committee))) == 30
    assert queries() == one


def test_history_stops_at_its_limit_and_says_so(app, committee, monkeypatch):
    from tracker.plan import decision_views

    monkeypatch.setattr(decision_views, "HISTORY_LIMIT", 5)
    page = _history(committee)
    assert len(_history_rows(page)) == 5 and "Only the latest 5 changes are shown." in page


def test_confirmations_page_costs_the_same_queries_for_1_or_7_items(app, committee, login_as):
    def queries(client: Client) -> int:
        client.get(CONFIRMATIONS)
        with count_queries(db.engine) as statements:
            assert client.get(CONFIRMATIONS).status_code == 200
        return len(statements)

    def derived(codes: list[str]) -> None:
        with app.app_context():
            verification = sa.case((pm.Indicator.code.in_(codes), pm.Verification.derived.value), else_=pm.Verification.verbatim.value)
            db.session.execute(sa.update(pm.Indicator).values(verification=verification))
            db.session.commit()

    derived(["IND-PAR-1"])
    one = queries(committee)
    derived(["IND-PAR-1", "IND-PAR-2", "IND-PAR-3", "IND-REC-1", "IND-REC-2", "IND-REC-3", "IND-REC-4"])
    _decide(committee, ["IND-PAR-1", "IND-PAR-2"])
    other = login_as(Role.committee, email="otro-miembro@example.org")
    _decide(other, ["IND-REC-1"], decision="reject")
    assert queries(committee) == one  # 1 item awaiting; then 4 awaiting, 2 confirmed, 1 rejected, by two people
