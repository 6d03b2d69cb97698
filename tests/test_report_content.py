"""The annual report as a document the committee signs (issue 17): the institutions' narratives and evidence, the
committee's commentary, the charts in PDF and Word, numbers written one way per language and rounded to what they
mean in JSON, the JSON checked against its published schema, the HTML preview and the reports page's choice."""

from __future__ import annotations

import csv
import io
import json
import zipfile
from decimal import Decimal
from pathlib import Path

import jsonschema
import pytest
import sqlalchemy as sa
from docx import Document
from openpyxl import load_workbook
from pypdf import PdfReader

from conftest import YEAR_NOW, logged_in, page_text
from tracker.audit import AuditEvent
from tracker.auth.models import Role, User
from tracker.db import db
from tracker.demo import seed_peru_demo
from tracker.plan import models as pm
from tracker.progress import services, uploads
from tracker.progress.models import ActionStatus, Entry, ReportingCycle
from tracker.reports import services as reports
from tracker.reports.exporters import FORMATS, export
from tracker.reports.models import ReportCommentary
from tracker.review import steps

SCHEMA = Path(__file__).resolve().parents[1] / "docs" / "report-json.schema.json"
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
APPROVED_NARRATIVE = "MINUSCA (RCA) 60"
DRAFT_NARRATIVE = "Borrador sin revisar: UNMISS 12"
URL = f"/reports/PE-2021/{YEAR_NOW}"


@pytest.fixture
def year_reported(app, make_user, peru, monkeypatch, tmp_path):
    """This year's cycle: the Navy's approved IND-PAR-2 (26 women, 179 men) with a narrative, a data source and an
    evidence file; its approved PAR-1 with what was done; the Army's draft on IND-PAR-2 with another narrative."""
    monkeypatch.setitem(app.config, "UPLOAD_FOLDER", tmp_path)
    _, navy = make_user(Role.reporter, institution="MGP")
    _, army = make_user(Role.reporter, email="ejercito@example.org", institution="EP")
    _, committee = make_user(Role.committee)
    with app.test_request_context():
        seed_peru_demo(db.session)
        session = db.session
        plan = session.scalars(sa.select(pm.Plan).filter_by(code="PE-2021")).one()
        cycle = session.scalars(sa.select(ReportingCycle).filter_by(plan_id=plan.id, year=YEAR_NOW)).one()
        people = {email: session.scalars(sa.select(User).filter_by(email=email)).one() for email in (navy, army, committee)}
        item = {code: session.scalars(sa.select(model).filter_by(plan_id=plan.id, code=code)).one()
                for model, code in ((pm.Indicator, "IND-PAR-2"), (pm.Action, "PAR-1"))}
        institution = {code: session.scalars(sa.select(pm.Institution).filter_by(code=code, country_id=plan.country_id)).one()
                       for code in ("MGP", "EP")}
        indicator = services.save_entry(session, people[navy], cycle, institution["MGP"], item["IND-PAR-2"],
                                        services.IndicatorInput(women=26, men=179, narrative=APPROVED_NARRATIVE,
                                                                data_source="Resolución de despliegue 2026"))
        uploads.store_evidence(session, people[navy], indicator, [(PDF, "application/pdf", "acta-minusca.pdf")])
        steps.take_step(session, people[navy], indicator, "submit")
        action = services.save_entry(session, people[navy], cycle, institution["MGP"], item["PAR-1"],
                                     services.ActionInput(action_status=ActionStatus.completed, done="Cursos en la ESGE",
                                                          challenges="Pocas vacantes", next_steps="Curso regional"),
                                     submit=True)
        for entry in (indicator, action):
            steps.take_step(session, people[committee], entry, "approve")
        services.save_entry(session, people[army], cycle, institution["EP"], item["IND-PAR-2"],
                            services.IndicatorInput(women=1, men=11, narrative=DRAFT_NARRATIVE))
        session.commit()
    return {"committee": committee, "navy": navy}


def _files(app, language: str = "en", **kw) -> dict[str, bytes]:
    with app.test_request_context():
        plan = db.session.scalars(sa.select(pm.Plan).filter_by(code="PE-2021")).one()
        dataset = reports.annual_report(db.session, plan, YEAR_NOW, language, **kw)
        return {fmt: export(dataset, fmt) for fmt in FORMATS}


def _texts(files: dict[str, bytes]) -> dict[str, str]:
    """Every format's text, read back as a reader of that format would."""
    pdf = "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(files["pdf"])).pages)
    document = Document(io.BytesIO(files["docx"]))
    docx = "\n".join([p.text for p in document.paragraphs]
                     + [cell.text for table in document.tables for row in table.rows for cell in row.cells])
    book = load_workbook(io.BytesIO(files["xlsx"]))
    xlsx = "\n".join(str(v) for sheet in book.worksheets for row in sheet.iter_rows(values_only=True) for v in row if v is not None)
    archive = zipfile.ZipFile(io.BytesIO(files["csv"]))
    csv_text = "\n".join(archive.read(name).decode("utf-8-sig") for name in archive.namelist())
    return {"pdf": pdf, "docx": docx, "xlsx": xlsx, "csv": csv_text, "json": files["json"].decode("utf-8")}


def test_approved_narratives_and_evidence_reach_every_format_and_drafts_never_do(app, year_reported):
    texts = _texts(_files(app))
    for fmt, text in texts.items():
        flat = " ".join(text.split())
        assert APPROVED_NARRATIVE in flat, fmt
        assert DRAFT_NARRATIVE not in flat, fmt
        assert "acta-minusca.pdf" in flat, fmt  # the evidence list: the file's name, never the file
        assert "Pocas vacantes" in flat and "Curso regional" in flat, fmt  # an action's challenges and next steps
    doc = json.loads(_files(app)["json"])
    section = next(s for s in doc["sections"] if s["key"] == "institutions")
    reports_by_key = {t["key"]: t["rows"] for t in section["tables"]}
    (row,) = reports_by_key["indicator_reports"]
    assert (row["institution"], row["figure"], row["women"], row["men"], row["data_source"]) == (
        "MGP", "205", 26, 179, "Resolución de despliegue 2026")
    (evidence,) = reports_by_key["evidence"]
    assert (evidence["code"], evidence["institution"], evidence["file"]) == ("IND-PAR-2", "MGP", "acta-minusca.pdf")


def test_a_provisional_report_counts_submitted_entries_but_never_drafts(app, year_reported):
    texts = _texts(_files(app, include_pending=True))
    assert all(DRAFT_NARRATIVE not in " ".join(t.split()) for t in texts.values())


def test_the_committee_writes_its_commentary_and_every_format_carries_it(app, year_reported):
    committee = logged_in(app, year_reported["committee"])
    page = f"{URL}/commentary"
    assert committee.get(page).status_code == 200
    response = committee.post_form(page, {"findings_0": "La participación crece en la Marina.",
                                          "recommendations_0": "Ampliar el curso regional.",
                                          "findings_1": "Eje de participación: dos acciones completas."}, token_from=page)
    assert response.status_code == 302
    with app.app_context():
        rows = {r.scope: r for r in db.session.scalars(sa.select(ReportCommentary))}
        assert set(rows) == {"", "PAR"} and rows[""].updated_by
        assert db.session.scalars(sa.select(AuditEvent).filter_by(action="report.commentary_saved")).one()
    for fmt, text in _texts(_files(app, language="es")).items():
        flat = " ".join(text.split())
        assert "Ampliar el curso regional." in flat and "dos acciones completas" in flat, fmt
    preview = page_text(committee.get(f"{URL}/preview?lang=es"))
    assert "Resumen ejecutivo" in preview and "Ampliar el curso regional." in preview and APPROVED_NARRATIVE in preview
    # Emptied, a scope's commentary goes; the page comes back filled with what is kept.
    committee.post_form(page, {"findings_0": "La participación crece en la Marina.", "recommendations_0": "Ampliar el curso regional."},
                        token_from=page)
    with app.app_context():
        assert {r.scope for r in db.session.scalars(sa.select(ReportCommentary))} == {""}
    assert "Ampliar el curso regional." in committee.get(page).get_data(as_text=True)


def test_charts_are_drawn_in_the_pdf_and_as_pictures_in_word(app, year_reported):
    files = _files(app)
    document = Document(io.BytesIO(files["docx"]))
    assert len(document.inline_shapes) == 3  # pillar completion, the trend, the women's share
    pdf = " ".join(page.extract_text() for page in PdfReader(io.BytesIO(files["pdf"])).pages)
    for title in (f"Completion by pillar, {YEAR_NOW}", "Trend over the years", f"Women's share, {YEAR_NOW}"):
        assert title in pdf


def test_numbers_are_written_one_way_per_language_and_rounded_to_what_they_mean_in_json(app, year_reported):
    en, es = _texts(_files(app, "en")), _texts(_files(app, "es"))
    assert "13%" in en["pdf"] and "13%" in es["pdf"]  # 26 of 205 women, the locale's own percentage style
    assert "13.0%" not in en["pdf"] and "12.7%" not in en["pdf"]
    doc = json.loads(_files(app)["json"])
    for section in doc["sections"]:
        for table in section["tables"]:
            for column in table["columns"]:
                for row in table["rows"]:
                    value = row[column["key"]]
                    if isinstance(value, str) and column["kind"] in ("percent", "money", "decimal"):
                        assert -Decimal(value).as_tuple().exponent <= (2 if column["kind"] == "money" else 4), (table["key"], value)
    (share,) = [r["women_share"] for s in doc["sections"] for t in s["tables"] if t["key"] == "peacekeeping"
                for r in t["rows"] if r["code"] == "IND-PAR-2"]
    assert share == "0.1268"  # 26 / 205


def test_the_json_follows_its_published_schema(app, year_reported):
    schema = json.loads(SCHEMA.read_text())
    for language in ("es", "en"):
        document = json.loads(_files(app, language)["json"])
        jsonschema.validate(document, schema)
        assert document["schema_version"] == schema["properties"]["schema_version"]["const"]
    assert "report-json.schema.json" in (SCHEMA.parent / "report-json.md").read_text()


def test_the_reports_page_offers_one_choice_of_format_and_language(app, year_reported):
    committee = logged_in(app, year_reported["committee"])
    page = committee.get(f"/reports?plan=PE-2021&year={YEAR_NOW}").get_data(as_text=True)
    assert page.count('class="download-') == 0 and page.count('name="fmt"') == 2  # the report, and the provisional one
    response = committee.get(f"{URL}/file?fmt=docx&lang=en")
    assert response.status_code == 302 and response.headers["Location"].endswith(f"{URL}.docx?lang=en")
    assert committee.get(f"{URL}/file?fmt=exe&lang=en").status_code == 404
    rows = list(csv.reader(io.StringIO(zipfile.ZipFile(io.BytesIO(committee.get(f"{URL}.csv?lang=en").data))
                                       .read("indicator_reports.csv").decode("utf-8-sig"))))
    assert rows[1][:3] == ["IND-PAR-2", rows[1][1], "MGP"] and APPROVED_NARRATIVE in rows[1]


def test_a_provisional_report_ends_with_what_is_pending_and_the_flags_of_what_it_counts(app, year_reported):
    doc = json.loads(_files(app, include_pending=True)["json"])
    annex = next(s for s in doc["sections"] if s["key"] == "pending")
    tables = {t["key"]: t["rows"] for t in annex["tables"]}
    assert [(r["code"], r["institution"], r["state"]) for r in tables["pending"]] == [("IND-PAR-2", "EP", "Draft")]
    assert tables["quality_flags"] == []
    assert "pending" not in [s["key"] for s in json.loads(_files(app)["json"])["sections"]]  # not in the report itself
    with app.test_request_context():
        entry = db.session.scalars(sa.select(Entry).filter_by(narrative=DRAFT_NARRATIVE)).one()
        army = db.session.scalars(sa.select(User).filter_by(email="ejercito@example.org")).one()
        entry.reported_total = 13  # the source says 13; women + men are 12
        steps.take_step(db.session, army, entry, "submit")
        db.session.commit()
    doc = json.loads(_files(app, include_pending=True)["json"])
    tables = {t["key"]: t["rows"] for s in doc["sections"] if s["key"] == "pending" for t in s["tables"]}
    assert [(r["code"], r["institution"], r["state"]) for r in tables["pending"]] == [("IND-PAR-2", "EP", "Submitted")]
    assert [r["flag"] for r in tables["quality_flags"]] == ["Women + men (12) differ from the total in the source (13).",
                                                          "No evidence file, though the indicator names a means of verification."]
