"""Issue 15: the monitoring body uploads a plan file or the indicator matrix, previews what would be added, changed
and refused (with the reason of each refused row), then applies it through the editing service every channel shares."""

from __future__ import annotations

import html
import io
import re
from datetime import date
from decimal import Decimal

import openpyxl
import pytest
import sqlalchemy as sa
import yaml

from conftest import CHILE_FILE, chile_data
from test_formula_safety import xlsx_problems
from tracker.audit import AuditEvent
from tracker.auth.models import Role
from tracker.db import db
from tracker.formulas import safe_text
from tracker.plan import editing, matrix
from tracker.plan import models as m
from tracker.plan.loader import PERU_SEED

PERU = "/plans/PE-2021"
EN = {"Accept-Language": "en"}
PERU_INDICATORS = ["IND-OE1-1", "PRE-1", "PRE-2", "PRE-3", "IND-PAR-1", "IND-PAR-2", "IND-PAR-3", "IND-REC-1",
                   "IND-REC-2", "IND-REC-3", "IND-REC-4"]
REASON = "Acta 4/2026 del Comité: matriz de indicadores"


@pytest.fixture
def committee(login_as):
    return login_as(Role.committee, email="comite@mindef.gob.pe")


@pytest.fixture
def chile_committee(login_as, chile):
    return login_as(Role.committee, email="mesa@chile.example.org", institution=None, plans=("CL-2022",))


# -- helpers ------------------------------------------------------------------------------------


def _download(client, plan: str = PERU) -> openpyxl.Workbook:
    response = client.get(f"{plan}/matrix.xlsx")
    assert response.status_code == 200 and response.mimetype == matrix.XLSX_MIME
    assert "attachment" in response.headers["Content-Disposition"]
    return openpyxl.load_workbook(io.BytesIO(response.data))


def _headers(sheet) -> list[str]:
    return [c.value for c in sheet[1]]


def _fill(workbook, code: str, targets: dict[int, object] | None = None, **values) -> int:
    """Write values (by matrix key) and targets (by year) in the row of `code`, a new row when it is not there."""
    sheet = workbook.worksheets[0]
    year_column = {int(str(title)[-4:]): i for i, title in enumerate(_headers(sheet), start=1) if i > len(matrix.KEYS)}
    rows = [r for r in range(2, sheet.max_row + 1) if sheet.cell(r, 1).value == code]
    row = rows[0] if rows else sheet.max_row + 1
    sheet.cell(row, 1).value = code
    for key, value in values.items():
        sheet.cell(row, matrix.KEYS.index(key) + 1).value = value
    for year, value in (targets or {}).items():
        sheet.cell(row, year_column[year]).value = value
    return row


def _xlsx(workbook) -> bytes:
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _post(client, data: bytes, name: str, reason: str = REASON, plan: str = PERU):
    return client.post_form(f"{plan}/import", {"file": (io.BytesIO(data), name), "reason": reason},
                            content_type="multipart/form-data", headers=EN)


def _rows(page: str) -> dict[str, tuple[str, str]]:
    """{code: (status, changes or reason)} read from the preview table."""
    found = re.findall(r'data-code="([^"]*)" data-status="(\w+)">(.*?)</tr>', page, re.S)
    out = {}
    for code, status, cells in found:
        last = re.findall(r"<td[^>]*>(.*?)</td>", cells, re.S)[-1]
        out[html.unescape(code)] = (status, " ".join(html.unescape(re.sub(r"<[^>]+>", " ", last)).split()))
    return out


def _token(page: str) -> str:
    match = re.search(r'name="token"[^>]*value="([0-9a-f]{32})"', page) or re.search(r'value="([0-9a-f]{32})"[^>]*name="token"', page)
    assert match, "no Apply button"
    return match.group(1)


def _apply(client, page: str, plan: str = PERU):
    return client.post_form(f"{plan}/import/apply", {"token": _token(page)}, token_from=f"{plan}/import", headers=EN)


def _count(app, model, **by) -> int:
    with app.app_context():
        return db.session.scalar(sa.select(sa.func.count()).select_from(model).filter_by(**by))


def _indicator(code: str, plan: str = "PE-2021") -> m.Indicator:
    plan_id = db.session.scalars(sa.select(m.Plan.id).filter_by(code=plan)).one()
    return db.session.scalars(sa.select(m.Indicator).filter_by(plan_id=plan_id, code=code)).one()


def _stored(app) -> dict[str, int]:
    """How many rows of what an import changes are stored."""
    models = (m.Indicator, m.IndicatorTarget, m.IndicatorTargetChange, m.PlanChange, m.IndicatorInstitution, AuditEvent)
    return {model.__name__: _count(app, model) for model in models}


def _filled_matrix(committee) -> bytes:
    """Baselines and targets for two indicators, and one new indicator."""
    workbook = _download(committee)
    _fill(workbook, "PRE-2", baseline_value=12, baseline_year=2021, targets={2025: 20, 2026: 25})
    _fill(workbook, "IND-REC-4", baseline_value=10.5, baseline_year=2022, targets={2026: 30})
    _fill(workbook, "IND-PAR-4", name_es="Número de oficiales mujeres desplegadas", pillar="PAR", action="PAR-1",
          measure="number", counts_people="no", direction="increase", cumulative="no", lead="MINDEF", support="MGP; FAP",
          targets={2026: 12})
    return _xlsx(workbook)


# -- the template -------------------------------------------------------------------------------


def test_template_lists_the_plans_indicators_and_a_column_per_year(app, committee):
    workbook = _download(committee)
    sheet = workbook.worksheets[0]
    with app.test_request_context():
        plan = db.session.scalars(sa.select(m.Plan).filter_by(code="PE-2021")).one()
        years = editing.target_years(plan)
        titles = [str(c.title) for c in matrix.COLUMNS] + [matrix.target_title(y) for y in years]
    assert years[0] == 2021 and years[-1] >= 2030  # no timeframe: from its adoption on
    assert _headers(sheet) == titles
    assert [row[0] for row in sheet.iter_rows(min_row=2, values_only=True)] == PERU_INDICATORS
    par1 = next(row for row in sheet.iter_rows(min_row=2, values_only=True) if row[0] == "IND-PAR-1")
    assert par1[3:7] == ("PAR", None, "PAR-1", "number") and par1[14:16] == ("MINDEF", "CCFFAA; EP; MGP; FAP")
    assert workbook.sheetnames[1:] == ["Instrucciones", matrix.META_SHEET]  # the user's language: Spanish
    instructions = [c for row in workbook.worksheets[1].iter_rows(values_only=True) for c in row if c]
    assert "MGP" in instructions and "yes_no" in instructions and "PAR-1" in instructions


def test_template_leaves_retired_indicators_out(app, committee):
    with app.test_request_context():
        plan = db.session.scalars(sa.select(m.Plan).filter_by(code="PE-2021")).one()
        editing.retire(db.session, plan, m.PlanItemKind.indicator, _indicator("PRE-3"),
                       editing.Editor("comite@mindef.gob.pe", "Acta 2/2026", m.ChangeChannel.web))
        db.session.commit()
    codes = [row[0] for row in _download(committee).worksheets[0].iter_rows(min_row=2, values_only=True)]
    assert "PRE-3" not in codes and len(codes) == 10


def test_template_is_formula_safe_and_comes_back_unchanged(app, committee):
    payload = '=HYPERLINK("http://evil.example","x")'
    with app.app_context():
        db.session.execute(sa.update(m.Indicator).where(m.Indicator.code == "PRE-1").values(name_es=payload, unit_es="+1"))
        db.session.commit()
    data = _xlsx(_download(committee))
    assert xlsx_problems(data) == []
    assert safe_text(payload) in [c for row in openpyxl.load_workbook(io.BytesIO(data)).worksheets[0].iter_rows(values_only=True) for c in row]
    page = _post(committee, data, "matriz.xlsx").get_data(as_text=True)
    assert {status for status, _ in _rows(page).values()} == {"unchanged"}
    assert "nothing-to-apply" in page


# -- the matrix: preview, then apply ---------------------------------------------------------------


def test_matrix_preview_shows_what_would_change_and_stores_nothing(app, committee):
    data = _filled_matrix(committee)
    before = _stored(app)
    response = _post(committee, data, "matriz.xlsx")
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    rows = _rows(page)
    assert rows["PRE-2"] == ("changed", "Baseline value · Baseline year · Targets 2025, 2026")
    assert rows["IND-REC-4"] == ("changed", "Baseline value · Baseline year · Target 2026")
    assert rows["IND-PAR-4"] == ("added", "Target 2026")
    assert {rows[c][0] for c in PERU_INDICATORS if c not in ("PRE-2", "IND-REC-4")} == {"unchanged"}
    assert _stored(app) == before
    with app.app_context():
        assert _indicator("PRE-2").baseline_value is None


def test_applying_the_matrix_stores_targets_with_reason_author_and_channel(app, committee):
    page = _post(committee, _filled_matrix(committee), "matriz.xlsx").get_data(as_text=True)
    response = _apply(committee, page)
    assert response.status_code == 302 and response.headers["Location"].endswith(PERU)
    with app.app_context():
        pre2, new = _indicator("PRE-2"), _indicator("IND-PAR-4")
        assert (pre2.baseline_value, pre2.baseline_year) == (Decimal(12), 2021)
        assert {t.year: t.value for t in pre2.targets} == {2025: 20, 2026: 25}
        assert {(t.verification, t.source_document, t.decided_on, t.decided_by) for t in pre2.targets} == {
            (m.Verification.derived, "", date.today(), "comite@mindef.gob.pe")}
        changes = db.session.scalars(sa.select(m.IndicatorTargetChange)).all()
        assert len(changes) == 4 and {(c.reason, c.changed_by) for c in changes} == {(REASON, "comite@mindef.gob.pe")}
        plan_changes = db.session.scalars(sa.select(m.PlanChange).where(m.PlanChange.changed_by != "plan-file")).all()
        assert {(c.channel, c.reason, c.changed_by) for c in plan_changes} == {
            (m.ChangeChannel.spreadsheet, REASON, "comite@mindef.gob.pe")}
        assert {(c.item_code, c.field) for c in plan_changes} == {
            ("PRE-2", "baseline_value"), ("PRE-2", "baseline_year"), ("IND-REC-4", "baseline_value"),
            ("IND-REC-4", "baseline_year"), ("IND-PAR-4", "created"), ("IND-PAR-4", "responsible")}
        assert (new.name_es, new.pillar.code, new.action.code, new.verification) == (
            "Número de oficiales mujeres desplegadas", "PAR", "PAR-1", m.Verification.derived)
        assert [(r.institution.code, r.role.value) for r in new.responsible] == [("MINDEF", "lead"), ("MGP", "support"), ("FAP", "support")]
        event = db.session.scalars(sa.select(AuditEvent).filter_by(action="plan.matrix_imported")).one()
        assert event.details_dict | {} == {"via": "web", "plan": "PE-2021", "file": "matriz.xlsx", "created": 1, "updated": 2, "refused": 0}
        assert event.actor_email == "comite@mindef.gob.pe"
    assert "Indicators added: 1; changed: 2" in committee.get(PERU, headers=EN).get_data(as_text=True)


def test_an_upload_is_applied_once(app, committee):
    page = _post(committee, _filled_matrix(committee), "matriz.xlsx").get_data(as_text=True)
    _apply(committee, page)
    again = _apply(committee, page)
    assert again.status_code == 302 and again.headers["Location"].endswith(f"{PERU}/import")
    assert _count(app, m.IndicatorTargetChange) == 4


def test_another_user_cannot_apply_someone_elses_upload(app, committee, login_as):
    page = _post(committee, _filled_matrix(committee), "matriz.xlsx").get_data(as_text=True)
    other = login_as(Role.committee, email="otra@mindef.gob.pe")
    response = other.post_form(f"{PERU}/import/apply", {"token": _token(page)}, token_from=f"{PERU}/import", headers=EN)
    assert response.status_code == 302 and _count(app, m.IndicatorTargetChange) == 0


def test_refused_rows_say_why_and_the_others_apply(app, committee):
    from tracker.demo import seed_peru_demo

    with app.app_context():
        seed_peru_demo(db.session)  # approved Navy figures for IND-PAR-1
        db.session.commit()
    workbook = _download(committee)
    _fill(workbook, "PRE-2", targets={2026: 25})
    _fill(workbook, "IND-PAR-1", measure="qualitative", counts_people="no")
    _fill(workbook, "IND-NEW-1", name_en="Women in command posts", pillar="XYZ", measure="number", direction="increase")
    _fill(workbook, "IND-REC-2", lead="MINDEF; NAVY", targets={2026: "muchos"})
    page = _post(committee, _xlsx(workbook), "matriz.xlsx").get_data(as_text=True)
    rows = _rows(page)
    assert rows["IND-PAR-1"][0] == "refused"
    assert "measure, counts_people cannot change while 3 approved entries use this indicator" in rows["IND-PAR-1"][1]
    assert rows["IND-NEW-1"] == ("refused", "Pillar (code): Unknown pillar «XYZ» in this plan.")
    assert rows["IND-REC-2"] == ("refused", "Lead institutions (codes): Unknown institution «NAVY» of the plan's country. "
                                            "Target 2026: «muchos» is not a number.")
    assert rows["PRE-2"] == ("changed", "Target 2026")
    _apply(committee, page)
    with app.app_context():
        assert _indicator("IND-PAR-1").measure == m.Measure.number
        assert [t.value for t in _indicator("PRE-2").targets] == [25]
        assert db.session.scalars(sa.select(m.PlanChange.item_code).filter_by(channel=m.ChangeChannel.spreadsheet)).all() == []
        assert db.session.scalars(sa.select(m.IndicatorTargetChange.year)).all() == [2026]
    assert _count(app, m.Indicator, code="IND-NEW-1") == 0
    flashes = committee.get(PERU, headers=EN).get_data(as_text=True)
    assert "refused: 3" in flashes and "Row" in flashes


def test_a_refusal_reads_the_same_through_the_matrix_and_a_plan_file(app, committee, tmp_path):
    """One rule, one message: the matrix and plan files go through the same editing service."""
    from tracker.demo import seed_peru_demo

    with app.app_context():
        seed_peru_demo(db.session)
        db.session.commit()
    workbook = _download(committee)
    _fill(workbook, "IND-PAR-1", measure="qualitative", counts_people="no")
    through_matrix = _rows(_post(committee, _xlsx(workbook), "matriz.xlsx").get_data(as_text=True))["IND-PAR-1"][1]
    data = yaml.safe_load(PERU_SEED.read_text(encoding="utf-8"))
    data["plan"]["indicators"][4].update(measure="qualitative", counts_people=False)
    response = _post(committee, yaml.safe_dump(data, allow_unicode=True).encode(), "peru.yaml")
    through_file = html.unescape(response.get_data(as_text=True))
    assert response.status_code == 400
    assert "approved entries use this indicator" in through_matrix and through_matrix in through_file
    assert _count(app, m.PlanChange, changed_by="comite@mindef.gob.pe") == 0


# -- plan files -----------------------------------------------------------------------------------


def _chile_variant() -> bytes:
    data = chile_data()
    data["plan"]["indicators"][0]["targets"][0]["value"] = 7
    data["plan"]["indicators"][0]["name"]["en"] = "Women trained in the new course"
    return yaml.safe_dump(data, allow_unicode=True).encode()


def test_plan_file_previews_then_applies_with_the_web_reason(app, chile_committee):
    chile_code = chile_data()["plan"]["indicators"][0]["code"]
    year = chile_data()["plan"]["indicators"][0]["targets"][0]["year"]
    before = _stored(app)
    response = _post(chile_committee, _chile_variant(), "chile.yaml", plan="/plans/CL-2022")
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert _rows(page) == {chile_code: ("changed", f"Name in English · Target {year}")}
    assert _stored(app) == before
    assert _apply(chile_committee, page, plan="/plans/CL-2022").status_code == 302
    with app.app_context():
        change = db.session.scalars(sa.select(m.PlanChange).filter_by(changed_by="mesa@chile.example.org")).one()
        assert (change.item_code, change.field, change.channel, change.reason, change.changed_by) == (
            chile_code, "name_en", m.ChangeChannel.plan_file, REASON, "mesa@chile.example.org")
        target = db.session.scalars(sa.select(m.IndicatorTargetChange).filter_by(changed_by="mesa@chile.example.org")).one()
        assert (target.new_value, target.reason, target.changed_by) == (7, REASON, "mesa@chile.example.org")
        event = db.session.scalars(sa.select(AuditEvent).filter_by(action="plan.imported")).one()
        assert event.details_dict == {"via": "web", "plan": "CL-2022", "file": "chile.yaml", "created": 0, "updated": 1}


def test_a_plan_file_from_the_web_may_not_change_the_country_or_its_institutions(app, chile_committee):
    data = chile_data()
    data["institutions"][0]["name"]["en"] = "Renamed by the committee"
    before = _stored(app)
    response = _post(chile_committee, yaml.safe_dump(data, allow_unicode=True).encode(), "chile.yaml", plan="/plans/CL-2022")
    assert response.status_code == 400
    assert "The file changes the country's data or its institutions, or the plan's monitoring body" in html.unescape(
        response.get_data(as_text=True))
    assert 'name="token"' not in response.get_data(as_text=True) and _stored(app) == before


@pytest.mark.parametrize("change", ["body", "budget"])
def test_a_plan_file_from_the_web_may_not_change_the_body_or_the_budget_clause(app, chile_committee, change):
    """Those are kept by admins: a new body code would also end the uploader's own membership."""
    data = chile_data()
    if change == "body":
        data["plan"]["monitoring_body"]["code"] = "OTRO-COMITE"
    else:
        data["plan"]["budget"]["binds"] = []
    response = _post(chile_committee, yaml.safe_dump(data, allow_unicode=True).encode(), "chile.yaml", plan="/plans/CL-2022")
    assert response.status_code == 400
    assert "or the plan's monitoring body or budget clause, which administrators keep" in html.unescape(
        response.get_data(as_text=True))
    with app.app_context():
        assert [b.code for b in db.session.scalars(sa.select(m.MonitoringBody).filter_by(active=True))
                if b.plan_id == db.session.scalar(sa.select(m.Plan.id).filter_by(code="CL-2022"))] != ["OTRO-COMITE"]


def test_a_plan_file_of_another_plan_is_refused(app, committee, chile):
    response = _post(committee, CHILE_FILE.read_bytes(), "chile-2022.yaml")
    assert response.status_code == 400
    assert "This plan file is for the plan CL-2022, not PE-2021" in html.unescape(response.get_data(as_text=True))
    assert 'name="token"' not in response.get_data(as_text=True)


def test_an_invalid_plan_file_lists_where_and_what(app, committee):
    data = yaml.safe_load(PERU_SEED.read_text(encoding="utf-8"))
    data["plan"]["actions"][0]["pillar"] = "XYZ"
    page = html.unescape(_post(committee, yaml.safe_dump(data).encode(), "peru.yml").get_data(as_text=True))
    assert "plan.actions[0].pillar" in page and "unknown pillar 'XYZ'" in page


# -- bad input ------------------------------------------------------------------------------------


BAD = [
    ("garbage workbook", b"\x00\xffPK not a zip at all", "matriz.xlsx", "is not an Excel workbook"),
    ("garbage plan file", b"\xff\xfe\x00garbage", "plan.yaml", "is not a text file in UTF-8"),
    ("invalid YAML", b"format: nap-tracker/plan@1\ncountry: [unclosed\n", "plan.yaml", "is not valid YAML (line"),
    ("empty upload", b"", "matriz.xlsx", "matriz.xlsx is empty"),
    ("text file", b"code;name\n", "matriz.txt", "is neither a plan file (.yaml, .yml) nor an indicator matrix (.xlsx)"),
    ("a workbook that is not the matrix", None, "otra.xlsx", "Unknown column «Nombre»"),
]


@pytest.mark.parametrize(("data", "name", "message"), [case[1:] for case in BAD], ids=[case[0] for case in BAD])
def test_bad_uploads_come_back_with_a_message(app, committee, data, name, message):
    if data is None:
        workbook = openpyxl.Workbook()
        workbook.active.append(["Nombre", "Valor"])
        data = _xlsx(workbook)
    before = _stored(app)
    response = _post(committee, data, name)
    page = html.unescape(response.get_data(as_text=True))
    assert response.status_code == 400 and message in page
    assert REASON in page  # the reason typed is kept
    assert _stored(app) == before


def test_no_file_and_no_reason_are_field_errors(committee):
    response = committee.post_form(f"{PERU}/import", {"reason": " "}, headers=EN)
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "Choose the file to upload." in page and "Say why: every change of the plan keeps its reason." in page


def test_an_oversized_upload_is_refused(app, committee, monkeypatch):
    monkeypatch.setitem(app.config, "MAX_UPLOAD_MB", 1)
    response = _post(committee, b"x" * (1024 * 1024 + 1), "plan.yaml")
    assert response.status_code == 400 and "plan.yaml is larger than 1 MB." in response.get_data(as_text=True)


# -- who may ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("role", [Role.reporter, Role.viewer, Role.admin])
def test_only_the_monitoring_body_imports(app, login_as, role):
    client = login_as(role)
    assert client.get(f"{PERU}/import").status_code == 403
    assert client.get(f"{PERU}/matrix.xlsx").status_code == 403
    token = client.csrf_token("/account/password")
    data = {"csrf_token": token, "reason": REASON, "file": (io.BytesIO(CHILE_FILE.read_bytes()), "plan.yaml")}
    assert client.post(f"{PERU}/import", data=data, content_type="multipart/form-data").status_code == 403
    assert client.post(f"{PERU}/import/apply", data={"csrf_token": token, "token": "0" * 32}).status_code == 403


def test_another_plans_committee_is_told_the_plan_does_not_exist(chile_committee):
    assert chile_committee.get(f"{PERU}/import").status_code == 404
    assert chile_committee.get(f"{PERU}/matrix.xlsx").status_code == 404


def test_the_upload_page_links_the_template(committee):
    page = committee.get(f"{PERU}/import", headers=EN).get_data(as_text=True)
    assert 'href="/plans/PE-2021/matrix.xlsx"' in page and 'enctype="multipart/form-data"' in page


def test_a_plan_file_of_a_higher_version_previews_and_applies_as_a_revision(app, chile_committee):
    data = chile_data()
    data["plan"]["version"] = data["plan"].get("version", 1) + 1
    page = _post(chile_committee, yaml.safe_dump(data, allow_unicode=True).encode(), "chile-v2.yaml",
                 plan="/plans/CL-2022").get_data(as_text=True)
    assert 'id="revision"' in page and _count(app, m.PlanVersion) == 0
    _apply(chile_committee, page, plan="/plans/CL-2022")
    with app.app_context():
        event = db.session.scalars(sa.select(AuditEvent).filter_by(action="plan.imported")).one()
        assert event.details_dict["revised_from"] == data["plan"]["version"] - 1
        assert db.session.scalars(sa.select(m.Plan.version).filter_by(code="CL-2022")).one() == data["plan"]["version"]
    assert _count(app, m.PlanVersion) == 1
