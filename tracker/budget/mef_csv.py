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
    return Decimal(text)


def parse(data: bytes) -> tuple[list[MefRow], str]:
    """Rows of the file, each with its amounts or its error; and a file-level error (empty when fine)."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = data.decode("latin-1")
    sample = text[:2048]
    delimiter = ";" if sample.count(";") > sample.count(",") else ","
    reader = csv.reader(io.StringIO(text), delimiter=delimiter)
    header = next(reader, None)
    if not header:
        return [], str(_l("The file is empty."))
    names = [COLUMNS.get(_plain(h)) for h in header]
    missing = [c for c in (*KEY_COLUMNS, "pim", "devengado") if c not in names]
    if missing:
        return [], str(_l("Columns missing in the file: %(cols)s.", cols=", ".join(missing)))
    return [_row(n, names, cells) for n, cells in enumerate(reader, start=2) if any(c.strip() for c in cells)], ""


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
