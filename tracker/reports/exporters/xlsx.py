"""Excel: a "Report" sheet with the meta and the sections' text, then one sheet per table with real
numbers, a frozen header row and filters."""

from __future__ import annotations

import io
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from babel.numbers import get_currency_precision
from openpyxl import Workbook
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from tracker.reports.dataset import ReportDataset, Table, plain
from tracker.reports.exporters.common import marks, meta_rows, safe_cell, safe_name, tables, words

NUMBER_FORMATS = {"percent": "0.0%", "money": "#,##0.00", "int": "#,##0", "year": "0", "decimal": "#,##0.####", "date": "yyyy-mm-dd"}
BOLD = Font(bold=True)


def write(dataset: ReportDataset) -> bytes:
    """The workbook as bytes."""
    book = Workbook()
    _report_sheet(book.active, dataset)
    used = {book.active.title.lower()}
    for _section, table in tables(dataset):
        sheet = book.create_sheet(_sheet_name(table.title or table.key, used))
        _table_sheet(sheet, table, money_format(dataset))
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def _append(sheet: Worksheet, values: list[Any]) -> None:
    """Every row goes through here: no text of the report can start a formula, numbers stay numbers."""
    sheet.append([safe_cell(value) for value in values])


def _report_sheet(sheet: Worksheet, dataset: ReportDataset) -> None:
    w = words(dataset)
    sheet.title = safe_name(w["report"], 31)
    _append(sheet, [dataset.meta.get("title", "")])
    sheet["A1"].font = Font(bold=True, size=14)
    for mark in marks(dataset):
        _append(sheet, [mark])
        sheet.cell(sheet.max_row, 1).font = Font(bold=True, color="C00000")
    _append(sheet, [])
    _append(sheet, [w["field"], w["value"]])
    for cell in sheet[sheet.max_row]:
        cell.font = BOLD
    for key, value in meta_rows(dataset):
        _append(sheet, [key, value])
    _append(sheet, [])
    _append(sheet, [w["section"], w["text"]])
    for cell in sheet[sheet.max_row]:
        cell.font = BOLD
    for section in dataset.sections:
        for paragraph in section.paragraphs or [""]:
            _append(sheet, [str(section.title), str(paragraph)])
            sheet.cell(sheet.max_row, 2).alignment = Alignment(wrap_text=True, vertical="top")
    sheet.column_dimensions["A"].width = 34
    sheet.column_dimensions["B"].width = 110


def money_format(dataset: ReportDataset) -> str:
    """Amounts with the decimals of the plan's currency (two for soles, none for Chilean pesos); the
    column labels name the currency."""
    currency = dataset.meta.get("currency")
    digits = get_currency_precision(currency) if currency else 2
    return "#,##0." + "0" * digits if digits else "#,##0"


def _table_sheet(sheet: Worksheet, table: Table, money: str = NUMBER_FORMATS["money"]) -> None:
    _append(sheet, [str(c.label) for c in table.columns])
    for cell in sheet[1]:
        cell.font = BOLD
        cell.alignment = Alignment(wrap_text=True, vertical="top")
    for row in table.rows:
        _append(sheet, [_cell(row.get(c.key), c.kind) for c in table.columns])
    for index, column in enumerate(table.columns, start=1):
        letter = get_column_letter(index)
        sheet.column_dimensions[letter].width = 14 if column.kind != "text" else 40
        if column.kind in NUMBER_FORMATS:
            for (cell,) in sheet.iter_rows(min_row=2, min_col=index, max_col=index):
                cell.number_format = money if column.kind == "money" else NUMBER_FORMATS[column.kind]
    sheet.freeze_panes = "A2"
    sheet.auto_filter.ref = f"A1:{get_column_letter(max(1, len(table.columns)))}{max(1, sheet.max_row)}"


def _cell(value: Any, kind: str) -> Any:
    """Numbers stay numbers (Decimal, int), dates stay dates; anything else becomes text."""
    if value is None or isinstance(value, (bool, int, Decimal, float, datetime, date)):
        if isinstance(value, datetime) and value.tzinfo is not None:
            return value.replace(tzinfo=None)  # Excel has no time zones (the meta says UTC)
        return value
    if kind in ("int", "year", "decimal", "percent", "money"):
        try:
            number = Decimal(str(value))
        except ArithmeticError:
            return str(value)
        return number if number.is_finite() else str(value)
    return str(plain(value))


def _sheet_name(title: str, used: set[str]) -> str:
    """At most 31 characters, none of []:*?/\\, unique in the workbook (case-insensitively)."""
    base = safe_name(title, 31)
    name, n = base, 2
    while name.lower() in used:
        suffix = f" ({n})"
        name, n = base[: 31 - len(suffix)].rstrip() + suffix, n + 1
    used.add(name.lower())
    return name
