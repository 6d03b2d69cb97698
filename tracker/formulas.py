"""Text made inert for spreadsheets: the one function every XLSX and CSV writer passes its cells through.

Excel, LibreOffice and Google Sheets start a formula (or a DDE call) when a cell begins with one of
these characters, and some locales' input methods turn the full-width forms into the ASCII ones.
Text that begins with them is written with a leading apostrophe, which the spreadsheets show as text
and hide; numbers, dates and booleans are written as they are, so that they stay numbers.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

# Written as they are: the spreadsheet stores them as numbers, dates or booleans, never as formulas.
NOT_TEXT = (bool, int, float, Decimal, date)

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "\uff1d", "\uff0b", "\uff0d", "\uff20")  # ＝ ＋ － ＠ full-width
ESCAPE = "'"


def safe_text(text: str) -> str:
    """Text typed by users or taken from a plan, made inert: a leading = + - @ (or tab, carriage return) would start a formula."""
    return ESCAPE + text if text.startswith(FORMULA_STARTS) else text


def safe_cell(value: Any) -> Any:
    """A cell for a spreadsheet or CSV writer: numbers, dates and None unchanged; anything else as inert text."""
    if value is None or isinstance(value, NOT_TEXT):
        return value
    return safe_text(str(value))  # str() also turns lazy translations and Markup into plain text


def unescape_text(text: str) -> str:
    """The text safe_text was given, for files of ours read back (the bulk template); other text unchanged."""
    if text.startswith(ESCAPE) and text[len(ESCAPE):].startswith(FORMULA_STARTS):
        return text[len(ESCAPE):]
    return text
