"""Formula-safe spreadsheets (issue 12): no text that a user or a plan file controls starts a formula in any file.

Every plan text, name, narrative, note, budget line and validation text is set to a formula payload; then every
generated spreadsheet (bulk template, annual report XLSX, report CSV zip with meta.csv, in both languages, with
the budget section) is read back cell by cell: openpyxl must see no formula, and no text may begin with a
formula character unless escaped with an apostrophe. Numbers stay numbers.
"""

from __future__ import annotations

import csv
import io
import re
import zipfile
from datetime import date, timedelta
from decimal import Decimal

import pytest
import sqlalchemy as sa
from flask_babel import lazy_gettext
from openpyxl import load_workbook

from conftest import Client
from test_bulk_import import _preview
from tracker.auth.models import Role, User
from tracker.budget import services as budget
from tracker.budget.models import BudgetStage
from tracker.db import db
from tracker.formulas import safe_cell, safe_text, unescape_text
from tracker.plan import models as pm
from tracker.progress import services as progress
from tracker.progress.models import ActionStatus, CycleState, ReportingCycle
from tracker.reports import services as reports
from tracker.review import steps

YEAR = 2025
PAYLOADS = ['=HYPERLINK("http://evil.example","x")', "+1", "-2+3", "@SUM(A1)", "\t=1", "\r=1", "\uff1d1+1"]
# Written here rather than imported, so that the test also checks the helper's own list.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "\uff1d", "\uff0b", "\uff0d", "\uff20")
NUMBER = re.compile(r"-?\d+(\.\d+)?(E-?\d+)?")
PLAN_MODELS = (pm.Country, pm.Institution, pm.Plan, pm.PlanSection, pm.PlanActor, pm.MonitoringParticipant, pm.Pillar,
               pm.Objective, pm.Action, pm.ActionInstitution, pm.Indicator, pm.IndicatorInstitution)


# -- the helper ------------------------------------------------------------------------------------


@pytest.mark.parametrize("payload", PAYLOADS)
def test_formula_payloads_get_an_apostrophe(payload):
    assert safe_text(payload) == "'" + payload


@pytest.mark.parametrize("value", [5, -5, Decimal("-2.5"), 0.5, True, date(2025, 1, 1), None])
def test_numbers_dates_and_empty_cells_stay_as_they_are(value):
    assert safe_cell(value) is value


def test_lazy_translations_become_escaped_text(app):
    with app.test_request_context():
        assert safe_cell(lazy_gettext("-%(n)s", n=1)) == "'-1"


@pytest.mark.parametrize("text", ["Ministerio", "'quoted'", "1-2", "a=b"])
def test_ordinary_text_is_left_alone(text):
    assert (safe_text(text), unescape_text(text)) == (text, text)


@pytest.mark.parametrize("payload", PAYLOADS)
def test_unescape_gives_back_the_original_text(payload):
    assert unescape_text(safe_text(payload)) == payload


# -- a world where every text is a payload ----------------------------------------------------------


def _poison_plan(session, payload: str) -> None:
    """Every translated text of the plan structure (titles, names, units, roles...) becomes the payload."""
    for model in PLAN_MODELS:
        names = [c.key for c in sa.inspect(model).columns if c.key.endswith(("_es", "_en")) and isinstance(c.type, sa.String)]
        if names:
            session.execute(sa.update(model).values({name: payload for name in names}))


def _entries(session, payload: str, reporter: User, committee: User, cycle: ReportingCycle) -> None:
    """MGP's entries in every state the writers show: approved (reports), returned with a note and drafts (template)."""
    navy = session.scalars(sa.select(pm.Institution).filter_by(code="MGP")).one()
    plan_id = cycle.plan_id

    def item(model, code):
        return session.scalars(sa.select(model).filter_by(plan_id=plan_id, code=code)).one()

    texts = {"done": payload, "challenges": payload, "next_steps": payload}
    people = progress.IndicatorInput(women=5, men=20, narrative=payload, data_source=payload)
    approved = [progress.save_entry(session, reporter, cycle, navy, item(pm.Indicator, "IND-PAR-2"), people, submit=True),
                progress.save_entry(session, reporter, cycle, navy, item(pm.Action, "PAR-1"),
                                    progress.ActionInput(action_status=ActionStatus.in_progress, **texts), submit=True)]
    for entry in approved:
        steps.take_step(session, committee, entry, "approve")
    session.commit()  # one step per transaction, as requests would do them
    returned = progress.save_entry(session, reporter, cycle, navy, item(pm.Action, "PAR-2"),
                                   progress.ActionInput(action_status=ActionStatus.completed, **texts), submit=True)
    steps.take_step(session, committee, returned, "return", payload)
    session.commit()
    progress.save_entry(session, reporter, cycle, navy, item(pm.Action, "PAR-3"), progress.ActionInput(**texts))
    _budget_item(session, payload, reporter, committee, cycle, navy)


def _budget_item(session, payload, reporter, committee, cycle, navy) -> None:
    data = budget.BudgetInput(stage=BudgetStage.included_pia, pliego="026", unidad_ejecutora="001", meta_presupuestal="0012",
                              product_activity=payload, expense_category=payload, funding_source=payload,
                              pia=Decimal("100"), pim=Decimal("120"), devengado=Decimal("60"),
                              external_support=[budget.SupportInput(payload, Decimal("-0") + 5000, "USD", payload)])
    entry = budget.save_budget_item(session, reporter, cycle, navy, data, submit=True)
    steps.take_step(session, committee, entry, "approve")


# Through whole files, three payloads stand for the rest (each is checked alone against safe_cell above):
# a formula sign, a leading control character and a full-width sign.
@pytest.fixture(params=[PAYLOADS[0], PAYLOADS[4], PAYLOADS[6]], ids=["hyperlink", "tab", "full-width"])
def payload(request):
    return request.param


@pytest.fixture
def poisoned(app, peru, make_user, payload, monkeypatch, tmp_path) -> dict[str, Client]:
    """The payload in every text that reaches a writer; clients for the reporter (MGP) and the committee."""
    monkeypatch.setitem(app.config, "UPLOAD_FOLDER", tmp_path)
    emails = {"reporter": make_user(Role.reporter, institution="MGP", name=payload)[1],
              "committee": make_user(Role.committee, name=payload)[1]}
    with app.test_request_context():
        session = db.session
        _poison_plan(session, payload)
        plan = session.scalars(sa.select(pm.Plan).filter_by(code="PE-2021")).one()
        cycle = ReportingCycle(plan_id=plan.id, year=YEAR, deadline=date.today() + timedelta(days=30), state=CycleState.open)
        session.add(cycle)
        session.flush()
        users = {who: session.scalars(sa.select(User).filter_by(email=email)).one() for who, email in emails.items()}
        _entries(session, payload, users["reporter"], users["committee"], cycle)
        validation = reports.ValidationInput(date.today(), payload, payload, payload, payload, payload)
        reports.save_validation(session, plan, YEAR, validation, users["committee"])
        session.commit()
    clients = {}
    for who, email in emails.items():
        clients[who] = Client(app.test_client())
        assert clients[who].login(email).status_code == 302
    return clients


def download(client: Client, url: str) -> bytes:
    response = client.get(url)
    assert response.status_code == 200, url
    return response.data


# -- reading the files back -------------------------------------------------------------------------


def is_live(text: str) -> bool:
    """Text that a spreadsheet would take for a formula: it starts with a formula character and is not a number."""
    return text.startswith(FORMULA_STARTS) and not NUMBER.fullmatch(text)


def xlsx_problems(data: bytes) -> list[str]:
    """Formula cells, live text cells and live drop-down options, in every sheet (hidden ones too)."""
    book = load_workbook(io.BytesIO(data))
    problems = []
    for sheet in book.worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                if cell.data_type == "f" or (isinstance(cell.value, str) and is_live(cell.value)):
                    problems.append(f"{sheet.title}!{cell.coordinate} ({cell.data_type}): {cell.value!r}")
        for validation in sheet.data_validations.dataValidation:
            if validation.type == "list":
                options = (validation.formula1 or "").strip('"').split(",")
                problems += [f"{sheet.title} list: {o!r}" for o in options if is_live(o)]
    return problems


def xlsx_texts(data: bytes) -> list[str]:
    book = load_workbook(io.BytesIO(data))
    return [c.value for s in book.worksheets for row in s.iter_rows() for c in row if isinstance(c.value, str)]


def csv_cells(data: bytes) -> dict[str, list[str]]:
    """Every cell of every CSV file of the zip, by file name."""
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return {name: [cell for row in csv.reader(io.StringIO(archive.read(name).decode("utf-8-sig"), newline="")) for cell in row]
                for name in archive.namelist()}


REPORTS = [f"/reports/PE-2021/{YEAR}.xlsx?lang={lang}{pending}" for lang in ("es", "en") for pending in ("", "&pending=1")]
CSV_REPORTS = [url.replace(".xlsx", ".csv") for url in REPORTS]


# -- the bulk template --------------------------------------------------------------------------------


def test_bulk_template_has_no_live_formula(poisoned):
    template = download(poisoned["reporter"], f"/plans/PE-2021/report/{YEAR}/template.xlsx")
    assert xlsx_problems(template) == []


def test_bulk_template_carries_the_payloads_as_text(poisoned, payload):
    texts = xlsx_texts(download(poisoned["reporter"], f"/plans/PE-2021/report/{YEAR}/template.xlsx"))
    assert texts.count(safe_text(payload)) >= 10  # names, narratives, pre-filled drafts


def test_bulk_template_with_payloads_comes_back_unchanged(poisoned):
    """The escaping is undone when the template is read: an untouched pre-filled draft is not modified."""
    reporter = poisoned["reporter"]
    template = download(reporter, f"/plans/PE-2021/report/{YEAR}/template.xlsx")
    url = f"/plans/PE-2021/report/{YEAR}/import"
    page = reporter.post_form(url, {"file": (io.BytesIO(template), "plantilla.xlsx")}, content_type="multipart/form-data",
                              headers={"Accept-Language": "en"}).get_data(as_text=True)
    statuses = {code: status for code, status, _error in _preview(page).values()}
    assert statuses == {"PAR-2": "unchanged", "PAR-3": "unchanged"}


# -- the annual report ----------------------------------------------------------------------------------


def test_report_workbooks_have_no_live_formula(poisoned):
    problems = {url: xlsx_problems(download(poisoned["committee"], url)) for url in REPORTS}
    assert problems == {url: [] for url in REPORTS}


def test_report_workbooks_carry_the_payloads_as_text(poisoned, payload):
    counts = {url: xlsx_texts(download(poisoned["committee"], url)).count(safe_text(payload)) for url in REPORTS}
    assert min(counts.values()) >= 5, counts  # meta (plan title, country), sections, tables, validation


@pytest.mark.parametrize("payload", PAYLOADS[:1])
def test_report_workbook_keeps_numbers_as_numbers(poisoned):
    book = load_workbook(io.BytesIO(download(poisoned["committee"], REPORTS[0])))
    numbers = [c.value for s in book.worksheets for row in s.iter_rows() for c in row if c.data_type == "n" and c.value is not None]
    assert 5000 in numbers and 2025 in numbers


def test_report_csv_files_have_no_live_formula(poisoned):
    live = {}
    for url in CSV_REPORTS:
        files = csv_cells(download(poisoned["committee"], url))
        assert "meta.csv" in files and "external_support.csv" in files
        live |= {f"{url} {name}": [c for c in cells if is_live(c)] for name, cells in files.items()}
    assert live == {key: [] for key in live}


def test_report_csv_meta_carries_the_plan_texts_as_text(poisoned, payload):
    meta = csv_cells(download(poisoned["committee"], CSV_REPORTS[0]))["meta.csv"]
    assert meta.count(safe_text(payload)) == 2  # country and plan title


def test_report_csv_budget_carries_donor_and_purpose_as_text(poisoned, payload):
    support = csv_cells(download(poisoned["committee"], CSV_REPORTS[1]))["external_support.csv"]
    assert support.count(safe_text(payload.strip())) == 2  # the services strip what users type


@pytest.mark.parametrize("payload", PAYLOADS[:2])  # the stored files are the same writers' output
def test_final_report_files_have_no_live_formula(app, poisoned):
    committee = poisoned["committee"]
    committee.post_form(f"/reports/PE-2021/{YEAR}/finalize", token_from="/reports")
    with app.app_context():
        rows = db.session.scalars(sa.select(reports.FinalReport).where(reports.FinalReport.format.in_(["xlsx", "csv"]))).all()
        ids = [(row.id, row.format) for row in rows]
    assert len(ids) == 4
    for report_id, fmt in ids:
        data = download(committee, f"/reports/final/{report_id}")
        live = xlsx_problems(data) if fmt == "xlsx" else [c for cells in csv_cells(data).values() for c in cells if is_live(c)]
        assert live == [], (report_id, fmt)
