"""Figures from a CSV in the column layout of Peru's public spending portal (Consulta Amigable, MEF).

Columns (names matched without accents or case): Pliego, Unidad Ejecutora, Meta (or Meta Presupuestal),
PIA, PIM, Certificación, Compromiso Anual, Devengado, Girado. Codes may carry their names
("026: M. DE DEFENSA"); only the leading digits identify the budget line. Amounts may use thousands
separators ("1,234,567.50").
"""

from __future__ import annotations

import csv
import io
import re
import unicodedata
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

import filetype
from flask_babel import lazy_gettext as _l

COLUMNS = {
    "pliego": "pliego",
    "unidad ejecutora": "unidad_ejecutora",
    "meta": "meta_presupuestal",
    "meta presupuestal": "meta_presupuestal",
    "pia": "pia",
    "pim": "pim",
    "certificacion": "certificado",
    "compromiso anual": "compromiso_anual",
    "devengado": "devengado",
    "girado": "girado",
}
KEY_COLUMNS = ("pliego", "unidad_ejecutora", "meta_presupuestal")
AMOUNT_COLUMNS = ("pia", "pim", "certificado", "compromiso_anual", "devengado", "girado")
# Limits in the style of the Excel bulk import (tracker.progress.bulk); the file size is MAX_UPLOAD_MB.
MAX_ROWS = 5000  # lines of figures; one institution's export has tens of lines
MAX_CELL = 1000  # characters; the portal's longest cells (names of metas) have a few hundred
ENCODINGS = ("utf-8-sig", "cp1252")  # Excel's «CSV UTF-8» and its plain «CSV» on Spanish Windows
# Text files have no control characters but tab and line ends: anything else means a binary file.
CONTROL_CHARACTERS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
NOT_CSV = _l("The file is not a CSV text file. Download the table from the spending portal as CSV and upload it again.")


@dataclass
class MefRow:
    number: int  # line in the file (the header is line 1)
    key: tuple[str, str, str]
    amounts: dict[str, Decimal | None] = field(default_factory=dict)
    error: str = ""


def _plain(text: str) -> str:
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"\s+", " ", text.strip().lower())


def line_code(value: str) -> str:
    """The leading digits of a portal code ('026: M. DE DEFENSA' -> '26'); leading zeros do not count."""
    match = re.match(r"\s*(\d+)", value or "")
    return match.group(1).lstrip("0") or "0" if match else _plain(value or "")


def _amount(text: str) -> Decimal | None:
    text = (text or "").strip().replace(" ", "")
    if not text:
        return None
    if "," in text and "." in text and text.rfind(",") > text.rfind("."):
        text = text.replace(".", "").replace(",", ".")  # 1.234,50
    else:
        text = text.replace(",", "")  # 1,234.50
    amount = Decimal(text)
    if not amount.is_finite():  # NaN and Infinity are not amounts (and NaN cannot even be compared)
        raise InvalidOperation(text)
    return amount


class FileRefused(ValueError):
    """The file cannot be read as the portal's CSV; the message says why and is translated."""


def parse(data: bytes) -> tuple[list[MefRow], str]:
    """Rows of the file, each with its amounts or its error; and a file-level error (empty when fine)."""
    try:
        return _rows(_decode(data)), ""
    except FileRefused as exc:
        return [], str(exc)


def _decode(data: bytes) -> str:
    """The file as text: UTF-8 (with or without BOM) or Windows-1252, as Excel saves CSV; never binary."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise FileRefused(_l("The file is saved as Unicode (UTF-16). Save it as «CSV UTF-8» and upload it again."))
    if b"\x00" in data or filetype.guess(data) is not None:
        raise FileRefused(NOT_CSV)
    for encoding in ENCODINGS:
        try:
            text = data.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:
        raise FileRefused(_l("The characters of the file cannot be read. Save it as «CSV UTF-8» and upload it again."))
    if CONTROL_CHARACTERS.search(text):
        raise FileRefused(NOT_CSV)
    return text


def _rows(text: str) -> list[MefRow]:
    sample = text[:2048]
    delimiter = ";" if sample.count(";") > sample.count(",") else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        header = _checked(next(reader, None) or [], 1)
        if not header:
            raise FileRefused(_l("The file is empty."))
        names = [COLUMNS.get(_plain(h)) for h in header]
        missing = [c for c in (*KEY_COLUMNS, "pim", "devengado") if c not in names]
        if missing:
            raise FileRefused(_l("Columns missing in the file: %(cols)s.", cols=", ".join(missing)))
        return _data_rows(reader, names)
    except csv.Error:  # a cell beyond the csv module's own limit, or a damaged line
        raise FileRefused(_l("Line %(n)d cannot be read: a cell is too long or the line is damaged.", n=reader.line_num)) from None


def _data_rows(reader, names: list[str | None]) -> list[MefRow]:
    rows = []
    for number, cells in enumerate(reader, start=2):
        if any(c.strip() for c in _checked(cells, number)):
            rows.append(_row(number, names, cells))
            if len(rows) > MAX_ROWS:
                raise FileRefused(_l("The file has more than %(max)d lines. Export only your institution's lines.", max=MAX_ROWS))
    return rows


def _checked(cells: list[str], number: int) -> list[str]:
    """The line's cells, refused when one is longer than any cell of the portal."""
    if any(len(c) > MAX_CELL for c in cells):
        raise FileRefused(_l("Line %(n)d has a cell longer than %(max)d characters.", n=number, max=MAX_CELL))
    return cells


def _row(number: int, names: list[str | None], cells: list[str]) -> MefRow:
    values = {name: cells[i] if i < len(cells) else "" for i, name in enumerate(names) if name}
    row = MefRow(number, tuple(line_code(values.get(k, "")) for k in KEY_COLUMNS))
    for name in AMOUNT_COLUMNS:
        try:
            row.amounts[name] = _amount(values.get(name, ""))
        except InvalidOperation:
            row.error = str(_l("Line %(n)d: %(column)s is not a number.", n=number, column=name.upper()))
            return row
        if row.amounts[name] is not None and row.amounts[name] < 0:
            row.error = str(_l("Line %(n)d: %(column)s cannot be negative.", n=number, column=name.upper()))
    return row
