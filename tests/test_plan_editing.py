"""The monitoring body edits the plan in the browser (issue 15): indicators with their targets, actions and
objectives; adds and retires them. Every path goes through tracker.plan.editing, the service plan files use too,
so the same rule refuses the same change with the same reason whichever way it arrives.
"""

from __future__ import annotations

import copy
import html
import re
from decimal import Decimal

import pytest
import sqlalchemy as sa
import yaml

from conftest import Client, count_queries
from tracker.auth.models import Role
from tracker.db import db
from tracker.plan import editing
from tracker.plan import models as pm
from tracker.plan.loader import PERU_SEED, PlanImportRefused, import_plan, validate_plan_data

PLAN = "/plans/PE-2021"
EDIT = f"{PLAN}/indicators/IND-PAR-2/edit"
EN = {"Accept-Language": "en"}


@pytest.fixture(scope="module")
def peru_data():
    return yaml.safe_load(PERU_SEED.read_text(encoding="utf-8"))


@pytest.fixture
def committee(login_as, peru) -> Client:
    return login_as(Role.committee)


def _text(response) -> str:
    return html.unescape(re.sub(r"\s+", " ", response.get_data(as_text=True)))


def _form(client: Client, url: str) -> dict:
    """The form as the page fills it (inputs, checked boxes, selected options, textareas)."""
    page = client.get(url).get_data(as_text=True)
    data: dict = {}
    for tag in re.findall(r"<input[^>]*>", page):
        name, value = re.search(r'name="([^"]+)"', tag), re.search(r'value="([^"]*)"', tag)
        if not name or 'type="submit"' in tag:
            continue
        if 'type="checkbox"' in tag:
            if "checked" in tag:
                data[name.group(1)] = "y"
            continue
        data[name.group(1)] = html.unescape(value.group(1)) if value else ""
    for name, body in re.findall(r'<textarea[^>]*name="([^"]+)"[^>]*>(.*?)</textarea>', page, re.S):
        data[name] = html.unescape(body).strip("\n")
    for tag, body in re.findall(r'(<select[^>]*>)(.*?)</select>', page, re.S):
        name = re.search(r'name="([^"]+)"', tag).group(1)
        options = re.findall(r"<option([^>]*)>", body)
        chosen = [html.unescape(re.search(r'value="([^"]*)"', o).group(1)) for o in options if re.search(r"\bselected\b", o)]
        data[name] = chosen if "multiple" in tag else (chosen[0] if chosen else "")
    return data


def _indicator(app, code: str) -> pm.Indicator:
    with app.app_context():
        row = db.session.scalars(sa.select(pm.Indicator).filter_by(code=code)).one()
        row.targets, row.responsible  # loaded before the session ends
        for r in row.responsible:
            r.institution
        db.session.expunge_all()
        return row


def _changes(app, **filters) -> list[pm.PlanChange]:
    """The plan's changes made in the browser (the seed's import keeps its own: every item's creation)."""
    filters.setdefault("channel", pm.ChangeChannel.web)
    with app.app_context():
        rows = list(db.session.scalars(sa.select(pm.PlanChange).filter_by(**filters).order_by(pm.PlanChange.id)))
        db.session.expunge_all()
        return rows


def _target_changes(app) -> list[pm.IndicatorTargetChange]:
    with app.app_context():
        rows = list(db.session.scalars(sa.select(pm.IndicatorTargetChange).order_by(pm.IndicatorTargetChange.id)))
        db.session.expunge_all()
        return rows


# -- editing an indicator --------------------------------------------------------------------------------


def test_the_committee_sets_a_baseline_and_targets_with_a_reason(app, committee):
    data = _form(committee, EDIT)
    assert data["measure"] == "number" and data["lead"] == ["MINDEF"] and "target_2025" in data
    data.update(baseline_value="12", baseline_year="2021", target_2025="20", target_2026="25",
                reason="Sesión del 12/03/2026, acta 4: metas aprobadas")
    response = committee.post_form(EDIT, data)
    assert response.status_code == 302, re.findall(r'invalid-feedback[^>]*>([^<]*)<', response.get_data(as_text=True))
    assert response.headers["Location"].endswith("/indicators/IND-PAR-2")
    ind = _indicator(app, "IND-PAR-2")
    assert (ind.baseline_value, ind.baseline_year) == (12, 2021)
    assert {t.year: t.value for t in ind.targets} == {2025: 20, 2026: 25}
    assert all(t.decided_on is not None and t.decided_by == "committee-cig-mindef@example.org" for t in ind.targets)
    fields = {(c.field, c.old_value, c.new_value) for c in _changes(app, item_code="IND-PAR-2")}
    assert fields == {("baseline_value", None, "12"), ("baseline_year", None, "2021")}
    assert all(c.reason.startswith("Sesión del 12/03/2026") and c.channel == pm.ChangeChannel.web for c in _changes(app))
    targets = [(c.year, c.old_value, c.new_value, c.changed_by) for c in _target_changes(app)]
    assert targets == [(2025, None, 20, "committee-cig-mindef@example.org"), (2026, None, 25, "committee-cig-mindef@example.org")]
    page = _text(committee.get(f"{PLAN}/indicators/IND-PAR-2", headers=EN))
    assert "Sesión del 12/03/2026, acta 4" in page and "committee-cig-mindef@example.org" in page


def test_changing_and_removing_a_target_keeps_both_in_the_history(app, committee):
    data = _form(committee, EDIT) | {"target_2025": "20", "reason": "Acta 4"}
    committee.post_form(EDIT, data)
    data = _form(committee, EDIT) | {"target_2025": "22", "target_2026": "", "reason": "Acta 5: meta corregida"}
    assert committee.post_form(EDIT, data).status_code == 302
    data = _form(committee, EDIT) | {"target_2025": "", "reason": "Acta 6: meta retirada"}
    assert committee.post_form(EDIT, data).status_code == 302
    assert _indicator(app, "IND-PAR-2").targets == []
    assert [(c.old_value, c.new_value, c.reason) for c in _target_changes(app)] == [
        (None, 20, "Acta 4"), (20, 22, "Acta 5: meta corregida"), (22, None, "Acta 6: meta retirada")]


def test_metadata_and_responsibility_changes_keep_old_and_new(app, committee):
    data = _form(committee, EDIT) | {"name_en": "Military personnel deployed in UN peace operations, by sex",
                                     "unit_es": "efectivos", "lead": ["CCFFAA"], "support": ["EP"],
                                     "reason": "Acta 7: redacción"}
    assert committee.post_form(EDIT, data).status_code == 302
    ind = _indicator(app, "IND-PAR-2")
    assert ind.name_en == "Military personnel deployed in UN peace operations, by sex" and ind.unit_es == "efectivos"
    assert [(r.institution.code, r.role.value) for r in ind.responsible] == [("CCFFAA", "lead"), ("EP", "support")]
    changes = {c.field: (c.old_value, c.new_value) for c in _changes(app, item_code="IND-PAR-2")}
    assert changes["unit_es"] == ("personas", "efectivos")
    assert changes["responsible"] == ("MINDEF (lead); CCFFAA (support); EP (support); MGP (support); FAP (support)",
                                      "CCFFAA (lead); EP (support)")


def test_a_change_without_a_reason_is_refused_with_the_input_kept(app, committee):
    data = _form(committee, EDIT) | {"target_2025": "30", "reason": ""}
    response = committee.post_form(EDIT, data, headers=EN)
    assert response.status_code == 400
    assert 'value="30"' in response.get_data(as_text=True)
    assert _target_changes(app) == [] and _indicator(app, "IND-PAR-2").targets == []


@pytest.mark.parametrize("changes, field, message", [
    ({"baseline_value": "5", "baseline_year": ""}, "baseline_year", "A baseline needs both its value and its year."),
    ({"measure": "qualitative"}, "counts_people", "Only numbers and percentages count people."),
    ({"target_2025": "-3"}, "target_2025", "Number must be between 0 and"),
    ({"target_2025": "doce"}, "target_2025", "Not a valid decimal value."),
    ({"target_2025": "NaN"}, "target_2025", "Not a valid decimal value."),
    ({"pillar": "", "objective": "", "action": ""}, "pillar", "Attach the indicator to a pillar, an objective or an action."),
    ({"name_es": "", "name_en": ""}, "name_es", "Give the text in Spanish or in English."),
])
def test_bad_values_are_refused_with_the_reason_on_the_field(app, committee, changes, field, message):
    data = _form(committee, EDIT) | changes | {"reason": "Prueba"}
    response = committee.post_form(EDIT, data, headers=EN)
    assert response.status_code == 400, response.get_data(as_text=True)[:2000]
    assert message in _text(response)
    assert _changes(app) == [] and _target_changes(app) == []


def test_a_percentage_target_above_100_is_refused(app, committee):
    url = f"{PLAN}/indicators/IND-OE1-1/edit"
    data = _form(committee, url) | {"measure": "percentage"}
    response = committee.post_form(url, data | {"target_2025": "140", "reason": "Prueba"}, headers=EN)
    assert response.status_code == 400 and "A percentage is between 0 and 100." in _text(response)


def test_what_approved_values_mean_cannot_change_by_any_channel(app, committee, peru_data):
    from tracker.demo import seed_peru_demo

    with app.app_context():
        seed_peru_demo(db.session)  # approved Navy figures for IND-PAR-1
        db.session.commit()
    url = f"{PLAN}/indicators/IND-PAR-1/edit"
    page = _text(committee.get(url, headers=EN))
    assert "approved entries use this indicator" in page
    data = _form(committee, url) | {"cumulative": "y", "reason": "Prueba"}
    response = committee.post_form(url, data, headers=EN)
    assert response.status_code == 400
    refused_in_browser = re.search(r"cumulative cannot change while \d+ approved entries use this indicator", _text(response))
    assert refused_in_browser
    changed = copy.deepcopy(peru_data)
    changed["plan"]["indicators"][4]["cumulative"] = True
    with app.app_context(), pytest.raises(PlanImportRefused) as refused:
        import_plan(db.session, validate_plan_data(changed, "changed.yaml"))
    assert refused_in_browser.group(0) in str(refused.value)
    assert not _indicator(app, "IND-PAR-1").cumulative


def test_a_save_overtaken_by_another_is_a_conflict_that_keeps_the_input(app, committee, login_as):
    mine = _form(committee, EDIT)
    other = login_as(Role.committee, email="otra@example.org")
    theirs = _form(other, EDIT) | {"target_2025": "40", "reason": "Acta 8"}
    assert other.post_form(EDIT, theirs).status_code == 302
    response = committee.post_form(EDIT, mine | {"target_2025": "50", "reason": "Acta 9"}, headers=EN)
    assert response.status_code == 409
    assert "Someone else changed this item while you were editing it." in _text(response)
    assert 'value="50"' in response.get_data(as_text=True)
    assert {t.year: t.value for t in _indicator(app, "IND-PAR-2").targets} == {2025: 40}
    again = re.search(r'name="revision"[^>]*value="([^"]*)"|value="([^"]*)"[^>]*name="revision"', response.get_data(as_text=True))
    token = again.group(1) or again.group(2)
    assert committee.post_form(EDIT, mine | {"target_2025": "50", "reason": "Acta 9", "revision": token}).status_code == 302
    assert {t.year: t.value for t in _indicator(app, "IND-PAR-2").targets} == {2025: 50}


# -- actions, objectives, new items, retirement --------------------------------------------------------------


def test_an_action_is_edited_with_its_institutions(app, committee):
    url = f"{PLAN}/actions/PAR-1/edit"
    data = _form(committee, url) | {"text_en": "Train personnel for peace operations.", "support": ["EP", "MGP"],
                                    "reason": "Acta 10"}
    assert committee.post_form(url, data).status_code == 302
    with app.app_context():
        action = db.session.scalars(sa.select(pm.Action).filter_by(code="PAR-1")).one()
        assert action.text_en == "Train personnel for peace operations."
        assert sorted(i.institution.code for i in action.institutions if i.role == pm.ResponsibilityRole.support) == ["EP", "MGP"]
    assert {"text_en", "responsible"} <= {c.field for c in _changes(app, item_code="PAR-1")}


def test_an_objective_cannot_be_its_own_parent(app, committee):
    url = f"{PLAN}/objectives/OE-2/edit"
    response = committee.post_form(url, _form(committee, url) | {"parent": "OE-2", "reason": "Prueba"}, headers=EN)
    assert response.status_code == 400 and "An objective cannot be its own parent." in _text(response)


def test_a_new_indicator_is_added_as_decided_by_the_committee(app, committee):
    url = f"{PLAN}/new/indicators"
    assert committee.get(url).status_code == 200
    data = _form(committee, url) | {"code": "IND-PAR-9", "name_es": "Mujeres instructoras en operaciones de paz",
                                    "pillar": "PAR", "measure": "number", "direction": "increase", "frequency": "annual",
                                    "lead": ["MINDEF"], "target_2026": "10", "reason": "Acta 11: nuevo indicador"}
    response = committee.post_form(url, data)
    assert response.status_code == 302, _text(response)[:3000]
    ind = _indicator(app, "IND-PAR-9")
    assert ind.verification == pm.Verification.derived and ind.confirmed_on is not None
    assert ind.confirmed_ref == "Acta 11: nuevo indicador" and not ind.awaiting_confirmation
    assert [(t.year, t.value) for t in ind.targets] == [(2026, 10)]
    assert [c.field for c in _changes(app, item_code="IND-PAR-9")][0] == "created"
    again = committee.post_form(url, data, headers=EN)
    assert again.status_code == 400 and "The code IND-PAR-9 is already used in this plan" in _text(again)


def test_retiring_keeps_the_item_and_its_history_and_it_can_come_back(app, committee):
    url = f"{PLAN}/indicators/IND-REC-4/retire"
    refused = committee.post_form(url, {"reason": ""}, token_from=f"{PLAN}/indicators/IND-REC-4/edit")
    assert refused.status_code == 400
    assert committee.post_form(url, {"reason": "Acta 12: duplicado", "intent": "retire"}, token_from=f"{PLAN}/indicators/IND-REC-4/edit").status_code == 302
    ind = _indicator(app, "IND-REC-4")
    assert ind.retired and ind.retired_reason == "Acta 12: duplicado"
    page = _text(committee.get(f"{PLAN}/indicators/IND-REC-4", headers=EN))
    assert "Retired" in page and "Acta 12: duplicado" in page
    # A page still offering "Retire" (someone else already retired it) does not bring the item back.
    stale = committee.post_form(url, {"reason": "Acta 12 bis", "intent": "retire"}, token_from=f"{PLAN}/indicators/IND-REC-4/edit")
    assert stale.status_code == 303 and _indicator(app, "IND-REC-4").retired
    assert committee.post_form(url, {"reason": "Acta 13: vuelve", "intent": "restore"}, token_from=f"{PLAN}/indicators/IND-REC-4/edit").status_code == 302
    assert not _indicator(app, "IND-REC-4").retired
    assert [(c.field, c.old_value, c.new_value) for c in _changes(app, item_code="IND-REC-4")] == [
        ("retired", None, "yes"), ("retired", "yes", None)]


# -- who may edit ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("role", [Role.reporter, Role.viewer, Role.admin])
def test_only_the_monitoring_body_edits_the_plan(login_as, peru, role):
    client = login_as(role)
    assert client.get(EDIT).status_code == 403
    assert client.get(f"{PLAN}/new/actions").status_code == 403


def test_the_other_countrys_committee_is_told_the_plan_does_not_exist(app, chile, login_as):
    client = login_as(Role.committee, email="cl@example.org", plans=("CL-2022",), institution=None)
    assert client.get(EDIT).status_code == 404


def test_an_unknown_item_or_kind_is_404(committee):
    assert committee.get(f"{PLAN}/indicators/NOPE/edit").status_code == 404
    assert committee.get(f"{PLAN}/pillars/PAR/edit").status_code == 404


def test_the_edit_page_runs_the_same_queries_whatever_the_history(app, committee):
    with app.app_context():
        engine = db.engine
    with count_queries(engine) as few:
        committee.get(EDIT)
    for n in range(15):
        data = _form(committee, EDIT) | {"target_2025": str(n + 1), "unit_en": f"people {n}", "reason": f"Acta {n}"}
        committee.post_form(EDIT, data)
    with count_queries(engine) as many:
        committee.get(EDIT)
    assert len(many) == len(few)


# -- the service itself ------------------------------------------------------------------------------------------


def test_the_service_refuses_an_institution_of_another_country(app, peru, chile):
    with app.app_context():
        plan = db.session.scalars(sa.select(pm.Plan).filter_by(code="PE-2021")).one()
        row = editing.find_item(db.session, plan, pm.PlanItemKind.indicator, "IND-PAR-2")
        chilean = db.session.scalars(sa.select(pm.Institution).join(pm.Country).where(pm.Country.iso_code == "CL")).first()
        with pytest.raises(editing.EditRefused) as refused:
            editing.set_responsibility(db.session, plan, pm.PlanItemKind.indicator, row, [chilean], [],
                                       editing.Editor("x@example.org", "Prueba", pm.ChangeChannel.web))
        assert refused.value.problems[0].field == "lead"
        db.session.rollback()


def test_a_confirmed_and_a_retired_item_show_both_facts_on_their_pages(app, committee):
    with app.app_context():
        plan = db.session.scalars(sa.select(pm.Plan).filter_by(code="PE-2021")).one()
        editor = editing.Editor("comite@example.org", "Acta 14", pm.ChangeChannel.web)
        indicator = editing.find_item(db.session, plan, pm.PlanItemKind.indicator, "IND-PAR-2")
        editing.confirm(db.session, plan, pm.PlanItemKind.indicator, indicator, editing.plan_today(plan), "Acta 14", editor)
        action = editing.find_item(db.session, plan, pm.PlanItemKind.action, "PAR-3")
        editing.retire(db.session, plan, pm.PlanItemKind.action, action, editor)
        db.session.commit()
    page = _text(committee.get(f"{PLAN}/indicators/IND-PAR-2", headers=EN))
    assert "Derived" in page and "Confirmed by the monitoring body (" in page and "(Acta 14)." in page
    assert "It is not part of the plan's official indicator matrix" not in page
    pillar = _text(committee.get(f"{PLAN}/pillars/PAR", headers=EN))
    assert "Retired on" in pillar and "Acta 14. It is no longer asked for" in pillar


def test_figures_are_typed_with_a_comma_and_shown_without_trailing_zeros(app, committee):
    data = _form(committee, EDIT) | {"baseline_value": "12,5", "baseline_year": "2021", "target_2025": "20",
                                     "reason": "Acta 15"}
    assert committee.post_form(EDIT, data).status_code == 302
    assert _indicator(app, "IND-PAR-2").baseline_value == Decimal("12.5")
    again = _form(committee, EDIT)
    assert (again["baseline_value"], again["target_2025"]) == ("12.5", "20")


def test_an_unreadable_figure_gets_one_error_not_also_a_range_error(committee):
    page = _text(committee.post_form(EDIT, _form(committee, EDIT) | {"target_2025": "veinte", "reason": "x"}, headers=EN))
    assert "Not a valid decimal value." in page and "Number must be between" not in page


def test_a_second_confirmation_does_not_overwrite_the_first(app, peru):
    with app.app_context():
        plan = db.session.scalars(sa.select(pm.Plan).filter_by(code="PE-2021")).one()
        editor = editing.Editor("comite@example.org", "Acta 16", pm.ChangeChannel.web)
        row = editing.find_item(db.session, plan, pm.PlanItemKind.indicator, "IND-PAR-1")
        editing.confirm(db.session, plan, pm.PlanItemKind.indicator, row, editing.plan_today(plan), "Acta 16", editor)
        with pytest.raises(editing.EditRefused, match="already confirmed"):
            editing.confirm(db.session, plan, pm.PlanItemKind.indicator, row, editing.plan_today(plan), "Acta 17", editor)
        assert row.confirmed_ref == "Acta 16"
        db.session.rollback()


def test_a_new_item_goes_after_the_plans_items_and_an_inactive_institution_is_not_named_anew(app, peru):
    with app.app_context():
        plan = db.session.scalars(sa.select(pm.Plan).filter_by(code="PE-2021")).one()
        editor = editing.Editor("comite@example.org", "Acta 18", pm.ChangeChannel.web)
        values = {"pillar_id": plan.pillars[0].id, "text_es": "Nueva acción", "source_document": "x",
                  "verification": pm.Verification.derived}
        row = editing.add_item(db.session, plan, pm.PlanItemKind.action, "PAR-9", values, editor)
        assert row.position > max(a.position for a in db.session.scalars(sa.select(pm.Action).filter_by(plan_id=plan.id))
                                  if a.code != "PAR-9")
        navy = db.session.scalars(sa.select(pm.Institution).filter_by(code="MGP")).one()
        navy.active = False
        with pytest.raises(editing.EditRefused, match="No longer active: MGP"):
            editing.set_responsibility(db.session, plan, pm.PlanItemKind.action, row, [navy, navy], [], editor)
        db.session.rollback()
