"""Annual reports: every format read back matches the dashboard; drafts, provisional and final reports;
the committee's validation; who may download; the CLI; constant queries."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import zipfile
from datetime import date
from decimal import Decimal

import pytest
import sqlalchemy as sa
from docx import Document
from openpyxl import load_workbook
from pypdf import PdfReader

from conftest import count_queries
from test_progress import YEAR, _entry, _save, committee, cycle, navy  # noqa: F401
from tracker import storage
from tracker.audit import AuditEvent
from tracker.auth.models import Role
from tracker.dashboard import services as dash
from tracker.db import db
from tracker.demo import Size, generate
from tracker.plan import models as pm
from tracker.plan import services as plan_services
from tracker.reports import services
from tracker.reports.dataset import SECTION_KEYS, plain
from tracker.reports.exporters import FORMATS, export
from tracker.reports.models import FinalReport, ReportValidation

URL = f"/reports/PE-2021/{YEAR}"
EMPTY_YEAR = 2031


# -- helpers --------------------------------------------------------------------------------------


def _approve(app, committee, code, institution="MGP"):
    entry_id = _entry(app, code, institution).id
    committee.post_form(f"/entries/{entry_id}/approve", token_from=f"/entries/{entry_id}")


@pytest.fixture
def approved(app, navy, committee):
    """PAR-1 completed, PAR-2 ongoing and IND-PAR-2 (26 women, 179 men) approved through the web flow."""
    _save(navy, "PAR-1", {"action_status": "completed", "done": "Cursos dictados en la ESGE"}, send=True, kind="actions")
    _save(navy, "PAR-2", {"action_status": "ongoing"}, send=True, kind="actions")
    _save(navy, "IND-PAR-2", {"women": "26", "men": "179"}, send=True)
    for code in ("PAR-1", "PAR-2", "IND-PAR-2"):
        _approve(app, committee, code)


def _plan(code="PE-2021"):
    return db.session.scalars(sa.select(pm.Plan).filter_by(code=code)).one()


def _dataset(app, year=YEAR, language="en", **kw):
    with app.test_request_context():
        return services.annual_report(db.session, _plan(), year, language, **kw)


def _dashboard(app, year=YEAR):
    with app.test_request_context():
        return dash.build_dashboard(db.session, _plan(), year)


def _par_share(app) -> Decimal:
    return next(c for c in _dashboard(app).cards if c.pillar and c.pillar.code == "PAR").completion.actions_share


def _ind_par2(app) -> tuple[int, int, int]:
    actual = next(r for r in _dashboard(app).women if r.indicator.code == "IND-PAR-2").result.actual
    return actual.women, actual.men, actual.women + actual.men


def _pdf_text(data: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


def _download(client, fmt, year=YEAR, **params):
    query = "&".join(f"{k}={v}" for k, v in {"lang": "en", **params}.items())
    return client.get(f"/reports/PE-2021/{year}.{fmt}?{query}")


# -- every format agrees with the dashboard ---------------------------------------------------------


def test_dashboard_figures_used_below(app, approved):
    assert _par_share(app) == Decimal(2) / Decimal(3)
    assert _ind_par2(app) == (26, 179, 205)


def test_json_matches_the_dashboard(app, approved, committee):
    response = _download(committee, "json")
    assert response.status_code == 200 and response.mimetype == "application/json"
    doc = json.loads(response.data)
    assert doc["meta"]["language"] == "en" and doc["meta"]["year"] == YEAR and doc["meta"]["final"] is False
    sections = {s["key"]: s for s in doc["sections"]}
    assert list(sections) == list(SECTION_KEYS)
    pillars = sections["summary"]["tables"][0]
    assert pillars["key"] == "pillars" and {"key", "label", "kind"} == set(pillars["columns"][0])
    par = next(r for r in pillars["rows"] if r["pillar"] == "Participation")
    assert Decimal(par["actions_share"]) == _par_share(app).quantize(Decimal("0.0001"))  # a share: four decimals
    row = next(r for r in sections["indicators"]["tables"][0]["rows"] if r["code"] == "IND-PAR-2" and r["year"] == YEAR)
    assert (row["women"], row["men"], row["total"]) == _ind_par2(app)
    assert "charts" not in sections["summary"]


def test_xlsx_matches_the_dashboard(app, approved, committee):
    response = _download(committee, "xlsx")
    assert response.status_code == 200
    book = load_workbook(io.BytesIO(response.data))
    dataset = _dataset(app)
    assert book.sheetnames[0] == "Report"
    assert all(len(name) <= 31 for name in book.sheetnames) and len(set(book.sheetnames)) == len(book.sheetnames)
    sheet = book[dataset.table("pillars").title]
    assert sheet.freeze_panes == "A2" and sheet.auto_filter.ref
    header = [c.value for c in sheet[1]]
    par = next(row for row in sheet.iter_rows(min_row=2) if row[0].value == "Participation")
    share = par[header.index("Actions completed or ongoing")]
    assert isinstance(share.value, float) and share.value == pytest.approx(float(_par_share(app)))
    assert "%" in share.number_format
    indicators = book[dataset.table("indicators").title]
    header = [c.value for c in indicators[1]]
    row = next(r for r in indicators.iter_rows(min_row=2, values_only=True) if r[0] == "IND-PAR-2" and r[header.index("Year")] == YEAR)
    assert (row[header.index("Women")], row[header.index("Men")], row[header.index("Total")]) == _ind_par2(app)


def test_csv_zip_matches_the_dashboard(app, approved, committee):
    response = _download(committee, "csv")
    assert response.status_code == 200 and response.mimetype == "application/zip"
    archive = zipfile.ZipFile(io.BytesIO(response.data))
    assert {"meta.csv", "pillars.csv", "indicators.csv", "validation.csv"} <= set(archive.namelist())
    raw = archive.read("pillars.csv")
    assert raw.startswith(b"\xef\xbb\xbf")  # UTF-8 with BOM, for Excel
    rows = list(csv.DictReader(io.StringIO(raw.decode("utf-8-sig"))))
    par = next(r for r in rows if r["Pillar"] == "Participation")
    assert Decimal(par["Actions completed or ongoing"]) == _par_share(app).quantize(Decimal("0.0001"))
    indicators = list(csv.DictReader(io.StringIO(archive.read("indicators.csv").decode("utf-8-sig"))))
    row = next(r for r in indicators if r["Code"] == "IND-PAR-2" and r["Year"] == str(YEAR))
    assert (int(row["Women"]), int(row["Men"]), int(row["Total"])) == _ind_par2(app)
    meta = dict(csv.reader(io.StringIO(archive.read("meta.csv").decode("utf-8-sig"))))
    assert meta["language"] == "en" and meta["plan_code"] == "PE-2021"


def test_docx_matches_the_dashboard(app, approved, committee):
    response = _download(committee, "docx")
    assert response.status_code == 200
    document = Document(io.BytesIO(response.data))
    headings = [p.text for p in document.paragraphs if p.style.name.startswith("Heading")]
    assert "Executive summary" in headings and "Indicators" in headings and "Validation by the monitoring body (Gender Equality Committee of the Ministry of Defense)" in headings
    cells = [[c.text for c in row.cells] for table in document.tables for row in table.rows]
    par = next(r for r in cells if r[0] == "Participation" and r[1].endswith("%"))
    assert par[1] == "67%"  # 2 of 3 actions: the dashboard's share, written as the pages write it
    women, men, total = _ind_par2(app)
    assert any(r[0] == "IND-PAR-2" and r[3] == str(YEAR) and r[8:11] == [str(women), str(men), str(total)] for r in cells)
    assert "Cursos dictados en la ESGE" in "\n".join(c for r in cells for c in r)  # the narrative, editable


def test_pdf_matches_the_dashboard(app, approved, committee):
    response = _download(committee, "pdf")
    assert response.status_code == 200 and response.data.startswith(b"%PDF")
    text = _pdf_text(response.data)
    assert "BORRADOR / DRAFT" in text and "PROVISIONAL" not in text
    assert "Page 1 of" in text
    assert text.count("67%") >= 2  # table and chart, in one style
    assert "IND-PAR-2" in text and "179" in text and "205" in text
    for heading in ("Executive summary", "Indicators", "Reporting completeness and timeliness", "Validation by the monitoring body (Gender Equality Committee of the Ministry of Defense)"):
        assert heading in text
    assert text.index("Validation by the monitoring body (Gender Equality Committee of the Ministry of Defense)") < text.index("Annex")


def test_pdf_renders_spanish_characters_and_currency(app, peru):
    """Helvetica (WinAnsi) covers Spanish accents, ñ, € and S/."""
    from tracker.reports.dataset import Column, ReportDataset, Section, Table
    from tracker.reports.exporters import pdf

    dataset = _dataset(app, language="es")
    extra = Section("extra", "Presupuesto", ["Participación de la niña en el año: € 10 y S/ 25"],
                    [Table("extra_table", "Ejecución", [Column("name", "Institución"), Column("pim", "PIM", "money")], [{"name": "Señal", "pim": Decimal("1234.5")}])])
    dataset = ReportDataset(dataset.meta, [*dataset.sections[:4], extra, *dataset.sections[4:]])
    text = _pdf_text(pdf.write(dataset))
    for expected in ("Participación", "niña", "€ 10", "S/ 25", "Señal", "S/ 1,234.50", "Presupuesto"):
        assert expected in text


def test_writers_handle_any_extra_section(app, peru):
    """Any section passed through `extra_sections` is written by every writer."""
    from tracker.reports.dataset import Column, Section, Table

    extra = Section("extra", "Extra", ["Extra note"], [Table("budget_lines", "Budget by institution", [
        Column("institution", "Institution"), Column("pim", "PIM", "money"), Column("rate", "Execution", "percent"), Column("as_of", "As of", "date"),
    ], [{"institution": "MGP", "pim": Decimal("1000.00"), "rate": Decimal("0.5"), "as_of": date(2025, 12, 31)}])])
    with app.test_request_context():
        dataset = services.annual_report(db.session, _plan(), YEAR, "en", extra_sections=[extra])
        outputs = {fmt: export(dataset, fmt) for fmt in FORMATS}
    keys = [s.key for s in dataset.sections]
    assert keys.index("extra") == keys.index("budget") + 1  # after the budget section
    doc = json.loads(outputs["json"])
    assert doc["sections"][keys.index("extra")]["tables"][0]["rows"] == [{"institution": "MGP", "pim": "1000", "rate": "0.5000", "as_of": "2025-12-31"}]
    assert "budget_lines.csv" in zipfile.ZipFile(io.BytesIO(outputs["csv"])).namelist()
    sheet = load_workbook(io.BytesIO(outputs["xlsx"]))["Budget by institution"]
    assert sheet["B2"].value == 1000 and sheet["B2"].number_format == "#,##0.00" and sheet["D2"].value.year == 2025
    assert "Budget by institution" in _pdf_text(outputs["pdf"])
    assert any(p.text == "Budget by institution" for p in Document(io.BytesIO(outputs["docx"])).paragraphs)


# -- empty years, languages, provisional ----------------------------------------------------------


def test_empty_year_gives_a_valid_report_saying_there_is_no_data(app, committee):
    for fmt in FORMATS:
        response = _download(committee, fmt, year=EMPTY_YEAR)
        assert response.status_code == 200, fmt
    doc = json.loads(_download(committee, "json", year=EMPTY_YEAR).data)
    assert doc["meta"]["has_data"] is False
    assert any("There is no approved data for 2031" in p for p in doc["sections"][0]["paragraphs"])
    text = _pdf_text(_download(committee, "pdf", year=EMPTY_YEAR).data)
    assert "There is no approved data for 2031" in text and "No reporting cycle for this year." in text
    load_workbook(io.BytesIO(_download(committee, "xlsx", year=EMPTY_YEAR).data))
    Document(io.BytesIO(_download(committee, "docx", year=EMPTY_YEAR).data))


def test_both_languages(app, approved, committee):
    es = json.loads(_download(committee, "json", lang="es").data)
    en = json.loads(_download(committee, "json", lang="en").data)
    assert (es["meta"]["language"], en["meta"]["language"]) == ("es", "en")
    assert es["meta"]["plan_title"] == "De la Aceptación a la Inclusión" and es["meta"]["country"] == "Perú"
    assert en["meta"]["plan_title"] == "From Acceptance to Inclusion"
    assert "Participación" in [r["pillar"] for r in es["sections"][0]["tables"][0]["rows"]]
    assert "Participation" in [r["pillar"] for r in en["sections"][0]["tables"][0]["rows"]]
    text = _pdf_text(_download(committee, "pdf", lang="es").data)
    assert "De la Aceptación a la Inclusión" in text and "Participación" in text
    assert "67%" in text  # Peru's Spanish writes percentages as its pages do
    response = committee.get(f"{URL}.json?lang=fr")
    assert response.status_code == 404


def test_pending_data_is_marked_provisional(app, navy, committee):
    _save(navy, "IND-PAR-2", {"women": "26", "men": "179"}, send=True)  # submitted, not approved
    approved_only = json.loads(_download(committee, "json").data)
    row = next(r for r in approved_only["sections"][2]["tables"][0]["rows"] if r["code"] == "IND-PAR-2" and r["year"] == YEAR)
    assert row["women"] is None and approved_only["meta"]["provisional"] is False
    response = _download(committee, "json", pending=1)
    assert 'provisional.json"' in response.headers["Content-Disposition"] or "provisional" in response.headers["Content-Disposition"]
    pending = json.loads(response.data)
    row = next(r for r in pending["sections"][2]["tables"][0]["rows"] if r["code"] == "IND-PAR-2" and r["year"] == YEAR)
    assert row["women"] == 26 and pending["meta"]["provisional"] is True
    assert "PROVISIONAL" in _pdf_text(_download(committee, "pdf", pending=1).data)


# -- permissions ----------------------------------------------------------------------------------


def test_who_may_download(app, navy, login_as):
    assert navy.get("/reports").status_code == 403
    assert navy.get(f"{URL}.pdf").status_code == 403
    viewer, admin = login_as(Role.viewer), login_as(Role.admin)
    assert viewer.get("/reports").status_code == 200 and admin.get("/reports").status_code == 200
    assert viewer.get(f"{URL}.xlsx").status_code == 200 and admin.get(f"{URL}.json").status_code == 200
    assert viewer.get(f"{URL}.json?pending=1").status_code == 403  # submitted data stays with the committee
    assert viewer.get(f"{URL}.exe").status_code == 404 and viewer.get(f"/reports/NOPE/{YEAR}.pdf").status_code == 404
    page = viewer.get("/reports").get_data(as_text=True)
    assert 'href="/reports"' in page and str(YEAR) in page and "/finalize" not in page and "minutes_reference" not in page
    assert 'href="/reports"' not in navy.get("/plans/PE-2021").get_data(as_text=True)


def test_only_the_committee_validates_and_finalizes(app, navy, login_as):
    viewer = login_as(Role.viewer)
    data = {"validated_on": date.today().isoformat(), "minutes_reference": "Acta 1"}
    assert viewer.post_form(f"{URL}/validation", data, token_from="/reports").status_code == 403
    assert viewer.post_form(f"{URL}/finalize", token_from="/reports").status_code == 403
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(FinalReport)) == 0


# -- committee validation and final reports -------------------------------------------------------


def _validate(committee, minutes="Acta N.° 3-2026-CIG", **extra):
    data = {"validated_on": date.today().isoformat(), "minutes_reference": minutes, "recommendations": "Ampliar la cobertura", **extra}
    return committee.post_form(f"{URL}/validation", data, token_from="/reports")


def test_validation_form_keeps_input_and_shows_errors(app, committee):
    response = committee.post_form(f"{URL}/validation", {"validated_on": "", "minutes_reference": "", "recommendations": "Mi texto"},
                                   token_from="/reports")
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "Mi texto" in page and "is-invalid" in page
    future = committee.post_form(f"{URL}/validation", {"validated_on": "2999-01-01", "minutes_reference": "Acta 9"}, token_from="/reports")
    assert future.status_code == 400 and 'value="Acta 9"' in future.get_data(as_text=True)
    no_cycle = committee.post_form(f"/reports/PE-2021/{EMPTY_YEAR}/validation", {"validated_on": date.today().isoformat(), "minutes_reference": "Acta"},
                                   token_from="/reports")
    assert no_cycle.status_code == 400
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(ReportValidation)) == 0


def test_validation_enters_the_report(app, committee):
    assert _validate(committee).status_code == 302
    assert _validate(committee, minutes="Acta N.° 4-2026-CIG").status_code == 302  # corrected, not duplicated
    with app.app_context():
        row = db.session.scalars(sa.select(ReportValidation)).one()
        assert row.minutes_reference == "Acta N.° 4-2026-CIG"
        assert db.session.scalars(sa.select(AuditEvent).filter_by(action="report.validated")).all()
    doc = json.loads(_download(committee, "json").data)
    validation = next(s for s in doc["sections"] if s["key"] == "validation")
    texts = [r["text"] for r in validation["tables"][0]["rows"]]
    assert "Acta N.° 4-2026-CIG" in texts and "Ampliar la cobertura" in texts and date.today().isoformat() in texts
    assert "Acta N.° 4-2026-CIG" in committee.get(f"/reports?plan=PE-2021&year={YEAR}").get_data(as_text=True)


def test_finalize_needs_a_validation(app, committee):
    response = committee.post_form(f"{URL}/finalize", token_from="/reports", follow_redirects=True)
    assert response.status_code == 200
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(FinalReport)) == 0


def test_post_without_csrf_is_refused(app, committee):
    _validate(committee)
    assert committee.post(f"{URL}/finalize", data={}).status_code == 400
    assert committee.post(f"{URL}/validation", data={"validated_on": "2025-01-01", "minutes_reference": "x"}).status_code == 400


def test_final_report_never_changes(app, approved, navy, committee):
    _validate(committee)
    assert committee.post_form(f"{URL}/finalize", token_from="/reports").status_code == 302
    with app.app_context():
        finals = db.session.scalars(sa.select(FinalReport).order_by(FinalReport.id)).all()
        assert {(f.language, f.format, f.version) for f in finals} == {(lang, fmt, 1) for lang in ("es", "en") for fmt in FORMATS}
        paths = {f.id: storage.store().path(services.final_key(f.stored_name)) for f in finals}
        assert all(hashlib.sha256(paths[f.id].read_bytes()).hexdigest() == f.sha256 for f in finals)
        assert all(len(p.name) >= 32 for p in paths.values())  # random names
        assert db.session.scalars(sa.select(AuditEvent).filter_by(action="report.finalized")).one()
    final_json = next(f for f in finals if f.language == "en" and f.format == "json")
    final_pdf = next(f for f in finals if f.language == "es" and f.format == "pdf")
    before = committee.get(f"/reports/final/{final_json.id}").data
    doc = json.loads(before)
    assert doc["meta"]["final"] is True and doc["meta"]["status_label"] == "Final"
    assert "BORRADOR / DRAFT" not in _pdf_text(committee.get(f"/reports/final/{final_pdf.id}").data)

    # A later approval changes the live report, never the final one.
    _save(navy, "IND-PAR-1", {"women": "3", "men": "4"}, send=True)
    _approve(app, committee, "IND-PAR-1")
    live = json.loads(_download(committee, "json").data)
    row = next(r for r in live["sections"][2]["tables"][0]["rows"] if r["code"] == "IND-PAR-1" and r["year"] == YEAR)
    assert row["women"] == 3
    after = committee.get(f"/reports/final/{final_json.id}")
    assert after.data == before and hashlib.sha256(after.data).hexdigest() == final_json.sha256
    old = next(r for r in json.loads(after.data)["sections"][2]["tables"][0]["rows"] if r["code"] == "IND-PAR-1" and r["year"] == YEAR)
    assert old["women"] is None

    # A second final version; the first stays downloadable and identical.
    committee.post_form(f"{URL}/finalize", token_from="/reports")
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.max(FinalReport.version))) == 2
        assert all(hashlib.sha256(paths[f.id].read_bytes()).hexdigest() == f.sha256 for f in finals)
    assert committee.get(f"/reports/final/{final_json.id}").data == before
    page = committee.get(f"/reports?plan=PE-2021&year={YEAR}").get_data(as_text=True)
    assert f"/reports/final/{final_json.id}" in page
    assert navy.get(f"/reports/final/{final_json.id}").status_code == 403
    assert committee.get("/reports/final/999999").status_code == 404


# -- CLI ------------------------------------------------------------------------------------------


def test_cli_writes_a_report(app, approved, tmp_path):
    runner = app.test_cli_runner()
    out = tmp_path / "report.json"
    result = runner.invoke(args=["report", "annual", "--plan", "PE-2021", "--year", str(YEAR), "--format", "json", "--lang", "en", "--output", str(out)])
    assert result.exit_code == 0, result.output
    doc = json.loads(out.read_text(encoding="utf-8"))
    assert doc["meta"]["year"] == YEAR
    row = next(r for r in doc["sections"][2]["tables"][0]["rows"] if r["code"] == "IND-PAR-2" and r["year"] == YEAR)
    assert (row["women"], row["men"], row["total"]) == (26, 179, 205)
    pdf = tmp_path / "report.pdf"
    result = runner.invoke(args=["report", "annual", "--year", str(EMPTY_YEAR), "--format", "pdf", "--lang", "es", "--output", str(pdf), "--pending"])
    assert result.exit_code == 0, result.output
    assert "PROVISIONAL" in _pdf_text(pdf.read_bytes())


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--plan", "NOPE", "--year", "2025"], "no plan has the code 'NOPE'"),
        (["--year", "2025", "--format", "odt"], "--format must be one of"),
        (["--year", "2025", "--lang", "fr"], "--lang must be one of"),
        (["--year", "twenty"], "--year must be a year"),
        (["--format", "pdf"], "--year must be a year"),
        (["--year", "2025", "--output", "/nonexistent/dir/report.pdf"], "cannot write"),
        (["--year", "2025", "--output", "{tmp}"], "cannot write"),
    ],
)
def test_cli_fails_cleanly_on_bad_arguments(app, peru, tmp_path, args, message):
    args = [a.replace("{tmp}", str(tmp_path)) for a in args]
    if "--output" not in args:
        args += ["--output", str(tmp_path / "r.pdf")]
    result = app.test_cli_runner().invoke(args=["report", "annual", *args])
    assert result.exit_code != 0
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert lines == [f"Error: {lines[0][7:]}"] and message in lines[0], result.output
    assert "Traceback" not in result.output and not (tmp_path / "r.pdf").exists()


# -- queries --------------------------------------------------------------------------------------


def test_dataset_costs_a_constant_number_of_queries_and_writers_none(app, peru):
    with app.app_context():
        generate(db.session, Size(plans=1, institutions=3, actions_per_pillar=2, indicators_per_action=1, years=2))
        generate(db.session, Size(plans=1, institutions=30, actions_per_pillar=20, indicators_per_action=1, years=2))
        db.session.commit()

    def queries_for(code: str) -> int:
        with app.test_request_context():
            plan = _plan(code)
            year = max(plan_services.cycle_years(db.session, [plan.id])[plan.id])
            db.session.expire_all()
            with count_queries(db.engine) as statements:
                dataset = services.annual_report(db.session, plan, year, "es")
            with count_queries(db.engine) as writing:
                for fmt in FORMATS:
                    export(dataset, fmt)
            assert writing == []
            return len(statements)

    assert queries_for("DEMO-001") == queries_for("DEMO-002")


def test_plain_values():
    assert plain(Decimal("12.50")) == "12.50" and plain(Decimal("3.000")) == "3" and plain(date(2025, 1, 2)) == "2025-01-02"


def test_report_tables_name_their_constraints(app):
    """The migration names every constraint through the naming convention (so later migrations can drop them)."""
    with app.app_context():
        inspector = sa.inspect(db.engine)
        assert {c["name"] for c in inspector.get_unique_constraints("report_validation")} == {"uq_report_validation_plan_id_year"}
        assert {c["name"] for c in inspector.get_unique_constraints("final_report")} == {
            "uq_final_report_plan_id_year_version_language_format", "uq_final_report_stored_name"}
        assert {c["name"] for c in inspector.get_foreign_keys("final_report")} == {
            "fk_final_report_plan_id_plan", "fk_final_report_finalized_by_id_user_account"}
        assert {c["name"] for c in inspector.get_foreign_keys("report_validation")} == {
            "fk_report_validation_plan_id_plan", "fk_report_validation_updated_by_id_user_account"}
        assert {c["name"] for c in inspector.get_check_constraints("final_report")} == {
            "ck_final_report_year_range", "ck_final_report_version_positive", "ck_final_report_size_positive"}
        assert inspector.get_pk_constraint("final_report")["name"] == "pk_final_report"


def test_user_text_cannot_become_a_spreadsheet_formula(app, peru):
    from tracker.reports.dataset import Column, Section, Table

    evil = Section("extra", "Extra", [], [Table("donors", "Donors", [Column("donor", "Donor"), Column("amount", "Amount", "decimal")],
                                               [{"donor": '=HYPERLINK("http://evil.example","x")', "amount": Decimal("-5")}])])
    with app.test_request_context():
        dataset = services.annual_report(db.session, _plan(), YEAR, "en", extra_sections=[evil])
        xlsx, csv_zip = export(dataset, "xlsx"), export(dataset, "csv")
    cell = load_workbook(io.BytesIO(xlsx))["Donors"]["A2"]
    assert cell.data_type == "s" and cell.value.startswith("'=")
    assert load_workbook(io.BytesIO(xlsx))["Donors"]["B2"].value == -5  # numbers stay numbers
    text = zipfile.ZipFile(io.BytesIO(csv_zip)).read("donors.csv").decode("utf-8-sig")
    assert "'=HYPERLINK" in text and ",-5" in text


def test_a_final_version_number_is_never_given_twice(app, peru, session):
    from tracker.plan import models as pm
    from tracker.reports.models import FinalReportMark
    from tracker.reports.services import next_final_version, raise_final_marks

    plan = session.scalars(sa.select(pm.Plan).filter_by(code="PE-2021")).one()
    assert next_final_version(session, plan, 2024) == 1
    raise_final_marks(session, {("PE-2021", 2024): 4, ("XX-0000", 2024): 9})  # e.g. published before a restore
    assert next_final_version(session, plan, 2024) == 5
    assert session.get(FinalReportMark, (plan.id, 2024)).last_version == 5
