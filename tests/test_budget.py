"""The budget clause: each implementing institution's budget item, reviewed through the shared workflow."""

from __future__ import annotations

import io
from decimal import Decimal

import pytest
import sqlalchemy as sa

from test_progress import YEAR, committee, cycle, navy  # noqa: F401
from tracker.auth.models import Role
from tracker.budget.models import BudgetItem, BudgetStage
from tracker.budget import queries
from tracker.db import db
from tracker.plan import models as pm
from tracker.progress.models import Entry, EntryKind, EntryState, EntryVersion

URL = f"/plans/PE-2021/budget/{YEAR}"
LINE = {"pliego": "026", "unidad_ejecutora": "001", "meta_presupuestal": "0012"}


def _save(client, data, send=False):
    return client.post_form(URL, {**data, ("send" if send else "save"): "1"}, content_type="multipart/form-data")


def _item(app, institution="MGP") -> BudgetItem | None:
    with app.app_context():
        return db.session.scalars(
            sa.select(BudgetItem).join(Entry).join(pm.Institution, pm.Institution.id == Entry.institution_id)
            .where(pm.Institution.code == institution)
        ).one_or_none()


def _entry(app, institution="MGP") -> Entry:
    with app.app_context():
        return db.session.scalars(
            sa.select(Entry).join(pm.Institution, pm.Institution.id == Entry.institution_id)
            .where(pm.Institution.code == institution, Entry.kind == EntryKind.budget)
        ).one()


def _compliance(app):
    with app.test_request_context():
        plan = db.session.scalars(sa.select(pm.Plan).filter_by(code="PE-2021")).one()
        return queries.compliance_table(db.session, plan, YEAR)


GOOD = {"stage": "included_pia", **LINE, "pia": "150000.00", "pim": "180000.50", "devengado": "60000.17", "girado": "50000"}


def test_save_item_with_exact_decimals(app, navy):
    assert _save(navy, GOOD).status_code == 302
    item = _item(app)
    assert (item.stage, item.pia, item.pim, item.devengado) == (BudgetStage.included_pia, Decimal("150000.00"), Decimal("180000.50"), Decimal("60000.17"))
    assert item.execution_rate == Decimal("60000.17") / Decimal("180000.50")
    assert item.balance == Decimal("120000.33")


@pytest.mark.parametrize(
    ("change", "field_value"),
    [
        ({"pia": "-5"}, 'value="-5"'),
        ({"devengado": "200000"}, 'value="200000"'),
        ({"girado": "70000"}, 'value="70000"'),
        ({"pim": "mucho"}, 'value="mucho"'),
    ],
)
def test_bad_amounts_are_refused_and_input_kept(app, navy, change, field_value):
    response = _save(navy, {**GOOD, "product_activity": "Capacitación PAN", **change})
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert field_value in page and "Capacitación PAN" in page
    assert _item(app) is None


def test_submission_requires_the_stage(app, navy):
    response = _save(navy, {**LINE}, send=True)
    assert response.status_code == 400
    assert _item(app) is None


def test_year_without_cycle(app, navy):
    assert navy.get("/plans/PE-2021/budget/1999").status_code == 404


def test_institution_not_implementing_the_plan(app, login_as, cycle):
    women_ministry = login_as(Role.reporter, institution="MIMP")
    response = _save(women_ministry, GOOD)
    assert response.status_code == 400
    assert "MIMP" in response.get_data(as_text=True)


def test_shared_workflow_and_compliance(app, navy, committee):
    assert _compliance(app).result.complying == 0
    _save(navy, GOOD, send=True)
    entry = _entry(app)
    assert entry.state == EntryState.submitted
    assert _compliance(app).result.complying == 0  # only approved items count
    committee.post_form(f"/entries/{entry.id}/approve", token_from=f"/entries/{entry.id}")
    table = _compliance(app)
    assert table.result.complying == 1
    assert table.result.share == Decimal(1) / Decimal(table.result.counted)
    assert table.totals["pim"] == Decimal("180000.50")
    with app.app_context():
        events = [v.event for v in db.session.scalars(sa.select(EntryVersion).filter_by(entry_id=entry.id).order_by(EntryVersion.number))]
    assert events == ["created", "submit", "approve"]
    page = committee.get(f"{URL}/compliance").get_data(as_text=True)
    assert "S/\xa0180,000.50" in page  # Peru's currency, written as Peru writes it (Babel keeps S/ and the amount together)


def test_not_applicable_leaves_the_denominator(app, navy, committee, login_as):
    counted_before = _compliance(app).result.counted
    _save(navy, {"stage": "not_applicable"}, send=True)
    entry = _entry(app)
    committee.post_form(f"/entries/{entry.id}/approve", token_from=f"/entries/{entry.id}")
    result = _compliance(app).result
    assert result.counted == counted_before - 1
    assert result.by_institution[entry.institution_id] == "not_applicable"


def test_other_institutions_cannot_see_or_edit_the_draft(app, navy, login_as):
    _save(navy, GOOD)
    entry = _entry(app)
    army = login_as(Role.reporter, institution="EP")
    assert army.get(f"/entries/{entry.id}").status_code == 404
    army_page = army.get(URL).get_data(as_text=True)  # the Army's own (empty) item
    assert "150000" not in army_page


def test_external_support_is_recorded_separately(app, navy):
    data = {**GOOD, "external_support-0-donor": "ONU Mujeres", "external_support-0-amount": "25000", "external_support-0-currency": "usd"}
    assert _save(navy, data).status_code == 302
    with app.app_context():
        item = db.session.scalars(sa.select(BudgetItem)).one()
        support = item.external_support[0]
        assert (support.donor, support.amount, support.currency) == ("ONU Mujeres", Decimal("25000.00"), "USD")
        assert item.pim == Decimal("180000.50")  # not mixed into the budget figures


MEF_CSV = (
    "Pliego,Unidad Ejecutora,Meta,PIA,PIM,Certificación,Compromiso Anual,Devengado,Girado,Avance %\n"
    '026: M. DE DEFENSA,001-MINDEF,0012 CAPACITACION,"150,000","200,000.00","120,000","110,000","90,000.25","80,000",45.0\n'
    '026: M. DE DEFENSA,002-OTRA,0099 OTRA,"1","2","0","0","0","0",0\n'
)


def test_csv_import_updates_the_matching_line(app, navy):
    _save(navy, GOOD)
    response = navy.post_form(f"{URL}/import", {"file": (io.BytesIO(MEF_CSV.encode("utf-8-sig")), "consulta.csv")},
                              token_from=URL, content_type="multipart/form-data")
    assert response.status_code == 302
    item = _item(app)
    assert (item.pim, item.devengado, item.girado, item.certificado) == (Decimal("200000.00"), Decimal("90000.25"), Decimal("80000.00"), Decimal("120000.00"))
    with app.app_context():
        assert db.session.scalars(sa.select(EntryVersion).order_by(EntryVersion.number.desc())).first().event == "imported"


@pytest.mark.parametrize(
    ("csv_text", "message"),
    [
        ("Pliego,PIM\n026,1\n", "Columns missing"),
        ('Pliego,Unidad Ejecutora,Meta,PIM,Devengado\n026,001,0012,"abc",1\n', "PIM is not a number"),
        ("Pliego,Unidad Ejecutora,Meta,PIM,Devengado\n026,001,0012,100,500\n", "devengado"),
        ("Pliego,Unidad Ejecutora,Meta,PIM,Devengado\n027,001,0012,100,50\n", "No line of the file matches"),
    ],
)
def test_csv_import_bad_files_change_nothing(app, navy, csv_text, message):
    _save(navy, GOOD)
    response = navy.post_form(f"{URL}/import", {"file": (io.BytesIO(csv_text.encode()), "x.csv")}, token_from=URL,
                              content_type="multipart/form-data", headers={"Accept-Language": "en"})
    assert response.status_code == 400  # the form again, with the errors (issue 12)
    assert message.lower() in response.get_data(as_text=True).lower()
    assert _item(app).pim == Decimal("180000.50")


def test_dashboard_shows_budget_compliance(app, navy, committee):
    _save(navy, GOOD, send=True)
    entry = _entry(app)
    committee.post_form(f"/entries/{entry.id}/approve", token_from=f"/entries/{entry.id}")
    share = _compliance(app).result.share
    page = committee.get(f"/dashboard?year={YEAR}", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert f'<strong id="budget-compliance">{round(share * 100)}%</strong>' in page


def test_annual_report_budget_section(app, navy, committee):
    import json

    _save(navy, {**GOOD, "external_support-0-donor": "Canadá", "external_support-0-amount": "5000", "external_support-0-currency": "CAD"}, send=True)
    entry = _entry(app)
    committee.post_form(f"/entries/{entry.id}/approve", token_from=f"/entries/{entry.id}")
    report = json.loads(committee.get(f"/reports/PE-2021/{YEAR}.json?lang=en").get_data(as_text=True))
    budget = next(s for s in report["sections"] if s["key"] == "budget")
    rows = {r["institution"].split(" ")[0]: r for r in budget["tables"][0]["rows"]}
    assert (rows["MGP"]["pim"], rows["MGP"]["complies"], rows["EP"]["complies"]) == ("180000.50", "Yes", "No")
    assert budget["tables"][1]["rows"][0]["donor"] == "Canadá"


def test_provisional_report_counts_submitted_items_consistently(app, navy, committee):
    import json

    _save(navy, GOOD, send=True)  # submitted, not approved
    report = json.loads(committee.get(f"/reports/PE-2021/{YEAR}.json?lang=en&pending=1").get_data(as_text=True))
    budget = next(s for s in report["sections"] if s["key"] == "budget")
    mgp = next(r for r in budget["tables"][0]["rows"] if r["institution"].startswith("MGP"))
    assert (mgp["stage"], mgp["pim"], mgp["complies"]) == ("Included in opening budget (PIA)", "180000.50", "Yes")
    summary = next(s for s in report["sections"] if s["key"] == "summary")
    assert any(p.startswith("PROVISIONAL") for p in summary["paragraphs"])
