"""Budget classification profiles: a generic plan of another country (Chile, CLP) beside Peru's (pe_mef).

Chile's plan is the tests' own file, tests/plans/chile-2022.yaml (conftest's `chile`), not an official plan.

Each plan's budget pages, forms and reports speak its own profile's terms and its own currency; the
compliance denominator is the institutions its budget clause binds.
"""

from __future__ import annotations

import io
import json
import re
import zipfile
from datetime import date, timedelta
from decimal import Decimal
from types import SimpleNamespace

import pytest
import sqlalchemy as sa
from docx import Document
from openpyxl import load_workbook
from pypdf import PdfReader

from test_progress import YEAR, committee, cycle, navy  # noqa: F401
from tracker.auth.models import Role
from tracker.budget import profiles, queries
from tracker.budget.models import BudgetItem, BudgetStage
from tracker.db import db
from tracker.plan import models as pm
from tracker.progress.models import CycleState, Entry, EntryKind, ReportingCycle
from tracker.reports import services as reports
from tracker.reports.exporters import export
from tracker.reports.exporters.common import Numbers, format_value

CL, CL_YEAR = "CL-2022", 2024
CL_URL = f"/plans/{CL}/budget/{CL_YEAR}"
PE_URL = f"/plans/PE-2021/budget/{YEAR}"
EN = {"Accept-Language": "en"}


@pytest.fixture
def chile_cycle(app, chile):
    """Chile's test plan (conftest's `chile`: its budget clause binds MINDEF and MMEG, not MININTER, which also
    reports on actions) with an open reporting cycle."""
    with app.app_context():
        plan = db.session.scalars(sa.select(pm.Plan).filter_by(code=CL)).one()
        db.session.add(ReportingCycle(plan_id=plan.id, year=CL_YEAR, deadline=date.today() + timedelta(days=30),
                                      state=CycleState.open))
        db.session.commit()


@pytest.fixture
def mindef(login_as, chile_cycle):
    """A reporter of Chile's MINDEF, which leads PAR-1 and is bound by the budget clause."""
    return login_as(Role.reporter, email="mindef@example.cl", institution="CL:MINDEF")


@pytest.fixture
def chile_committee(login_as, chile_cycle):
    return login_as(Role.committee, email="mesa@example.cl", institution=None, plans=(CL,))


GOOD_CL = {"stage": "included_pia", "product_activity": "Programa 01 Formación", "funding_source": "Recursos ordinarios",
           "pim": "1234567.50", "devengado": "1000000"}
GOOD_PE = {"stage": "included_pia", "pliego": "026", "unidad_ejecutora": "001", "meta_presupuestal": "0012",
           "pia": "150000.00", "pim": "180000.50", "devengado": "60000.17"}


def _save(client, url, data, send=False):
    return client.post_form(url, {**data, ("send" if send else "save"): "1"}, content_type="multipart/form-data", headers=EN)


def _plan(code: str) -> pm.Plan:
    return db.session.scalars(sa.select(pm.Plan).filter_by(code=code)).one()


def _budget_entry(app, country: str, institution: str) -> Entry:
    with app.app_context():
        return db.session.scalars(
            sa.select(Entry).join(pm.Institution, pm.Institution.id == Entry.institution_id).join(pm.Country)
            .where(pm.Country.iso_code == country, pm.Institution.code == institution, Entry.kind == EntryKind.budget)
        ).one()


def _approve(app, reviewer, country: str, institution: str) -> Entry:
    entry = _budget_entry(app, country, institution)
    response = reviewer.post_form(f"/entries/{entry.id}/approve", token_from=f"/entries/{entry.id}")
    assert response.status_code == 302
    return entry


PERU_TERMS = ("PIA", "PIM", "S/", "soles", "Soles", "Consulta Amigable", "spending portal", "Pliego", "pliego", "devengado", "girado")


def _visible(page: str) -> str:
    """The page's text without its tags (field names such as name="pim" are the stored columns, not words shown)."""
    return re.sub(r"<[^>]*>", " ", page)


def _speaks_no_peruvian_terms(page: str) -> None:
    text = _visible(page)
    for term in PERU_TERMS:
        assert term not in text, term


# -- the form ---------------------------------------------------------------------------------------


def test_generic_form_has_the_generic_fields_in_the_plans_currency(mindef):
    response = mindef.get(CL_URL, headers=EN)
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    for text in ("Budget line", "Allocated, $", "Executed, $", "Funding source", "Included in the budget", "Added during the year",
                 "Amounts in Chilean pesos."):
        assert text in page, text
    _speaks_no_peruvian_terms(page)
    assert 'name="pliego"' not in page and 'name="pia"' not in page and "/import" not in page


def test_generic_item_is_stored_in_the_budget_item_columns(app, mindef):
    # A field the generic profile does not have (pia) is ignored, even when posted.
    assert _save(mindef, CL_URL, {**GOOD_CL, "pia": "999", "pliego": "026"}).status_code == 302
    with app.app_context():
        item = db.session.scalars(sa.select(BudgetItem)).one()
        assert (item.product_activity, item.funding_source) == ("Programa 01 Formación", "Recursos ordinarios")
        assert (item.pim, item.devengado) == (Decimal("1234567.50"), Decimal("1000000.00"))
        assert (item.pia, item.pliego, item.stage) == (None, "", BudgetStage.included_pia)
        assert item.execution_rate == Decimal("1000000") / Decimal("1234567.50")  # executed / allocated


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({**GOOD_CL, "pim": ""}, "Enter the amount allocated to the item."),
        ({**GOOD_CL, "devengado": "2000000"}, "The amount executed cannot be above the amount allocated."),
    ],
)
def test_generic_messages_speak_allocated_and_executed(app, mindef, data, message):
    response = _save(mindef, CL_URL, data, send=True)
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert message in page
    _speaks_no_peruvian_terms(page)
    with app.app_context():
        assert db.session.scalars(sa.select(BudgetItem)).first() is None


def test_spending_portal_import_exists_only_for_peru(app, mindef, navy):
    _save(mindef, CL_URL, GOOD_CL)
    csv = io.BytesIO(b"Pliego,Unidad Ejecutora,Meta,PIM,Devengado\n026,001,0012,100,50\n")
    response = mindef.post_form(f"{CL_URL}/import", {"file": (csv, "x.csv")}, token_from=CL_URL, content_type="multipart/form-data")
    assert response.status_code == 404
    assert "/import" not in mindef.get(CL_URL).get_data(as_text=True)  # the import form is not offered either
    _save(navy, PE_URL, GOOD_PE)
    peru_page = navy.get(PE_URL, headers=EN).get_data(as_text=True)
    assert f"{PE_URL}/import" in peru_page and "spending portal" in peru_page


def test_peru_form_keeps_pe_mef_fields_in_soles(navy):
    page = navy.get(PE_URL, headers=EN).get_data(as_text=True)
    for text in ("PIA (opening budget), S/", "PIM (modified budget), S/", "Accrued (devengado), S/", "Paid (girado), S/",
                 'name="pliego"', "Included in opening budget (PIA)", "Amounts in Peruvian soles."):
        assert text in page, text
    assert "Allocated" not in page


# -- money and pages ----------------------------------------------------------------------------------


def test_generic_pages_write_chilean_pesos(app, mindef, chile_committee):
    _save(mindef, CL_URL, {**GOOD_CL, "external_support-0-donor": "ONU Mujeres", "external_support-0-amount": "2500.5",
                         "external_support-0-currency": "usd"}, send=True)
    entry = _approve(app, chile_committee, "CL", "MINDEF")
    entry_page = chile_committee.get(f"/entries/{entry.id}", headers=EN).get_data(as_text=True)
    compliance = chile_committee.get(f"{CL_URL}/compliance", headers=EN).get_data(as_text=True)
    history = chile_committee.get(f"/plans/{CL}/budget/institutions/MINDEF", headers=EN).get_data(as_text=True)
    for page in (entry_page, compliance, history):
        assert "$1.234.568" in page and "$1.000.000" in page  # es_CL: no decimals, dots for thousands
        _speaks_no_peruvian_terms(page)
    assert "Allocated" in entry_page and "Executed" in entry_page and "Included in the budget" in entry_page
    assert "US$2.500,50" in entry_page  # external support in its own currency, written the Chilean way
    assert "Allocated" in compliance and "Executed" in compliance


def test_a_returned_item_names_the_plans_own_monitoring_body(app, mindef, chile_committee):
    _save(mindef, CL_URL, GOOD_CL, send=True)
    entry = _budget_entry(app, "CL", "MINDEF")
    response = chile_committee.post_form(f"/entries/{entry.id}/return", {"note": "Falta la resolución", "version": str(entry.version)},
                                         token_from=f"/entries/{entry.id}")
    assert response.status_code == 302
    page = mindef.get(CL_URL, headers=EN).get_data(as_text=True)
    assert "Returned by the monitoring body (Intersectoral Roundtable 1325):" in page and "Falta la resolución" in page
    assert "Returned by the Gender Equality Committee" not in page


def test_peru_pages_still_show_soles_and_pia_pim(app, navy, committee):
    _save(navy, PE_URL, GOOD_PE, send=True)
    entry = _approve(app, committee, "PE", "MGP")
    entry_page = committee.get(f"/entries/{entry.id}", headers=EN).get_data(as_text=True)
    compliance = committee.get(f"{PE_URL}/compliance", headers=EN).get_data(as_text=True)
    for page in (entry_page, compliance):
        assert "S/\xa0180,000.50" in page and "PIA" in page and "PIM" in page
        assert "Allocated" not in page and "$1" not in page
    assert "Pliego" in entry_page and "Included in opening budget (PIA)" in entry_page
    assert "PIM (modified budget)" in entry_page  # the history names the fields as Peru's profile does


def test_a_plan_without_currency_shows_plain_numbers():
    plan = SimpleNamespace(country=SimpleNamespace(currency=None, locale="en"), profile=None)
    assert profiles.profile_of(plan) is profiles.GENERIC
    assert profiles.label(profiles.GENERIC.figure("pim"), plan) == "Allocated"
    assert format_value(Decimal("1234.5"), "money", Numbers("en")) == "1,234.50"
    assert format_value(Decimal("1234.6"), "money", Numbers("es_CL", "CLP", "es_CL")) == "$1.235"


# -- the compliance denominator ---------------------------------------------------------------------


def test_compliance_counts_only_the_institutions_the_clause_binds(app, mindef, chile_committee, login_as):
    with app.test_request_context():
        table = queries.compliance_table(db.session, _plan(CL), CL_YEAR)
        assert sorted(r.institution.code for r in table.rows) == ["MINDEF", "MMEG"]  # not MININTER, which has actions
        assert (table.result.complying, table.result.counted) == (0, 2)
    _save(mindef, CL_URL, GOOD_CL, send=True)
    _approve(app, chile_committee, "CL", "MINDEF")
    with app.test_request_context():
        table = queries.compliance_table(db.session, _plan(CL), CL_YEAR)
        assert (table.result.complying, table.result.counted, table.result.share) == (1, 2, Decimal(1) / 2)
        assert table.totals["pim"] == Decimal("1234567.50")
    page = chile_committee.get(f"{CL_URL}/compliance", headers=EN).get_data(as_text=True)
    assert "1 of 2 institutions with an approved item in their budget" in page


def test_an_institution_the_clause_does_not_bind_cannot_file_an_item(app, login_as, chile_cycle):
    interior = login_as(Role.reporter, email="mininter@example.cl", institution="CL:MININTER")
    assert "does not bind your institution" in interior.get(CL_URL, headers=EN).get_data(as_text=True)
    response = _save(interior, CL_URL, GOOD_CL)
    assert response.status_code == 400
    assert "does not bind MININTER" in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalars(sa.select(BudgetItem)).first() is None


def test_peru_without_bindings_counts_every_implementing_institution(app, peru, chile):
    from tracker.progress.queries import reporting_institutions

    with app.test_request_context():
        plan = _plan("PE-2021")
        table = queries.compliance_table(db.session, plan, YEAR)
        assert table.result.counted == len(reporting_institutions(db.session, plan)) > 2


# -- the annual report --------------------------------------------------------------------------------


def _report(app, code: str, year: int, language: str = "en", fmt: str = "json"):
    with app.test_request_context():
        dataset = reports.annual_report(db.session, _plan(code), year, language)
        return dataset, export(dataset, fmt)


def _docx_cells(data: bytes) -> list[str]:
    return [cell.text for table in Document(io.BytesIO(data)).tables for row in table.rows for cell in row.cells]


def test_each_plans_annual_report_uses_its_own_currency(app, mindef, chile_committee, navy, committee):
    _save(mindef, CL_URL, GOOD_CL, send=True)
    _approve(app, chile_committee, "CL", "MINDEF")
    _save(navy, PE_URL, GOOD_PE, send=True)
    _approve(app, committee, "PE", "MGP")

    _dataset, data = _report(app, CL, CL_YEAR)
    doc = json.loads(data)
    assert (doc["meta"]["currency"], doc["meta"]["money_locale"], doc["meta"]["budget_profile"]) == ("CLP", "es_CL", "generic")
    budget = next(s for s in doc["sections"] if s["key"] == "budget")
    table = budget["tables"][0]
    assert table["title"] == "Budget items by institution (Chilean pesos)"
    assert [(c["key"], c["label"]) for c in table["columns"] if c["kind"] == "money"] == [("allocated", "Allocated, $"), ("executed", "Executed, $")]
    mindef_row = next(r for r in table["rows"] if r["institution"].startswith("MINDEF"))
    assert (mindef_row["allocated"], mindef_row["executed"], mindef_row["stage"]) == ("1234567.50", "1000000", "Included in the budget")
    assert budget["paragraphs"] == ["1 of 2 institutions bound by the budget clause have an approved budget item for their NAP activities (50%)."]
    assert not any(term in json.dumps(budget, ensure_ascii=False) for term in PERU_TERMS)

    _dataset, data = _report(app, "PE-2021", YEAR)
    doc = json.loads(data)
    assert (doc["meta"]["currency"], doc["meta"]["money_locale"], doc["meta"]["budget_profile"]) == ("PEN", "es_PE", "pe_mef")
    table = next(s for s in doc["sections"] if s["key"] == "budget")["tables"][0]
    assert table["title"] == "Budget items by institution (Peruvian soles)"
    assert [c["label"] for c in table["columns"] if c["kind"] == "money"] == ["PIA, S/", "PIM, S/", "Accrued, S/"]


def test_report_files_write_amounts_in_each_plans_currency(app, mindef, chile_committee, navy, committee):
    _save(mindef, CL_URL, GOOD_CL, send=True)
    _approve(app, chile_committee, "CL", "MINDEF")
    _save(navy, PE_URL, GOOD_PE, send=True)
    _approve(app, committee, "PE", "MGP")
    _dataset, chile_docx = _report(app, CL, CL_YEAR, "es", "docx")
    _dataset, peru_docx = _report(app, "PE-2021", YEAR, "es", "docx")
    assert "$1.234.568" in _docx_cells(chile_docx) and not any("S/" in c for c in _docx_cells(chile_docx))
    assert "S/\xa0180,000.50" in _docx_cells(peru_docx)
    _dataset, chile_zip = _report(app, CL, CL_YEAR, "en", "csv")
    with zipfile.ZipFile(io.BytesIO(chile_zip)) as archive:
        header = archive.read("budget.csv").decode("utf-8-sig").splitlines()[0]
        meta = archive.read("meta.csv").decode("utf-8-sig")
    assert header == "Institution,Budget clause,\"Allocated, $\",\"Executed, $\",Execution,Complies"
    assert "currency,CLP" in meta and "money_locale,es_CL" in meta
    _dataset, chile_pdf = _report(app, CL, CL_YEAR, "en", "pdf")
    text = "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(chile_pdf)).pages)
    assert "$1.234.568" in text and "S/" not in text
    for code, year, number_format in ((CL, CL_YEAR, "#,##0"), ("PE-2021", YEAR, "#,##0.00")):
        _dataset, book = _report(app, code, year, "en", "xlsx")
        sheet = next(ws for ws in load_workbook(io.BytesIO(book)).worksheets if ws.title.startswith("Budget items"))
        assert sheet["C2"].number_format == number_format  # the currency's decimals: none for pesos, two for soles
