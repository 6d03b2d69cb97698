"""JSON: the dataset with stable keys (documented in docs/report-json.md); charts are left out."""

from __future__ import annotations

import json as _json
from typing import Any

from tracker.reports.dataset import ReportDataset, Section, Table, plain, rounded

SCHEMA_VERSION = 2  # 2: numbers rounded to what they mean; the institutions section; the commentary table


def write(dataset: ReportDataset) -> bytes:
    """The report as UTF-8 JSON."""
    return _json.dumps(as_dict(dataset), ensure_ascii=False, indent=2).encode("utf-8")


def as_dict(dataset: ReportDataset) -> dict[str, Any]:
    """The document written: {"schema_version", "meta", "sections"}."""
    return {
        "schema_version": SCHEMA_VERSION,
        "meta": {key: plain(value) for key, value in dataset.meta.items()},
        "sections": [_section(s) for s in dataset.sections],
    }


def _section(section: Section) -> dict[str, Any]:
    return {
        "key": section.key,
        "title": section.title,
        "paragraphs": list(section.paragraphs),
        "tables": [_table(t) for t in section.tables],
    }


def _table(table: Table) -> dict[str, Any]:
    return {
        "key": table.key,
        "title": table.title,
        "columns": [{"key": c.key, "label": c.label, "kind": c.kind} for c in table.columns],
        "rows": [{c.key: plain(rounded(row.get(c.key), c.kind)) for c in table.columns} for row in table.rows],
        "empty_text": table.empty_text,
    }
