"""What every writer shares: formatting values for the report's language, fixed marks and labels.

Writers receive a ReportDataset and never query; the few words they add themselves (page numbers,
"generated on") are translated here in the dataset's language.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from babel.dates import format_date, format_datetime
from babel.numbers import format_decimal, format_percent
from flask import has_app_context
from flask_babel import force_locale
from flask_babel import gettext as _

from tracker.formulas import safe_cell, safe_text  # noqa: F401 - the writers' one helper, re-exported
from tracker.i18n import LOCALES, format_money
from tracker.reports.dataset import ReportDataset, Table

DRAFT_MARK = "BORRADOR / DRAFT"
PROVISIONAL_MARK = "PROVISIONAL"
EMPTY = "—"


@dataclass(frozen=True)
class Numbers:
    """How a report writes numbers: in its locale, and amounts in the plan's currency the way its country
    writes them (S/ 1,234.50 for Peru, $1.234.568 for Chile); plain numbers when the plan has no currency."""

    locale: str
    currency: str | None = None
    money_locale: str | None = None


def locale_of(dataset: ReportDataset) -> str:
    """The Babel locale of the dataset (es_PE, es_CL, en...): the plan's country's in its language."""
    return dataset.meta.get("locale") or LOCALES.get(dataset.meta.get("language", "es"), "es_PE")


def numbers_of(dataset: ReportDataset) -> Numbers:
    """The dataset's locale and money format (from its meta)."""
    meta = dataset.meta
    return Numbers(locale_of(dataset), meta.get("currency"), meta.get("money_locale"))


def format_value(value: Any, kind: str, numbers: Numbers | str) -> str:
    """A cell as text for people: numbers with the locale's separators, shares as percentages, amounts
    in the plan's currency. `numbers` may be a bare locale (then amounts are plain numbers)."""
    if isinstance(numbers, str):
        numbers = Numbers(numbers)
    locale = numbers.locale
    if value is None or value == "":
        return EMPTY if kind != "text" else ""
    if kind == "percent" and isinstance(value, (int, float, Decimal)):
        return format_percent(value, locale=locale)  # the locale's own style, as on the pages: "33 %", "33%"
    if kind == "money" and isinstance(value, (int, float, Decimal)):
        return format_money(value, numbers.currency, numbers.money_locale or locale)
    if isinstance(value, bool):
        return str(value)
    if kind == "year" and isinstance(value, int):
        return str(value)
    if isinstance(value, (int, Decimal, float)):
        return format_decimal(value, format="#,##0.####", locale=locale)
    if isinstance(value, datetime):
        return format_datetime(value, "medium", tzinfo="UTC", locale=locale) + " UTC"
    if isinstance(value, date):
        return format_date(value, "medium", locale=locale)
    return str(value)


def marks(dataset: ReportDataset) -> list[str]:
    """The visible marks of a report that is not final, or that counts pending data."""
    out = [] if dataset.meta.get("final") else [DRAFT_MARK]
    return out + ([PROVISIONAL_MARK] if dataset.meta.get("provisional") else [])


def words(dataset: ReportDataset) -> dict[str, str]:
    """The writers' own words, in the dataset's language."""
    if not has_app_context():
        return _words()
    with force_locale(locale_of(dataset)):
        return _words()


def _words() -> dict[str, str]:
    return {
        "country": _("Country"),
        "plan": _("Plan"),
        "year": _("Year"),
        "generated": _("Generated on"),
        "status": _("Status"),
        "page": _("Page %(page)s of %(pages)s"),
        "provisional": _("Provisional: this report also counts data submitted but not yet approved by the committee."),
        "draft": _("Draft: this report may still change. Only a report marked final by the committee is official."),
        "demo": _("This report includes demonstration entries: they are not official data."),
        "no_data": _("There is no data for this year."),
        "report": _("Report"),
        "field": _("Field"),
        "value": _("Value"),
        "section": _("Section"),
        "text": _("Text"),
        "contents": _("Contents"),
    }


def cover_lines(dataset: ReportDataset) -> list[tuple[str, str]]:
    """(label, value) pairs of the cover: country, plan, year, generated date, status."""
    m, w, locale = dataset.meta, words(dataset), locale_of(dataset)
    return [
        (w["country"], m["country"]),
        (w["plan"], f"{m['plan_code']} · {m['plan_title']}"),
        (w["year"], str(m["year"])),
        (w["generated"], format_value(m["generated_at"], "text", locale)),
        (w["status"], m["status_label"]),
    ]


def meta_rows(dataset: ReportDataset) -> list[tuple[str, Any]]:
    """The meta as (key, value) rows, values JSON-ready, for the spreadsheet and CSV writers."""
    from tracker.reports.dataset import plain

    return [(key, plain(value)) for key, value in dataset.meta.items()]


def tables(dataset: ReportDataset) -> list[tuple[str, Table]]:
    """Every table of the report with its section key, in order."""
    return [(section.key, table) for section in dataset.sections for table in section.tables]


def safe_name(text: str, limit: int) -> str:
    """A file or sheet name: no characters that spreadsheets or file systems refuse, at most `limit` long."""
    cleaned = re.sub(r"[\[\]:*?/\\'\x00-\x1f]", " ", text).strip() or "table"
    return re.sub(r"\s+", " ", cleaned)[:limit].strip()
