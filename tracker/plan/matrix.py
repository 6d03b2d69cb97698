"""The indicator matrix: the plan's indicators as an Excel workbook to fill in, and a filled one applied.

write_matrix -> the .xlsx (current indicators, retired ones left out, one target column per year); read_matrix ->
the non-empty rows of an upload, or ValidationFailed for a file that cannot be a matrix; apply_matrix -> each row
through tracker.plan.editing inside its own SAVEPOINT, so a refused row changes nothing and the others still
apply. The workbook is never trusted: its structure is checked here, its values by the editing service's rules,
the same for the matrix, plan files and the browser's forms.
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any, Iterable

import openpyxl
import sqlalchemy as sa
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.worksheet import Worksheet
from sqlalchemy.orm import Session, selectinload

from tracker.domain import ValidationFailed
from tracker.i18n import localized
from tracker.labels import choices, label
from tracker.plan import editing
from tracker.plan import models as m
from tracker.progress import uploads
from tracker.progress.bulk import (HEADER, WRAP, XLSX_MIME, _append, _blank, _CellError, load_untrusted_workbook,  # noqa: F401
                                   _list_validation, _number, _sheet_title, _shown, _words, _yes_no_words)

FORMAT = "nap-tracker-matrix-1"
META_SHEET = "_meta"
MAX_ROWS = 2000  # a plan has tens of indicators
MAX_CELL = 5000  # characters; more is not an indicator's name or code
REMOVE = "-"  # typed in a target cell: that year's target is removed
CODE = re.compile(r"^[A-Za-z0-9_.\-]{1,40}$")  # the plan file's rule for codes (tracker.plan.schema.CodeStr)
TEXT_LIMITS = {"unit_es": 120, "unit_en": 120}  # the columns' sizes; names are long texts
SOURCE = "Indicator matrix (NAP Tracker spreadsheet)"  # the provenance of an indicator the matrix adds
INDICATOR = m.PlanItemKind.indicator

ADDED, CHANGED, UNCHANGED, REFUSED = "added", "changed", "unchanged", "refused"


@dataclass(frozen=True)
class Column:
    """A matrix column: its key (an Indicator column, or pillar/objective/action/lead/support), title and help."""

    key: str
    title: Any
    width: int
    help: Any


COLUMNS: tuple[Column, ...] = (
    Column("code", _l("Code"), 14, _l("The indicator's code. Rows are matched to the plan's indicators by it: keep "
                                      "the codes of existing indicators. A code the plan does not have adds a new "
                                      "indicator (letters, digits, dots, dashes and underscores).")),
    Column("name_es", _l("Name (Spanish)"), 45, _l("The indicator's name in Spanish. Give it in Spanish, in English or in both.")),
    Column("name_en", _l("Name (English)"), 45, _l("The indicator's name in English.")),
    Column("pillar", _l("Pillar (code)"), 12, _l("The code of its pillar (see the lists below). An indicator names a "
                                                 "pillar, an objective or an action.")),
    Column("objective", _l("Objective (code)"), 14, _l("The code of its objective, or empty.")),
    Column("action", _l("Action (code)"), 12, _l("The code of its action, or empty.")),
    Column("measure", _l("Measure"), 14, _l("number, percentage, qualitative or yes_no (see the lists below).")),
    Column("unit_es", _l("Unit (Spanish)"), 14, _l("What is counted, in Spanish (e.g. personas); at most 120 characters.")),
    Column("unit_en", _l("Unit (English)"), 14, _l("What is counted, in English (e.g. people); at most 120 characters.")),
    Column("counts_people", _l("Counts people (yes/no)"), 12, _l("yes if the indicator counts people, reported for "
                                                                 "women and men; only numbers and percentages do. Empty: no.")),
    Column("direction", _l("Direction"), 12, _l("increase, decrease or maintain: what progress means.")),
    Column("cumulative", _l("Cumulative (yes/no)"), 12, _l("yes if each year's value adds to the previous years'. Empty: no.")),
    Column("baseline_value", _l("Baseline value"), 12, _l("A number, with its year; leave both empty for no baseline.")),
    Column("baseline_year", _l("Baseline year"), 10, _l("The year of the baseline value.")),
    Column("lead", _l("Lead institutions (codes)"), 20, _l("Codes of the institutions that lead, separated by «;» "
                                                            "(see the lists below).")),
    Column("support", _l("Support institutions (codes)"), 24, _l("Codes of the supporting institutions, separated by «;».")),
)
KEYS = tuple(c.key for c in COLUMNS)
TITLES = {c.key: c.title for c in COLUMNS}
# Where the editing service's field names differ from the matrix's columns.
SERVICE_FIELDS = {"pillar_id": "pillar", "objective_id": "objective", "action_id": "action"}


def target_title(year: int) -> str:
    return _("Target %(year)s", year=year)


def column_title(key: str) -> str:
    """The column a matrix key or a service field name is shown under ("target_2024" -> "Target 2024")."""
    key = SERVICE_FIELDS.get(key, key)
    if key.startswith("target_") and key[7:].isdigit():
        return target_title(int(key[7:]))
    return str(TITLES.get(key, key))


# -- the template ------------------------------------------------------------------------------


@dataclass
class _Codes:
    """The plan's codes, looked up once: pillars, objectives, actions, the country's institutions, indicators."""

    pillars: dict[str, m.Pillar]
    objectives: dict[str, m.Objective]
    actions: dict[str, m.Action]
    institutions: dict[str, m.Institution]
    indicators: dict[str, m.Indicator]
    ids: dict[type, dict[int, str]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        pools = {m.Pillar: self.pillars, m.Objective: self.objectives, m.Action: self.actions, m.Institution: self.institutions}
        self.ids = {model: {row.id: code for code, row in pool.items()} for model, pool in pools.items()}

    @classmethod
    def load(cls, session: Session, plan: m.Plan) -> _Codes:
        def by_code(model: type, *where: Any) -> dict[str, Any]:
            rows = session.scalars(sa.select(model).where(*where).order_by(model.code))
            return {row.code: row for row in rows}

        indicators = sa.select(m.Indicator).filter_by(plan_id=plan.id).order_by(m.Indicator.position, m.Indicator.code)
        indicators = indicators.options(selectinload(m.Indicator.targets), selectinload(m.Indicator.responsible))
        return cls(by_code(m.Pillar, m.Pillar.plan_id == plan.id), by_code(m.Objective, m.Objective.plan_id == plan.id),
                   by_code(m.Action, m.Action.plan_id == plan.id),
                   by_code(m.Institution, m.Institution.country_id == plan.country_id),
                   {row.code: row for row in session.scalars(indicators)})

    def code_of(self, model: type, row_id: int | None) -> str | None:
        """The code of a plan item or institution given its id (None for None)."""
        return None if row_id is None else self.ids[model][row_id]

    def current_indicators(self) -> list[m.Indicator]:
        return [i for i in self.indicators.values() if not i.retired]


def matrix_years(plan: m.Plan, indicators: Iterable[m.Indicator]) -> list[int]:
    """The target columns: the years a target can be set for (editing.target_years), with every year an
    indicator already has a target for, so that the template shows each stored target."""
    years = set(editing.target_years(plan))
    for indicator in indicators:
        years.update(t.year for t in indicator.targets)
    return sorted(years)


def write_matrix(session: Session, plan: m.Plan) -> bytes:
    """The indicator matrix of the plan as an .xlsx workbook: one row per current indicator (retired ones left out),
    filled with its fields, responsible institutions and targets; a sheet of instructions and valid codes."""
    codes = _Codes.load(session, plan)
    indicators = codes.current_indicators()
    years = matrix_years(plan, indicators)
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.title = _sheet_title(_("Indicators"))
    _write_header(sheet, years)
    for indicator in indicators:
        _append(sheet, _row_of(codes, indicator, years))
    _format_rows(sheet, len(indicators))
    _write_instructions(workbook.create_sheet(_sheet_title(_("Instructions"))), plan, codes, years)
    _write_meta(workbook.create_sheet(META_SHEET), plan)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _write_header(sheet: Worksheet, years: list[int]) -> None:
    _append(sheet, [str(c.title) for c in COLUMNS] + [target_title(y) for y in years])
    widths = [c.width for c in COLUMNS] + [11] * len(years)
    for index, width in enumerate(widths, start=1):
        cell = sheet.cell(1, index)
        cell.font, cell.fill, cell.alignment = Font(bold=True), HEADER, WRAP
        sheet.column_dimensions[get_column_letter(index)].width = width
    sheet.freeze_panes = "B2"


def _row_of(codes: _Codes, indicator: m.Indicator, years: list[int]) -> list[Any]:
    """An indicator as the matrix shows it: codes for what it is attached to, numbers as numbers."""
    lead = [codes.code_of(m.Institution, r.institution_id) for r in indicator.responsible if r.role == m.ResponsibilityRole.lead]
    support = [codes.code_of(m.Institution, r.institution_id) for r in indicator.responsible if r.role == m.ResponsibilityRole.support]
    targets = {t.year: t.value for t in indicator.targets}
    return [
        indicator.code, indicator.name_es or None, indicator.name_en or None,
        codes.code_of(m.Pillar, indicator.pillar_id), codes.code_of(m.Objective, indicator.objective_id),
        codes.code_of(m.Action, indicator.action_id), indicator.measure.value,
        indicator.unit_es or None, indicator.unit_en or None, _yes_no(indicator.counts_people), indicator.direction.value,
        _yes_no(indicator.cumulative), _number_cell(indicator.baseline_value), indicator.baseline_year,
        "; ".join(lead) or None, "; ".join(support) or None,
        *[_number_cell(targets.get(year)) for year in years],
    ]


def _yes_no(value: bool) -> str:
    return _("Yes") if value else _("No")


def _number_cell(value: Decimal | None) -> int | float | None:
    if value is None:
        return None
    return int(value) if value == value.to_integral_value() else float(value)


def _format_rows(sheet: Worksheet, count: int) -> None:
    """Wrapped names, and drop-down lists where the column takes a word from a list."""
    last = max(count + 1, 200)  # room for new indicators below the current ones
    for row in sheet.iter_rows(min_row=2, max_row=count + 1, max_col=3):
        for cell in row[1:]:
            cell.alignment = WRAP

    def add(key: str, validation: DataValidation) -> None:
        letter = get_column_letter(KEYS.index(key) + 1)
        validation.add(f"{letter}2:{letter}{last}")
        sheet.add_data_validation(validation)

    add("measure", _list_validation([x.value for x in m.Measure]))
    add("direction", _list_validation([x.value for x in m.Direction]))
    for key in ("counts_people", "cumulative"):
        add(key, _list_validation([_("Yes"), _("No")]))


def _write_instructions(sheet: Worksheet, plan: m.Plan, codes: _Codes, years: list[int]) -> None:
    sheet.column_dimensions["A"].width = 30
    sheet.column_dimensions["B"].width = 100
    _append(sheet, [_("Indicator matrix"), f"{plan.code} · {localized(plan, 'title')}"])
    sheet["A1"].font = Font(bold=True, size=14)
    for line in _instruction_lines(years):
        _append(sheet, ["", line])
    _section(sheet, _("Columns"), [(str(c.title), str(c.help)) for c in COLUMNS]
             + [(target_title(years[0]) + " …", _target_help()) if years else (_("Target"), _target_help())])
    _section(sheet, _("Pillars"), [(p.code, localized(p, "name").text) for p in codes.pillars.values()])
    _section(sheet, _("Objectives"), [(o.code, _short(localized(o, "text").text)) for o in codes.objectives.values() if not o.retired])
    _section(sheet, _("Actions"), [(a.code, _short(localized(a, "text").text)) for a in codes.actions.values() if not a.retired])
    _section(sheet, _("Institutions"), [(i.code, localized(i, "name").text) for i in codes.institutions.values()])
    _section(sheet, _("Measure"), [(x.value, label(x)) for x in m.Measure])
    _section(sheet, _("Direction"), [(x.value, label(x)) for x in m.Direction])
    for row in sheet.iter_rows(min_row=2, min_col=2, max_col=2):
        row[0].alignment = WRAP


def _instruction_lines(years: list[int]) -> list[str]:
    span = f"{years[0]}–{years[-1]}" if years else ""
    return [
        _("1. One row per indicator. Change the cells you want to change; rows left as they are change nothing."),
        _("2. To add an indicator, fill in a new row with a code the plan does not have."),
        _("3. Every cell of a row but the targets says what the indicator is: an empty cell empties that field."),
        _("4. Targets (%(years)s): an empty cell leaves that year's target as it is; «-» removes it.", years=span),
        _("5. Targets typed here are recorded as decided by the monitoring body today, with the reason you give on upload."),
        _("6. Retired indicators are not listed; restore one on its page before changing it."),
        _("7. Upload the file with «Import a plan file or indicator matrix» on the plan's page: a preview shows what "
          "would be added, changed and refused, with the reason of each refused row, before anything is saved."),
    ]


def _target_help() -> str:
    return _("One column per year. A number (a percentage between 0 and 100; yes/no: 1 or 0); empty: unchanged; «-»: removed.")


def _section(sheet: Worksheet, title: str, rows: list[tuple[str, str]]) -> None:
    _append(sheet, [])
    _append(sheet, [title])
    sheet.cell(sheet.max_row, 1).font = Font(bold=True)
    for code, text in rows:
        _append(sheet, [code, text])


def _short(text: str, limit: int = 160) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _write_meta(sheet: Worksheet, plan: m.Plan) -> None:
    """A sheet hidden from the user that says which plan the matrix is for."""
    for key, value in (("format", FORMAT), ("plan", plan.code)):
        _append(sheet, [key, value])
    sheet.sheet_state = "veryHidden"
    sheet.protection.sheet = True


# -- reading an upload --------------------------------------------------------------------------


@dataclass
class MatrixRow:
    """One non-empty row of the upload: its cells by column key, and its target cells by year."""

    number: int
    cells: dict[str, Any]
    targets: dict[int, Any] = field(default_factory=dict)

    @property
    def code(self) -> str:
        return str(self.cells.get("code") or "")


@dataclass
class Matrix:
    """What an upload holds: the plan its hidden sheet names (None for a workbook made elsewhere) and its rows."""

    plan_code: str | None
    rows: list[MatrixRow]


def _refusal(message: str) -> ValidationFailed:
    return ValidationFailed([("file", message)])


def read_matrix(data: bytes) -> Matrix:
    """Read an uploaded matrix; raise ValidationFailed (field "file", translated) when it is not a workbook, is over
    the upload size limit, has other headers than the matrix's, more than MAX_ROWS rows or a huge cell."""
    if len(data) > uploads.max_bytes():
        raise _refusal(_("The file is larger than %(mb)d MB.", mb=uploads.max_bytes() // (1024 * 1024)))
    workbook = load_untrusted_workbook(data, _not_a_workbook)
    try:
        return Matrix(_plan_code(workbook), _read_sheet(_matrix_sheet(workbook)))
    except ValidationFailed:
        raise
    except Exception:  # noqa: BLE001 - read-only sheets are parsed lazily, so reading rows can fail too
        raise _not_a_workbook() from None
    finally:
        workbook.close()


def _not_a_workbook() -> ValidationFailed:
    return _refusal(_("The file is not an Excel workbook (.xlsx). Download the indicator matrix and fill it in."))


def _plan_code(workbook: Any) -> str | None:
    if META_SHEET not in workbook.sheetnames:
        return None
    cells = workbook[META_SHEET].iter_rows(max_row=10, max_col=2, values_only=True)
    meta = {str(row[0]): _blank(str(row[1])) for row in cells if len(row) == 2 and row[0] is not None}
    return meta.get("plan") if meta.get("format") == FORMAT else None


def _matrix_sheet(workbook: Any) -> Any:
    sheets = [s for s in workbook.worksheets if s.title != META_SHEET]
    if not sheets:
        raise _not_a_workbook()
    return sheets[0]


def _read_sheet(sheet: Any) -> list[MatrixRow]:
    rows = sheet.iter_rows(values_only=True)
    header = next(rows, ())
    columns = _columns(header)
    out = []
    for number, cells in enumerate(rows, start=2):
        row = _read_row(number, columns, cells)
        if row is not None:
            out.append(row)
            if len(out) > MAX_ROWS:
                raise _refusal(_("The matrix has more than %(max)d rows: a plan has far fewer indicators.", max=MAX_ROWS))
    return out


def _columns(header: tuple[Any, ...]) -> list[str | int | None]:
    """What each column holds: a matrix key, a target year (int), or None (a column without a header, ignored).
    Headers are accepted in Spanish or English, or as the keys; every column of the matrix must be there."""
    titles, prefixes = _known_titles()
    columns: list[str | int | None] = []
    for cell in header:
        text = _words(_blank(cell) or "") if cell is not None else ""
        columns.append((titles.get(text) or _target_year(text, prefixes)) if text else None)
        if text and columns[-1] is None:
            raise _refusal(_("Unknown column «%(title)s»: use the headers of the indicator matrix.", title=_shown(cell)))
    missing = [str(c.title) for c in COLUMNS if c.key not in columns]
    if missing:
        raise _refusal(_("Columns missing: %(columns)s. Download the indicator matrix and fill it in.", columns=", ".join(missing)))
    repeated = [c for c in dict.fromkeys(columns) if c is not None and columns.count(c) > 1]
    if repeated:
        shown = (column_title(c) if isinstance(c, str) else target_title(c) for c in repeated)
        raise _refusal(_("Columns repeated: %(columns)s.", columns=", ".join(shown)))
    return columns


def _known_titles() -> tuple[dict[str, str], set[str]]:
    """Every accepted header (normalized) -> its key, in both languages; and the words before a target's year."""
    titles = {_words(key): key for key in KEYS}
    prefixes = {"target"}
    for language in ("es", "en"):
        with force_locale(language):
            titles.update({_words(str(c.title)): c.key for c in COLUMNS})
            prefixes.add(_words(target_title(0)).replace("0", "").strip())
    return titles, prefixes


def _target_year(text: str, prefixes: set[str]) -> int | None:
    found = re.search(r"\b(\d{4})\b", text)
    if found is None or _words(text.replace(found.group(1), "")) not in prefixes:
        return None
    return int(found.group(1))


def _read_row(number: int, columns: list[str | int | None], cells: tuple[Any, ...]) -> MatrixRow | None:
    """The row's cells by key (None when empty), or None for an empty row; a huge cell refuses the file."""
    row = MatrixRow(number, {key: None for key in KEYS})
    for column, value in zip(columns, cells):
        value = _blank(value)
        if isinstance(value, str) and len(value) > MAX_CELL:
            raise _refusal(_("Row %(row)d has a cell of more than %(max)d characters.", row=number, max=MAX_CELL))
        if isinstance(column, int):
            row.targets[column] = value
        elif column is not None:
            row.cells[column] = value
    if all(v is None for v in row.cells.values()) and all(v is None for v in row.targets.values()):
        return None
    return row


def check_plan(matrix: Matrix, plan: m.Plan) -> None:
    """A matrix downloaded from another plan is refused (its codes mean other indicators there)."""
    if matrix.plan_code is not None and matrix.plan_code != plan.code:
        raise _refusal(_("This matrix is for the plan %(other)s, not %(plan)s. Download the indicator matrix of %(plan)s.",
                         other=matrix.plan_code, plan=plan.code))


# -- applying the rows --------------------------------------------------------------------------


@dataclass
class RowResult:
    """What one row did: added, changed (the fields and target years), unchanged, or refused (and why)."""

    number: int
    code: str
    status: str
    fields: list[str] = field(default_factory=list)
    target_years: list[int] = field(default_factory=list)
    reason: str = ""


@dataclass
class _Parsed:
    """A row as the editing service takes it."""

    values: dict[str, Any]
    lead: list[m.Institution]
    support: list[m.Institution]
    targets: dict[int, Decimal | None]


def apply_matrix(session: Session, plan: m.Plan, rows: list[MatrixRow], editor: editing.Editor) -> list[RowResult]:
    """Apply each row through tracker.plan.editing (add_item or set_fields, set_responsibility, set_targets) in its
    own SAVEPOINT: a refused row is rolled back alone, the others apply. Targets are recorded as decided by the
    monitoring body today. Flushes, never commits."""
    codes = _Codes.load(session, plan)
    today = editing.plan_today(plan)  # the day where the plan's monitoring body sits
    context = _Context(codes, _words_of(m.Measure), _words_of(m.Direction), _yes_no_words(), today,
                       max((i.position for i in codes.indicators.values()), default=-1) + 1)
    repeated = _repeated_codes(rows)
    return [_apply_row(session, plan, context, row, editor, repeated) for row in rows]


@dataclass
class _Context:
    codes: _Codes
    measures: dict[str, m.Measure]
    directions: dict[str, m.Direction]
    yes_no: dict[str, bool]
    today: date
    next_position: int


def _words_of(enum_cls: type) -> dict[str, Any]:
    """A vocabulary's values and their labels in Spanish and English, as typed words."""
    words = {_words(x.value): x for x in enum_cls}
    for language in ("es", "en"):
        with force_locale(language):
            words.update({_words(str(text)): enum_cls(value) for value, text in choices(enum_cls)})
    return words


def _repeated_codes(rows: list[MatrixRow]) -> dict[str, list[int]]:
    numbers: dict[str, list[int]] = {}
    for row in rows:
        if row.code:
            numbers.setdefault(row.code, []).append(row.number)
    return {code: ns for code, ns in numbers.items() if len(ns) > 1}


def _apply_row(session: Session, plan: m.Plan, context: _Context, row: MatrixRow, editor: editing.Editor,
               repeated: dict[str, list[int]]) -> RowResult:
    try:
        if row.code in repeated:
            raise editing.refuse("code", _l("%(code)s appears on several rows (%(rows)s): keep only one.", code=row.code,
                                            rows=", ".join(str(n) for n in repeated[row.code])))
        parsed = _parse(context, row)
        with session.begin_nested():
            result = _change(session, plan, context, row, parsed, editor)
    except editing.EditRefused as exc:
        return RowResult(row.number, row.code, REFUSED, reason=str(exc))
    except (sa.exc.DataError, sa.exc.IntegrityError):  # a value the rules let through and the database cannot hold
        return RowResult(row.number, row.code, REFUSED, reason=_("A value of this row cannot be stored (too long or too large)."))
    return result


def _change(session: Session, plan: m.Plan, context: _Context, row: MatrixRow, parsed: _Parsed,
            editor: editing.Editor) -> RowResult:
    indicator = context.codes.indicators.get(row.code)
    result = RowResult(row.number, row.code, UNCHANGED)
    if indicator is not None and indicator.retired:
        raise editing.refuse("code", _l("%(code)s is retired: restore it on its page before changing it.", code=row.code))
    if indicator is None:
        indicator = editing.add_item(session, plan, INDICATOR, row.code, {**parsed.values, **_new_item(plan, editor, context, row)}, editor)
        result.status = ADDED
    else:
        result.fields = editing.set_fields(session, plan, INDICATOR, indicator, parsed.values, editor)
    if editing.set_responsibility(session, plan, INDICATOR, indicator, parsed.lead, parsed.support, editor) and result.status != ADDED:
        result.fields.append("responsible")
    result.target_years = editing.set_targets(session, indicator, parsed.targets, editor, m.Verification.derived, "",
                                              decided_on=context.today)
    if result.status == UNCHANGED and (result.fields or result.target_years):
        result.status = CHANGED
    if result.status == ADDED:
        context.codes.indicators[row.code] = indicator
        context.next_position += 1
    return result


def _new_item(plan: m.Plan, editor: editing.Editor, context: _Context, row: MatrixRow) -> dict[str, Any]:
    """What a new indicator holds beyond its columns: where it came from (the monitoring body's matrix: confirmed by
    the body on the day it was added, like an indicator added with the form)."""
    language = m.Language.es if row.cells.get("name_es") else m.Language.en
    return {**editing.decided_provenance(plan, editor, SOURCE), "position": context.next_position,
            "source_section": f"row {row.number}", "original_language": language}


# -- cells to values ----------------------------------------------------------------------------


def _parse(context: _Context, row: MatrixRow) -> _Parsed:
    """The row's cells as the editing service's values; every unreadable cell at once, named by its column."""
    problems: list[editing.Problem] = []

    def read(key: str, convert: Any) -> Any:
        try:
            return convert(row.cells.get(key))
        except _CellError as exc:
            problems.append(editing.Problem(key, _("%(column)s: %(message)s", column=column_title(key), message=str(exc))))
            return None

    codes = context.codes
    read("code", _code)
    values = {
        "name_es": read("name_es", _text("name_es")) or "", "name_en": read("name_en", _text("name_en")) or "",
        "pillar_id": _id(read("pillar", _lookup(codes.pillars, lambda c: _("Unknown pillar «%(code)s» in this plan.", code=c)))),
        "objective_id": _id(read("objective", _lookup(codes.objectives, lambda c: _("Unknown objective «%(code)s» in this plan.", code=c)))),
        "action_id": _id(read("action", _lookup(codes.actions, lambda c: _("Unknown action «%(code)s» in this plan.", code=c)))),
        "measure": read("measure", _word(context.measures, _("Choose number, percentage, qualitative or yes_no."))),
        "unit_es": read("unit_es", _text("unit_es")) or "", "unit_en": read("unit_en", _text("unit_en")) or "",
        "counts_people": read("counts_people", _flag(context.yes_no)),
        "direction": read("direction", _word(context.directions, _("Choose increase, decrease or maintain."))),
        "cumulative": read("cumulative", _flag(context.yes_no)),
        "baseline_value": read("baseline_value", _optional(_number)),
        "baseline_year": read("baseline_year", _optional(_year)),
    }
    lead = read("lead", _institutions(codes.institutions)) or []
    support = read("support", _institutions(codes.institutions)) or []
    targets = _targets(row, problems)
    if problems:
        raise editing.EditRefused(problems)
    return _Parsed(values, lead, support, targets)


def _id(row: Any) -> int | None:
    return row.id if row is not None else None


def _code(cell: Any) -> str:
    if cell is None:
        raise _CellError(_("Give the indicator's code."))
    if not CODE.fullmatch(str(cell)):
        raise _CellError(_("Letters, digits, dots, dashes and underscores only, at most 40."))
    return str(cell)


def _text(key: str) -> Any:
    limit = TEXT_LIMITS.get(key, MAX_CELL)

    def convert(cell: Any) -> str | None:
        text = None if cell is None else str(cell)
        if text is not None and len(text) > limit:
            raise _CellError(_("Too long: at most %(max)d characters.", max=limit))
        return text

    return convert


def _lookup(pool: dict[str, Any], message: Any) -> Any:
    def convert(cell: Any) -> Any:
        if cell is None:
            return None
        found = pool.get(str(cell))
        if found is None:
            raise _CellError(message(_shown(cell)))
        return found

    return convert


def _word(words: dict[str, Any], message: str) -> Any:
    def convert(cell: Any) -> Any:
        found = words.get(_words(cell)) if cell is not None else None
        if found is None:
            raise _CellError(message)
        return found

    return convert


def _flag(words: dict[str, bool]) -> Any:
    def convert(cell: Any) -> bool:
        if cell is None:
            return False
        if isinstance(cell, bool):
            return cell
        found = words.get(_words(cell))
        if found is None:
            raise _CellError(_("Answer yes or no."))
        return found

    return convert


def _optional(convert: Any) -> Any:
    return lambda cell: None if cell is None else convert(cell)


def _year(cell: Any) -> int:
    number = _number(cell)
    if number != number.to_integral_value():
        raise _CellError(_("Give a year, e.g. 2024."))
    return int(number)


def _institutions(pool: dict[str, m.Institution]) -> Any:
    def convert(cell: Any) -> list[m.Institution]:
        found = []
        for code in re.split(r"[;,\n]", str(cell or "")):
            code = code.strip()
            if code and pool.get(code) is None:
                raise _CellError(_("Unknown institution «%(code)s» of the plan's country.", code=_shown(code)))
            if code and pool[code] not in found:
                found.append(pool[code])
        return found

    return convert


def _targets(row: MatrixRow, problems: list[editing.Problem]) -> dict[int, Decimal | None]:
    """The years whose cell is filled: a number sets the target, «-» removes it; empty cells are left out."""
    targets: dict[int, Decimal | None] = {}
    for year, cell in sorted(row.targets.items()):
        if cell is None:
            continue
        if str(cell).strip() == REMOVE:
            targets[year] = None
            continue
        try:
            targets[year] = _number(cell)
        except _CellError as exc:
            problems.append(editing.Problem(f"target_{year}", _("%(column)s: %(message)s", column=target_title(year), message=str(exc))))
    return targets
