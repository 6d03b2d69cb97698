"""CSV: one file per table in a zip, UTF-8 with BOM (so that Excel shows accents), plus meta.csv."""

from __future__ import annotations

import csv
import io
import zipfile

from tracker.reports.dataset import ReportDataset, Table, plain, rounded
from tracker.reports.exporters.common import meta_rows, safe_cell, safe_name, tables


def write(dataset: ReportDataset) -> bytes:
    """A zip with meta.csv and <table key>.csv for every table (header row: the column labels)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("meta.csv", _csv([("key", "value"), *meta_rows(dataset)]))
        used: set[str] = set()
        for _section, table in tables(dataset):
            archive.writestr(_unique(safe_name(table.key, 60), used) + ".csv", _table(table))
    return buffer.getvalue()


def _table(table: Table) -> bytes:
    header = [str(c.label) for c in table.columns]
    rows = [[rounded(row.get(c.key), c.kind) for c in table.columns] for row in table.rows]
    return _csv([header, *rows])


def _cell(value) -> str:
    """Every cell goes through here: text made inert (no formulas), numbers and dates written as they are."""
    cell = safe_cell(value)
    if cell is None:
        return ""
    return cell if isinstance(cell, str) else str(plain(cell))


def _csv(rows) -> bytes:
    text = io.StringIO()
    writer = csv.writer(text, lineterminator="\r\n")
    writer.writerows([_cell(value) for value in row] for row in rows)
    return text.getvalue().encode("utf-8-sig")


def _unique(name: str, used: set[str]) -> str:
    candidate, n = name, 2
    while candidate in used:
        candidate, n = f"{name}-{n}", n + 1
    used.add(candidate)
    return candidate
