"""PDF with ReportLab: a cover, every section with its headings, paragraphs, charts and tables (header
rows repeated on every page), page numbers, and a visible draft / provisional mark.

ReportLab's bundled Helvetica (WinAnsi) covers Spanish: á é í ó ú ñ ü ¿ ¡ € $ and "S/".
The dashboard's SVG charts become ReportLab drawings (tracker.reports.charts).
"""

from __future__ import annotations

import io
import re
from typing import Any

from markupsafe import escape
from reportlab.lib import colors
from reportlab.lib.enums import TA_RIGHT
from reportlab.lib.pagesizes import A4, landscape
from reportlab.lib.styles import ParagraphStyle, getSampleStyleSheet
from reportlab.lib.units import cm
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.pdfgen import canvas as rl_canvas
from reportlab.platypus import KeepTogether, LongTable, PageBreak, Paragraph, SimpleDocTemplate, Spacer, TableStyle

from tracker.reports import charts
from tracker.reports.dataset import Column, ReportDataset, Section, Table
from tracker.reports.exporters.common import DRAFT_MARK, Numbers, cover_lines, format_value, marks, numbers_of, words

PAGE = landscape(A4)
MARGIN = 1.5 * cm
WIDTH = PAGE[0] - 2 * MARGIN
CHART_HEIGHT = (PAGE[1] - 2 * MARGIN) * 0.8  # a chart and its heading fit on one page
NUMERIC = {"int", "year", "decimal", "percent", "money"}
NARROW = {"int": 1.5 * cm, "year": 1.2 * cm, "decimal": 1.8 * cm, "percent": 1.8 * cm, "money": 2.6 * cm, "date": 2.4 * cm}
CELL_SIZE = 7.5
PADDING = 7
RED = colors.HexColor("#C00000")
HEADER_BG = colors.HexColor("#E9ECEF")


def write(dataset: ReportDataset) -> bytes:
    """The report as PDF bytes (A4 landscape)."""
    buffer = io.BytesIO()
    meta, w = dataset.meta, words(dataset)
    doc = _Document(
        buffer, pagesize=PAGE, leftMargin=MARGIN, rightMargin=MARGIN, topMargin=MARGIN + 0.4 * cm, bottomMargin=MARGIN,
        title=meta.get("title", ""), author=meta.get("country", ""), subject=f"{meta.get('plan_code')} {meta.get('year')}",
        lang=meta.get("language", "es"),
    )
    styles = _styles()
    story = _cover(dataset, styles, w)
    for section in dataset.sections:
        story += _section(section, styles, numbers_of(dataset), w)
    header = " · ".join([f"{meta.get('plan_code')} · {meta.get('title', '')}", *marks(dataset)])
    doc.build(story, canvasmaker=_numbered_canvas(header, w["page"], DRAFT_MARK if not meta.get("final") else ""))
    return buffer.getvalue()


class _Document(SimpleDocTemplate):
    """Adds every section heading to the PDF outline (the reader's bookmarks panel)."""

    def afterFlowable(self, flowable) -> None:  # noqa: N802 (ReportLab's name)
        title = getattr(flowable, "bookmark_title", None)
        if title:
            key = f"s{id(flowable)}"
            self.canv.bookmarkPage(key)
            self.canv.addOutlineEntry(title, key, level=0)


# -- text -----------------------------------------------------------------------------------------


def _styles() -> dict[str, ParagraphStyle]:
    base = getSampleStyleSheet()
    body = ParagraphStyle("body", parent=base["BodyText"], fontName="Helvetica", fontSize=9.5, leading=12.5, spaceAfter=5)
    return {
        "title": ParagraphStyle("title", parent=base["Title"], fontName="Helvetica-Bold", fontSize=24, leading=30, alignment=0),
        "mark": ParagraphStyle("mark", parent=body, fontName="Helvetica-Bold", fontSize=22, leading=28, textColor=RED, spaceAfter=10),
        "h1": ParagraphStyle("h1", parent=base["Heading1"], fontName="Helvetica-Bold", fontSize=15, leading=19, spaceBefore=16, spaceAfter=8),
        "h2": ParagraphStyle("h2", parent=base["Heading2"], fontName="Helvetica-Bold", fontSize=11.5, leading=15, spaceBefore=8, spaceAfter=5),
        "body": body,
        "note": ParagraphStyle("note", parent=body, fontName="Helvetica-Oblique"),
        "cover": ParagraphStyle("cover", parent=body, fontSize=12, leading=17),
        "cell": ParagraphStyle("cell", parent=body, fontSize=7.5, leading=9.2, spaceAfter=0),
        "num": ParagraphStyle("num", parent=body, fontSize=7.5, leading=9.2, spaceAfter=0, alignment=TA_RIGHT),
        "head": ParagraphStyle("head", parent=body, fontName="Helvetica-Bold", fontSize=7.5, leading=9.2, spaceAfter=0),
    }


def _text(value: Any) -> str:
    """Plain text made safe for a ReportLab paragraph (escaped, line breaks kept)."""
    return re.sub(r"\r?\n", "<br/>", str(escape(str(value))))


# -- cover ----------------------------------------------------------------------------------------


def _cover(dataset: ReportDataset, styles, w: dict[str, str]) -> list:
    meta = dataset.meta
    story: list = [Spacer(1, 2.5 * cm), Paragraph(_text(meta.get("title", "")), styles["title"]), Spacer(1, 0.4 * cm)]
    story += [Paragraph(_text(mark), styles["mark"]) for mark in marks(dataset)]
    story += [Paragraph(f"<b>{_text(label)}:</b> {_text(value)}", styles["cover"]) for label, value in cover_lines(dataset)]
    story.append(Spacer(1, 0.6 * cm))
    notes = ([w["draft"]] if not meta.get("final") else []) + ([w["provisional"]] if meta.get("provisional") else [])
    notes += [w["demo"]] if meta.get("demo_entries") else []
    story += [Paragraph(_text(note), styles["note"]) for note in notes]
    return story + [PageBreak()]


# -- sections -------------------------------------------------------------------------------------


def _section(section: Section, styles, numbers: Numbers, w: dict[str, str]) -> list:
    heading = Paragraph(f'<a name="{section.key}"/>{_text(section.title)}', styles["h1"])
    heading.bookmark_title = section.title
    story: list = [heading]
    story += [Paragraph(_text(p), styles["body"]) for p in section.paragraphs]
    for svg in section.charts:
        drawing = _chart(svg)
        if drawing is not None:
            story.append(KeepTogether([drawing, Paragraph(_text(charts.caption(svg)), styles["note"])]))
    for table in section.tables:
        title = Paragraph(_text(table.title), styles["h2"])
        if table.rows:
            story += [title, _table(table, styles, numbers)]
        else:
            story.append(KeepTogether([title, Paragraph(_text(table.empty_text or w["no_data"]), styles["note"])]))
    return story


def _chart(svg: Any):
    """The SVG chart as a ReportLab drawing fitted to the page width (None when it cannot be read)."""
    drawing = charts.as_drawing(svg)
    if drawing is None:
        return None
    scale = min(1.0, (WIDTH * 0.75) / drawing.width if drawing.width else 1.0,
                CHART_HEIGHT / drawing.height if drawing.height else 1.0)
    drawing.scale(scale, scale)
    drawing.width, drawing.height = drawing.width * scale, drawing.height * scale
    drawing.hAlign = "LEFT"
    return drawing


def _table(table: Table, styles, numbers: Numbers) -> LongTable:
    header = [Paragraph(_text(c.label), styles["head"]) for c in table.columns]
    body = [
        [Paragraph(_text(format_value(row.get(c.key), c.kind, numbers)), styles["num" if c.kind in NUMERIC else "cell"]) for c in table.columns]
        for row in table.rows
    ]
    grid = LongTable([header, *body], colWidths=_widths(table), repeatRows=1, hAlign="LEFT")
    grid.setStyle(TableStyle([
        ("BACKGROUND", (0, 0), (-1, 0), HEADER_BG),
        ("GRID", (0, 0), (-1, -1), 0.4, colors.HexColor("#ADB5BD")),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("LEFTPADDING", (0, 0), (-1, -1), 3),
        ("RIGHTPADDING", (0, 0), (-1, -1), 3),
        ("ROWBACKGROUNDS", (0, 1), (-1, -1), [colors.white, colors.HexColor("#F8F9FA")]),
    ]))
    return grid


def _widths(table: Table) -> list[float]:
    """Numbers get narrow columns (wide enough for their header's words); text columns their natural
    width, shrunk together when the table would be wider than the page."""
    widths = [_natural(table, c) for c in table.columns]
    text = [i for i, c in enumerate(table.columns) if c.kind not in NARROW]
    fixed = sum(w for i, w in enumerate(widths) if i not in text)
    flexible = sum(widths[i] for i in text)
    if fixed + flexible > WIDTH and flexible:
        factor = max(WIDTH - fixed, 2 * cm * len(text)) / flexible
        for i in text:
            column = table.columns[i]
            floor = max(_longest_word(table, column), _word_width(column.label, "Helvetica-Bold"))
            widths[i] = max(widths[i] * factor, min(widths[i], floor))
    return widths


def _natural(table: Table, column: Column) -> float:
    header = _word_width(column.label, "Helvetica-Bold")
    if column.kind in NARROW:
        return max(NARROW[column.kind], header)
    cells = [str(row.get(column.key) or "") for row in table.rows[:300]]
    longest = max((stringWidth(text, "Helvetica", CELL_SIZE) for text in cells), default=0.0) + PADDING
    return min(10 * cm, max(2 * cm, header, _longest_word(table, column), longest))


def _longest_word(table: Table, column: Column) -> float:
    words = (word for row in table.rows[:300] for word in str(row.get(column.key) or "").split())
    return min(4.5 * cm, max((stringWidth(w, "Helvetica", CELL_SIZE) for w in words), default=0.0) + PADDING)


def _word_width(text: str, font: str) -> float:
    return max((stringWidth(w, font, CELL_SIZE) for w in str(text).split()), default=0.0) + PADDING


# -- page furniture -------------------------------------------------------------------------------


def _numbered_canvas(header: str, page_text: str, watermark: str):
    """A canvas class that writes the header, "page N of M" and the draft watermark on every page."""

    class NumberedCanvas(rl_canvas.Canvas):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            self._pages: list[dict] = []

        def showPage(self):  # noqa: N802 (ReportLab's name)
            self._pages.append(dict(self.__dict__))
            self._startPage()

        def save(self):
            for state in self._pages:
                self.__dict__.update(state)
                self._furniture(len(self._pages))
                super().showPage()
            super().save()

        def _furniture(self, pages: int) -> None:
            self.saveState()
            if watermark:
                self.setFillColor(colors.Color(0.75, 0.1, 0.1, alpha=0.12))
                self.setFont("Helvetica-Bold", 64)
                self.translate(PAGE[0] / 2, PAGE[1] / 2)
                self.rotate(30)
                self.drawCentredString(0, 0, watermark)
                self.rotate(-30)
                self.translate(-PAGE[0] / 2, -PAGE[1] / 2)
            self.setFillColor(colors.HexColor("#495057"))
            self.setFont("Helvetica", 8)
            self.drawString(MARGIN, PAGE[1] - MARGIN + 0.2 * cm, header[:160])
            self.drawRightString(PAGE[0] - MARGIN, MARGIN - 0.7 * cm, page_text % {"page": self._pageNumber, "pages": pages})
            self.restoreState()

    return NumberedCanvas
