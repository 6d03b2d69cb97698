"""Bulk entry from Excel: the worklist as a template to fill in, and the filled file read back.

build_template -> the .xlsx bytes; parse_upload -> a Preview with one error per bad row (nothing saved);
import_rows -> saves the good rows as drafts through services.save_entry, so history and audit are kept.
The uploaded file is never trusted: its structure, every code and every cell are checked here,
and the indicator rules are the entry services' own.
"""

from __future__ import annotations

import io
import zipfile
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any, Callable

import openpyxl
import sqlalchemy as sa
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from openpyxl.styles import Alignment, Font, PatternFill, Protection
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.worksheet import Worksheet
from sqlalchemy.orm import Session

from tracker.domain import ValidationFailed
from tracker.formulas import safe_cell, safe_text, unescape_text
from tracker.i18n import localized
from tracker.labels import choices, label
from tracker.plan.models import Action, Indicator, Institution
from tracker.progress import services
from tracker.progress.forms import indicator_fields
from tracker.progress.models import ActionStatus, Entry, EntryKind, EntryState, ReportingCycle
from tracker.review.states import EDITABLE as EDITABLE_STATES

FORMAT = "nap-tracker-bulk-1"
META_SHEET = "_meta"
MAX_ROWS = 5000  # per sheet; a worklist has tens of rows
MAX_UNZIPPED_BYTES = 50 * 1024 * 1024  # guards against zip bombs before openpyxl reads anything
MAX_NUMBER = Decimal(10) ** 14  # the entry columns hold Numeric(18, 4)
TEXT_LIMITS = {"data_source": 2000}  # other text columns: 20,000 characters, like the entry form
TEXT_LIMIT = 20000
XLSX_MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

GREY = PatternFill("solid", fgColor="E9ECEF")
HEADER = PatternFill("solid", fgColor="CFE2FF")
# One object of each style, shared by every cell: openpyxl indexes styles, and a template has 50,000 cells.
WRAP = Alignment(wrap_text=True, vertical="top")
OPEN = Protection(locked=False)
WIDE = 22  # columns at least this wide hold sentences: their cells wrap


@dataclass(frozen=True)
class Column:
    """A template column: an Entry field the reporter fills in, or a descriptive one (code, name...)."""

    key: str
    title: Any
    width: int
    fill: bool = False


_CODE = Column("code", _l("Code"), 14)
_VERSION = Column("version", "version", 8)  # hidden: the entry version the template was made from
_STATE = Column("state", _l("State"), 22)

COLUMNS: dict[EntryKind, tuple[Column, ...]] = {
    EntryKind.indicator: (
        _CODE, _VERSION, Column("name", _l("Indicator"), 50), Column("measure", _l("Measure"), 22), _STATE,
        Column("women", _l("Women"), 10, True),
        Column("men", _l("Men"), 10, True),
        Column("value", _l("Value"), 11, True),
        Column("numerator", _l("Numerator"), 12, True),
        Column("denominator", _l("Denominator"), 13, True),
        Column("value_text", _l("Progress (description)"), 40, True),
        Column("value_bool", _l("Achieved?"), 12, True),
        Column("narrative", _l("Narrative"), 50, True),
        Column("data_source", _l("Data source"), 30, True),
        # Last, so that templates downloaded before it existed still read column by column.
        Column("reported_total", _l("Total in the source"), 12, True),
    ),
    EntryKind.action: (
        _CODE, _VERSION, Column("name", _l("Action"), 60), _STATE,
        Column("action_status", _l("Status"), 18, True),
        Column("done", _l("What was done"), 50, True),
        Column("challenges", _l("Challenges"), 40, True),
        Column("next_steps", _l("Next steps"), 40, True),
    ),
}
SHEET_TITLES = {EntryKind.indicator: _l("Indicators"), EntryKind.action: _l("Actions")}


# -- the template ------------------------------------------------------------------------------


def build_template(session: Session, cycle: ReportingCycle, institution: Institution, progress=None) -> bytes:
    """The institution's worklist for the cycle as an .xlsx workbook to fill in (drafts pre-filled);
    `progress(done, total)` is told after each sheet (a background template's progress bar)."""
    items = services.worklist(session, cycle, institution.id)
    workbook = openpyxl.Workbook()
    _write_instructions(workbook.active, cycle, institution)
    titles, written = {}, 0
    for kind in (EntryKind.indicator, EntryKind.action):
        sheet = workbook.create_sheet(_sheet_title(SHEET_TITLES[kind]))
        kind_items = [w for w in items if w.kind == kind]
        _write_items(sheet, kind, kind_items)
        titles[kind] = sheet.title
        written += len(kind_items)
        if progress is not None:
            progress(written, len(items) + 1)
    _write_meta(workbook.create_sheet(META_SHEET), cycle, institution, titles)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _sheet_title(text: Any) -> str:
    """Excel refuses some characters and more than 31 of them in sheet names."""
    return "".join(c for c in str(text) if c not in "[]:*?/\\")[:31] or "Sheet"


def _write_instructions(sheet: Worksheet, cycle: ReportingCycle, institution: Institution) -> None:
    sheet.title = _sheet_title(_("Instructions"))
    sheet.column_dimensions["A"].width = 110
    _append(sheet, [_("Excel template for progress reporting")])
    sheet["A1"].font = Font(bold=True, size=14)
    _append(sheet, [f"{cycle.plan.code} · {localized(cycle.plan, 'title')}"])
    _append(sheet, [f"{localized(institution, 'name')} ({institution.code}) · {cycle.year}"])
    _append(sheet, [_("Deadline: %(date)s", date=cycle.deadline.isoformat())])
    _append(sheet, [])
    for line in _instruction_lines():
        _append(sheet, [line])
        sheet.cell(sheet.max_row, 1).alignment = WRAP


def _instruction_lines() -> list[str]:
    return [
        _("1. Fill in the white cells of the Indicators and Actions sheets. Grey cells do not apply to the row or cannot be changed."),
        _("2. Indicators that count people need the figures for women and for men; the total is computed."),
        _("3. Percentages: give the numerator and the denominator; the percentage is computed."),
        _("4. Yes/no and action status: pick a value from the list (the status code, or its name in Spanish or in English, is also accepted)."),
        _("5. Each row replaces the saved draft of its item: an empty cell in a filled row clears that value. Rows left entirely empty are skipped."),
        _("6. Do not change the codes: rows are matched to the plan by their code. Submitted and approved entries cannot be changed here."),
        _("7. Upload the file with «Import from Excel» on your worklist. A preview shows an error for each bad row before anything is saved; the good rows are saved as drafts, which you then submit from your worklist."),
    ]


def _append(sheet: Worksheet, values: list[Any]) -> None:
    """Every row of the template goes through here: names, notes and drafts cannot start a formula.

    The reader undoes the escaping (_blank, _read_meta), so a pre-filled row comes back unchanged.
    """
    sheet.append([safe_cell(value) for value in values])


def _write_items(sheet: Worksheet, kind: EntryKind, items: list[services.WorkItem]) -> None:
    columns = COLUMNS[kind]
    _append(sheet, [str(c.title) for c in columns])
    for index, column in enumerate(columns, start=1):
        cell = sheet.cell(1, index)
        cell.font, cell.fill = Font(bold=True), HEADER
        cell.alignment = WRAP
        sheet.column_dimensions[get_column_letter(index)].width = column.width
    for number, work in enumerate(items, start=2):
        _write_item(sheet, columns, work, number)
    sheet.column_dimensions[get_column_letter(_position(columns, "version"))].hidden = True
    sheet.freeze_panes = "B2"
    sheet.protection.sheet = True  # codes and names stay as they are; fill cells are unlocked
    sheet.protection.formatColumns = False
    sheet.protection.formatRows = False
    _add_validations(sheet, kind, max(sheet.max_row, 2))


def _write_item(sheet: Worksheet, columns: tuple[Column, ...], work: services.WorkItem, number: int) -> None:
    entry = work.entry
    editable = entry is None or entry.state in EDITABLE_STATES
    applicable = indicator_fields(work.item) if work.kind == EntryKind.indicator else {c.key for c in columns}
    described = _describe(work, editable)
    row = []
    for column in columns:
        if column.fill:
            row.append(_cell_value(entry, column.key) if entry is not None and editable and column.key in applicable else None)
        else:
            row.append(described.get(column.key))
    _append(sheet, row)
    for index, column in enumerate(columns, start=1):
        cell = sheet.cell(number, index)
        if column.width >= WIDE:
            cell.alignment = WRAP
        if column.fill and editable and column.key in applicable:
            cell.protection = OPEN
        elif column.fill:
            cell.fill = GREY


def _describe(work: services.WorkItem, editable: bool) -> dict[str, Any]:
    """The descriptive cells of a row: code, version, name, measure and state, in the user's language."""
    item, entry = work.item, work.entry
    if entry is None:
        state = _("Not started")
    elif not editable:
        state = _("%(state)s: cannot be changed here", state=label(entry.state))
    elif entry.review_note and entry.state == EntryState.returned:
        state = f"{label(entry.state)}: {entry.review_note}"
    else:
        state = label(entry.state)
    out = {"code": item.code, "version": entry.version if entry else None, "state": state}
    if work.kind == EntryKind.indicator:
        out["name"] = localized(item, "name").text
        out["measure"] = _measure_text(item)
    else:
        out["name"] = localized(item, "text").text
    return out


def _measure_text(indicator: Indicator) -> str:
    text = label(indicator.measure)
    unit = localized(indicator, "unit").text
    if unit:
        text += f" ({unit})"
    if indicator.counts_people:
        text += " · " + _("women and men")
    return text


def _cell_value(entry: Entry, key: str) -> Any:
    """An entry's saved value as the template shows it."""
    value = getattr(entry, key)
    if value is None:
        return None
    if key == "value_bool":
        return _("Yes") if value else _("No")
    if key == "action_status":
        return label(value)
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, str):
        return value or None
    return value


def _add_validations(sheet: Worksheet, kind: EntryKind, last_row: int) -> None:
    """Drop-down lists for status and yes/no; whole or non-negative numbers in the number columns."""
    columns = COLUMNS[kind]

    def add(key: str, validation: DataValidation) -> None:
        letter = get_column_letter(_position(columns, key))
        validation.add(f"{letter}2:{letter}{last_row}")
        sheet.add_data_validation(validation)

    if kind == EntryKind.action:
        add("action_status", _list_validation([label(s) for s in ActionStatus]))
        return
    add("value_bool", _list_validation([_("Yes"), _("No")]))
    message = _("Enter a whole number, zero or more.")
    for key in ("women", "men", "reported_total"):
        add(key, DataValidation(type="whole", operator="greaterThanOrEqual", formula1="0", error=message, showErrorMessage=True))
    message = _("Enter a number, zero or more.")
    for key in ("value", "numerator", "denominator"):
        add(key, DataValidation(type="decimal", operator="greaterThanOrEqual", formula1="0", error=message, showErrorMessage=True))


def _list_validation(options: list[str]) -> DataValidation:
    """A drop-down list; other values only warn, since codes and the other language are accepted too."""
    cleaned = [safe_text(str(o).replace(",", " ").replace('"', "'")) for o in options]
    return DataValidation(
        type="list", formula1='"' + ",".join(cleaned) + '"', allow_blank=True, showErrorMessage=True,
        errorStyle="warning", error=_("Choose a value from the list."),
    )


def _write_meta(sheet: Worksheet, cycle: ReportingCycle, institution: Institution, titles: dict[EntryKind, str]) -> None:
    """A sheet hidden from the user that says which plan, year and institution the template is for."""
    for key, value in (("format", FORMAT), ("plan", cycle.plan.code), ("year", cycle.year), ("institution", institution.code),
                       (EntryKind.indicator.value, titles[EntryKind.indicator]), (EntryKind.action.value, titles[EntryKind.action])):
        _append(sheet, [key, value])
    sheet.sheet_state = "veryHidden"
    sheet.protection.sheet = True


def _position(columns: tuple[Column, ...], key: str) -> int:
    return next(i for i, c in enumerate(columns, start=1) if c.key == key)


# -- reading a filled template ------------------------------------------------------------------


@dataclass
class PreviewRow:
    """One non-empty row of the upload: what it says, and either an error or what will be saved."""

    kind: EntryKind
    row: int
    code: str
    values: list[tuple[str, str]] = field(default_factory=list)  # (column title, cell as shown)
    error: str = ""
    unchanged: bool = False
    item: Indicator | Action | None = None
    data: services.IndicatorInput | services.ActionInput | None = None
    version: int | None = None

    @property
    def status(self) -> str:
        return "error" if self.error else ("unchanged" if self.unchanged else "ready")


@dataclass
class Preview:
    """The parsed upload, in sheet order: indicators first, then actions."""

    rows: list[PreviewRow]

    @property
    def good(self) -> list[PreviewRow]:
        return [r for r in self.rows if r.status == "ready"]

    @property
    def bad(self) -> list[PreviewRow]:
        return [r for r in self.rows if r.status == "error"]

    @property
    def unchanged(self) -> list[PreviewRow]:
        return [r for r in self.rows if r.status == "unchanged"]


def _file_error(message: str) -> ValidationFailed:
    return ValidationFailed([("file", message)])


class _CellError(ValueError):
    """A cell that cannot be read as its column requires; the message is translated."""


@dataclass
class _Context:
    """What the rows are checked against: the institution's worklist, the plan's codes and its items retired by
    the cycle's year (no longer reported: their rows are refused, saying so)."""

    assigned: dict[EntryKind, dict[str, services.WorkItem]]
    plan_codes: dict[EntryKind, set[str]]
    statuses: dict[str, ActionStatus]
    yes_no: dict[str, bool]
    retired: dict[EntryKind, dict[str, Indicator | Action]]

    @classmethod
    def load(cls, session: Session, cycle: ReportingCycle, institution: Institution) -> _Context:
        items = services.worklist(session, cycle, institution.id)
        assigned: dict[EntryKind, dict[str, services.WorkItem]] = {EntryKind.indicator: {}, EntryKind.action: {}}
        for work in items:
            assigned[work.kind][work.code] = work
        models = {EntryKind.indicator: Indicator, EntryKind.action: Action}
        plan_codes = {kind: set(session.scalars(sa.select(m.code).where(m.plan_id == cycle.plan_id))) for kind, m in models.items()}
        retired = {
            kind: {r.code: r for r in session.scalars(sa.select(m).where(m.plan_id == cycle.plan_id, ~m.in_force(cycle.year)))}
            for kind, m in models.items()
        }
        return cls(assigned, plan_codes, _status_words(), _yes_no_words(), retired)


def _words(text: Any) -> str:
    """Normalized for matching typed words: case, spaces, underscores and hyphens do not matter."""
    return " ".join(str(text).casefold().replace("_", " ").replace("-", " ").split())


def _status_words() -> dict[str, ActionStatus]:
    """Status codes and their labels in Spanish and English."""
    words = {_words(s.value): s for s in ActionStatus}
    for language in ("es", "en"):
        with force_locale(language):
            words.update({_words(text): ActionStatus(value) for value, text in choices(ActionStatus)})
    return words


def _yes_no_words() -> dict[str, bool]:
    words = {w: True for w in ("yes", "y", "si", "sí", "s", "true", "1", "x")}
    words.update({w: False for w in ("no", "n", "false", "0")})
    for language in ("es", "en"):
        with force_locale(language):
            words[_words(_("Yes"))], words[_words(_("No"))] = True, False
    return words


def parse_upload(session: Session, cycle: ReportingCycle, institution: Institution, data: bytes) -> Preview:
    """Read a filled template; raise ValidationFailed for an unusable file, else one error per bad row."""
    upload = _read_workbook(data)
    _check_template(upload.meta, cycle, institution)
    context = _Context.load(session, cycle, institution)
    rows = [_parse_row(kind, number, raw, context) for kind, cells in upload.rows.items() for number, raw in cells]
    _flag_duplicates(rows)
    return Preview(rows)


@dataclass
class _Upload:
    """Everything read from the file: the hidden sheet's keys and the non-empty rows of each sheet."""

    meta: dict[str, str]
    rows: dict[EntryKind, list[tuple[int, dict[str, Any]]]]


def _not_excel() -> ValidationFailed:
    return _file_error(_("The file is not an Excel workbook (.xlsx). Download the template and fill it in."))


def _not_template() -> ValidationFailed:
    return _file_error(_("This workbook is not the NAP Tracker template. Download the template from your worklist and fill it in."))


def _read_workbook(data: bytes) -> _Upload:
    """Read the values the checks need, once; any failure of the reader means the file is not a workbook."""
    workbook = load_untrusted_workbook(data, _not_excel)
    try:
        meta = _read_meta(workbook)
        rows = {kind: _read_rows(workbook, meta.get(kind.value), kind) for kind in (EntryKind.indicator, EntryKind.action)}
    except ValidationFailed:
        raise
    except Exception:  # noqa: BLE001 - read-only sheets are parsed lazily, so reading rows can fail too
        raise _not_excel() from None
    finally:
        workbook.close()
    return _Upload(meta, rows)


def load_untrusted_workbook(data: bytes, refusal: Callable[[], Exception]) -> Any:
    """Open an uploaded .xlsx read-only, values only, after the archive check; `refusal()` is raised when it is not a
    workbook (an untrusted file breaks the reader in many ways; all mean "not a workbook")."""
    _check_archive(data)
    try:
        return openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception:  # noqa: BLE001
        raise refusal() from None


def _check_archive(data: bytes) -> None:
    """An .xlsx is a zip: refuse other files, and archives that would unpack to a huge size (zip bombs)."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            size = sum(info.file_size for info in archive.infolist())
    except Exception:  # noqa: BLE001 - BadZipFile, and OSError/ValueError for damaged archives
        raise _not_excel() from None
    if size > MAX_UNZIPPED_BYTES:
        raise _file_error(_("The workbook is too large to read."))


def _read_meta(workbook: openpyxl.Workbook) -> dict[str, str]:
    if META_SHEET not in workbook.sheetnames:
        raise _not_template()
    cells = workbook[META_SHEET].iter_rows(max_row=20, max_col=2, values_only=True)
    meta = {str(row[0]): unescape_text(str(row[1])) for row in cells if len(row) == 2 and row[0] is not None}
    if meta.get("format") != FORMAT:
        raise _not_template()
    return meta


def _read_rows(workbook: openpyxl.Workbook, title: str | None, kind: EntryKind) -> list[tuple[int, dict[str, Any]]]:
    """The sheet's rows that have something in a fill column, as {column key: cell value}, with their row number."""
    if title not in workbook.sheetnames:
        raise _not_template()
    columns = COLUMNS[kind]
    rows = []
    for number, cells in enumerate(workbook[title].iter_rows(min_row=2, max_col=len(columns), values_only=True), start=2):
        raw = dict(zip((c.key for c in columns), (*cells, *[None] * len(columns))))
        if any(_blank(raw[c.key]) is not None for c in columns if c.fill):
            rows.append((number, raw))
            if len(rows) > MAX_ROWS:
                raise _file_error(_("The sheet %(sheet)s has more than %(max)d filled-in rows.", sheet=title, max=MAX_ROWS))
    return rows


def _check_template(meta: dict[str, str], cycle: ReportingCycle, institution: Institution) -> None:
    """The hidden sheet must name this plan, year and institution: a template of another year is refused."""
    if (meta.get("plan"), meta.get("year"), meta.get("institution")) != (cycle.plan.code, str(cycle.year), institution.code):
        raise _file_error(_("This template is for another plan, year or institution. Download the template of %(plan)s %(year)s from your worklist.",
                            plan=cycle.plan.code, year=cycle.year))


def _blank(value: Any) -> Any:
    """None for empty cells and cells holding only spaces; stripped text otherwise, as the template was given it."""
    if isinstance(value, str):
        value = unescape_text(value.strip())
        return value or None
    return value


def _parse_row(kind: EntryKind, number: int, raw: dict[str, Any], context: _Context) -> PreviewRow:
    """One filled-in row checked against the worklist and the entry rules."""
    filled = {c.key: _blank(raw.get(c.key)) for c in COLUMNS[kind] if c.fill}
    filled = {k: v for k, v in filled.items() if v is not None}
    code = str(_blank(raw.get("code")) or "")[:40]
    row = PreviewRow(kind, number, code, values=[(_title(kind, k), _shown(v)) for k, v in filled.items()])
    work = context.assigned[kind].get(code)
    row.error = _row_target_error(kind, code, work, context)
    if row.error:
        return row
    row.item = work.item
    errors: list[str] = []
    row.data = _indicator_input(work.item, filled, errors, context) if kind == EntryKind.indicator else _action_input(filled, errors, context)
    if errors:
        row.error = "; ".join(errors)
    elif work.entry is not None and _same(work.entry, work.item, row.data):
        row.unchanged = True
    else:
        row.error = _version_error(work.entry, raw.get("version"))
        row.version = work.entry.version if work.entry is not None else None
    return row


def _row_target_error(kind: EntryKind, code: str, work: services.WorkItem | None, context: _Context) -> str:
    """The row must name an item of the worklist (so not a retired one) whose entry can still be edited."""
    if not code:
        return _("No code: the row cannot be matched to the plan.")
    if work is None and code in context.retired[kind]:
        return services.retired_item_message(context.retired[kind][code])
    if work is None and code in context.plan_codes[kind]:
        return _("Your institution does not report on %(code)s.", code=code)
    if work is None:
        return _("Unknown code %(code)s.", code=code)
    if work.entry is not None and work.entry.state not in EDITABLE_STATES:
        return _("This entry is %(state)s and cannot be edited.", state=label(work.entry.state).lower())
    return ""


def _version_error(entry: Entry | None, version_cell: Any) -> str:
    """Refuse rows whose entry was saved after the template was downloaded: nothing is overwritten silently."""
    if entry is None:
        return ""
    version = version_cell if isinstance(version_cell, int) and not isinstance(version_cell, bool) else None
    if version == entry.version:
        return ""
    return _("This entry was saved after the template was downloaded (it is now at version %(version)d). Download the template again so that nothing is overwritten.",
             version=entry.version)


def _title(kind: EntryKind, key: str) -> str:
    return str(next(c.title for c in COLUMNS[kind] if c.key == key))


def _column_error(kind: EntryKind, key: str, message: str) -> str:
    """A cell's error, prefixed by its column: "Men: Cannot be negative."."""
    return _("%(column)s: %(message)s", column=_title(kind, key), message=message)


def _shown(value: Any) -> str:
    text = str(value)
    return text if len(text) <= 80 else text[:79] + "…"


# -- cells to entry input -----------------------------------------------------------------------


def _indicator_input(indicator: Indicator, filled: dict[str, Any], errors: list[str], context: _Context) -> services.IndicatorInput:
    """The row as IndicatorInput; conversion and rule errors are appended to `errors`, prefixed by column."""
    kind, allowed, values = EntryKind.indicator, indicator_fields(indicator), {}
    for key, cell in filled.items():
        if key not in allowed:
            errors.append(_column_error(kind, key, _("Does not apply to this indicator.")))
            continue
        try:
            values[key] = _convert(key, cell, context)
        except _CellError as exc:
            errors.append(_column_error(kind, key, str(exc)))
    data = services.IndicatorInput(**values)
    if errors:
        return data
    try:
        services.check_indicator_input(indicator, data)
    except ValidationFailed as exc:
        errors.extend(_column_error(kind, name, message) if name in allowed else message for name, message in exc.errors)
    if indicator.counts_people and (data.women is None) != (data.men is None):
        missing = "women" if data.women is None else "men"
        errors.append(_column_error(kind, missing, _("This indicator counts people: give the figures for women and for men.")))
    return data


def _action_input(filled: dict[str, Any], errors: list[str], context: _Context) -> services.ActionInput:
    values = {}
    for key, cell in filled.items():
        try:
            values[key] = _convert(key, cell, context)
        except _CellError as exc:
            errors.append(_column_error(EntryKind.action, key, str(exc)))
    return services.ActionInput(**values)


def _convert(key: str, cell: Any, context: _Context) -> Any:
    if key in ("women", "men", "reported_total"):
        return _count(cell)
    if key in ("value", "numerator", "denominator"):
        return _number(cell)
    if key == "value_bool":
        return _choice(cell, context.yes_no, _("Answer yes or no."))
    if key == "action_status":
        return _choice(cell, context.statuses, _("Unknown status «%(value)s»: choose one from the list.", value=_shown(cell)))
    return _text(cell, TEXT_LIMITS.get(key, TEXT_LIMIT))


def _number(cell: Any) -> Decimal:
    """A number typed or stored in any usual way (5, 5.5, "5,5"); never a date, a boolean or NaN."""
    not_number = _CellError(_("«%(value)s» is not a number.", value=_shown(cell)))
    if isinstance(cell, bool):
        raise not_number
    if isinstance(cell, (int, Decimal)):
        number = Decimal(cell)
    elif isinstance(cell, float):
        number = Decimal(repr(cell))
    elif isinstance(cell, str):
        text = cell.replace(" ", "").replace("\u00a0", "")
        if "," in text and "." not in text:
            text = text.replace(",", ".")
        try:
            number = Decimal(text)
        except InvalidOperation:
            raise not_number from None
    else:
        raise not_number
    if not number.is_finite():
        raise not_number
    if abs(number) >= MAX_NUMBER:
        raise _CellError(_("The number is too large."))
    return number


def _count(cell: Any) -> int:
    """A whole number of people (the sign is checked with the entry rules)."""
    number = _number(cell)
    if number != number.to_integral_value():
        raise _CellError(_("Give a whole number of people."))
    return int(number)


def _choice(cell: Any, words: dict[str, Any], message: str) -> Any:
    if isinstance(cell, bool):
        cell = "1" if cell else "0"
    value = words.get(_words(cell))
    if value is None:
        raise _CellError(message)
    return value


def _text(cell: Any, limit: int) -> str:
    text = str(cell).strip()
    if len(text) > limit:
        raise _CellError(_("Too long: at most %(max)d characters.", max=limit))
    return text


def _same(entry: Entry, item: Indicator | Action, data: services.IndicatorInput | services.ActionInput) -> bool:
    """The row says what the entry already holds (a pre-filled row left as it was)."""
    names = indicator_fields(item) if entry.kind == EntryKind.indicator else set(entry.fields)
    for name in names:
        saved, given = getattr(entry, name), getattr(data, name)
        if isinstance(saved, str) or isinstance(given, str):
            saved, given = (saved or "").strip(), (given or "").strip()
        if saved != given:
            return False
    return True


def _flag_duplicates(rows: list[PreviewRow]) -> None:
    """An item named on several rows is ambiguous: every one of those rows is an error."""
    seen: dict[tuple[EntryKind, str], list[PreviewRow]] = {}
    for row in rows:
        if row.item is not None:
            seen.setdefault((row.kind, row.code), []).append(row)
    for same in seen.values():
        if len(same) < 2:
            continue
        numbers = ", ".join(str(r.row) for r in same)
        for row in same:
            message = _("%(code)s appears on several rows (%(rows)s): keep only one.", code=row.code, rows=numbers)
            row.error = f"{row.error}; {message}" if row.error else message


# -- importing ----------------------------------------------------------------------------------


def import_rows(session: Session, user, cycle: ReportingCycle, institution: Institution, preview: Preview,
                progress=None) -> int:
    """Save the preview's good rows as drafts (event "imported"); any failure raises and the caller rolls back all."""
    rows = [(row.item, row.data, row.version) for row in preview.good]
    return services.save_drafts(session, user, cycle, institution, rows, event="imported", progress=progress)
