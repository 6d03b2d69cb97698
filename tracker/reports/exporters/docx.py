"""Word: the same sections as the PDF, as editable headings, paragraphs, charts (PNG pictures of the same SVG,
tracker.reports.charts) and tables, so that the committee can edit the narrative before signing."""

from __future__ import annotations

import io

from docx import Document
from docx.enum.section import WD_ORIENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Cm, Pt, RGBColor

from tracker.reports import charts
from tracker.reports.dataset import ReportDataset, Section, Table
from tracker.reports.exporters.common import Numbers, cover_lines, format_value, marks, numbers_of, words

RED = RGBColor(0xC0, 0x00, 0x00)
NUMERIC = {"int", "year", "decimal", "percent", "money"}
CHART_WIDTH_CM = 16


def write(dataset: ReportDataset) -> bytes:
    """The document as bytes (landscape A4, so that the wide tables fit)."""
    document = Document()
    _setup(document, dataset)
    _cover(document, dataset)
    for section in dataset.sections:
        _section(document, section, numbers_of(dataset), words(dataset))
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def _setup(document, dataset: ReportDataset) -> None:
    page = document.sections[0]
    page.orientation = WD_ORIENT.LANDSCAPE
    page.page_width, page.page_height = page.page_height, page.page_width
    document.styles["Normal"].font.name = "Calibri"
    document.styles["Normal"].font.size = Pt(10)
    document.core_properties.title = dataset.meta.get("title", "")
    document.core_properties.language = dataset.meta.get("language", "")
    header = page.header.paragraphs[0]
    header.text = " · ".join([f"{dataset.meta['plan_code']} {dataset.meta['year']}", *marks(dataset)])


def _cover(document, dataset: ReportDataset) -> None:
    document.add_heading(dataset.meta.get("title", ""), level=0)
    for mark in marks(dataset):
        run = document.add_paragraph().add_run(mark)
        run.bold, run.font.size, run.font.color.rgb = True, Pt(20), RED
    for label, value in cover_lines(dataset):
        paragraph = document.add_paragraph()
        paragraph.add_run(f"{label}: ").bold = True
        paragraph.add_run(str(value))
    w = words(dataset)
    notes = ([w["draft"]] if not dataset.meta.get("final") else []) + ([w["provisional"]] if dataset.meta.get("provisional") else [])
    notes += [w["demo"]] if dataset.meta.get("demo_entries") else []
    for note in notes:
        document.add_paragraph(note).runs[0].italic = True
    document.add_page_break()


def _section(document, section: Section, numbers: Numbers, w: dict[str, str]) -> None:
    document.add_heading(section.title, level=1)
    for paragraph in section.paragraphs:
        document.add_paragraph(paragraph)
    for svg in section.charts:
        png = charts.as_png(svg)
        if png is not None:
            document.add_picture(io.BytesIO(png), width=Cm(CHART_WIDTH_CM))
            document.add_paragraph(charts.caption(svg), style="Caption")
    for table in section.tables:
        document.add_heading(table.title, level=2)
        if table.rows:
            _table(document, table, numbers)
        else:
            document.add_paragraph(table.empty_text or w["no_data"]).runs[0].italic = True


def _table(document, table: Table, numbers: Numbers) -> None:
    grid = document.add_table(rows=1, cols=len(table.columns))
    grid.style = "Table Grid"
    for cell, column in zip(grid.rows[0].cells, table.columns):
        cell.text = column.label
        cell.paragraphs[0].runs[0].bold = True
    _repeat_header(grid.rows[0])
    for row in table.rows:
        cells = grid.add_row().cells
        for cell, column in zip(cells, table.columns):
            cell.text = format_value(row.get(column.key), column.kind, numbers)
            if column.kind in NUMERIC:
                cell.paragraphs[0].alignment = WD_ALIGN_PARAGRAPH.RIGHT
    for row in grid.rows:
        for cell in row.cells:
            for paragraph in cell.paragraphs:
                for run in paragraph.runs:
                    run.font.size = Pt(8)


def _repeat_header(row) -> None:
    """Mark the row as a header row that Word repeats at the top of every page."""
    properties = row._tr.get_or_add_trPr()
    flag = OxmlElement("w:tblHeader")
    flag.set(qn("w:val"), "true")
    properties.append(flag)
