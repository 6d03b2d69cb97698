"""Report writers: one module per format, each `write(dataset) -> bytes`; they never query the database."""

from __future__ import annotations

from typing import Callable, NamedTuple

from tracker.reports.dataset import ReportDataset
from tracker.reports.exporters import csv_zip, docx, json, pdf, xlsx


class Format(NamedTuple):
    writer: Callable[[ReportDataset], bytes]
    mimetype: str
    extension: str


FORMATS: dict[str, Format] = {
    "pdf": Format(pdf.write, "application/pdf", "pdf"),
    "docx": Format(docx.write, "application/vnd.openxmlformats-officedocument.wordprocessingml.document", "docx"),
    "xlsx": Format(xlsx.write, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "xlsx"),
    "csv": Format(csv_zip.write, "application/zip", "zip"),
    "json": Format(json.write, "application/json", "json"),
}


def export(dataset: ReportDataset, fmt: str) -> bytes:
    """The dataset written in `fmt` (a key of FORMATS); KeyError for an unknown format."""
    return FORMATS[fmt].writer(dataset)
