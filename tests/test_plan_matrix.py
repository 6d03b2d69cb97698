"""The indicator matrix service (tracker.plan.matrix): reading an upload, and each row applied in its own SAVEPOINT
through the editing service."""

from __future__ import annotations

import io
from decimal import Decimal

import openpyxl
import pytest
import sqlalchemy as sa
from flask_babel import force_locale

from tracker.db import db
from tracker.domain import ValidationFailed
from tracker.plan import editing, matrix
from tracker.plan import models as m

EDITOR = editing.Editor("comite@mindef.gob.pe", "Acta 4/2026", m.ChangeChannel.spreadsheet)


@pytest.fixture
def plan(peru, session):
    return session.scalars(sa.select(m.Plan).filter_by(code="PE-2021")).one()


def _indicator(code: str) -> m.Indicator:
    return db.session.scalars(sa.select(m.Indicator).filter_by(code=code)).one()


def _workbook(plan) -> openpyxl.Workbook:
    return openpyxl.load_workbook(io.BytesIO(matrix.write_matrix(db.session, plan)))


def _set(workbook, code: str, targets: dict[int, object] | None = None, **values) -> None:
    sheet = workbook.worksheets[0]
    years = {int(str(c.value)[-4:]): c.column for c in sheet[1][len(matrix.KEYS):]}
    row = next((r for r in range(2, sheet.max_row + 1) if sheet.cell(r, 1).value == code), sheet.max_row + 1)
    sheet.cell(row, 1).value = code
    for key, value in values.items():
        sheet.cell(row, matrix.KEYS.index(key) + 1).value = value
    for year, value in (targets or {}).items():
        sheet.cell(row, years[year]).value = value


def _bytes(workbook) -> bytes:
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _apply(plan, workbook) -> dict[str, matrix.RowResult]:
    rows = matrix.read_matrix(_bytes(workbook)).rows
    return {r.code: r for r in matrix.apply_matrix(db.session, plan, rows, EDITOR)}


def _plain(header: list[object], *rows: list[object]) -> bytes:
    workbook = openpyxl.Workbook()
    for row in (header, *rows):
        workbook.active.append(row)
    return _bytes(workbook)


def _refusal(data: bytes) -> str:
    with pytest.raises(ValidationFailed) as caught:
        matrix.read_matrix(data)
    ((field, message),) = caught.value.errors
    assert field == "file"
    return message


# -- reading ------------------------------------------------------------------------------------


def test_the_template_reads_back_as_it_was_written(plan):
    read = matrix.read_matrix(_bytes(_workbook(plan)))
    assert read.plan_code == "PE-2021" and len(read.rows) == 11
    par1 = next(r for r in read.rows if r.code == "IND-PAR-1")
    assert (par1.number, par1.cells["lead"], par1.cells["support"]) == (6, "MINDEF", "CCFFAA; EP; MGP; FAP")
    assert set(par1.targets) == set(editing.target_years(plan)) and set(par1.targets.values()) == {None}
    assert {r.status for r in matrix.apply_matrix(db.session, plan, read.rows, EDITOR)} == {matrix.UNCHANGED}


@pytest.mark.parametrize("language", ["es", "en", "keys"])
def test_headers_are_read_in_either_language_or_as_keys(plan, language):
    if language == "keys":
        header = [*matrix.KEYS, "target 2026"]
    else:
        with force_locale(language):
            header = [str(c.title) for c in matrix.COLUMNS] + [matrix.target_title(2026)]
    row = ["PRE-1", "", "Name", "PRE", None, None, "number", "", "", "yes", "increase", "no", None, None, "MINDEF", None, 5]
    (read,) = matrix.read_matrix(_plain(header, row)).rows
    assert read.cells["pillar"] == "PRE" and read.targets == {2026: 5}


def test_empty_rows_are_skipped(plan):
    data = _plain(list(matrix.KEYS), [None] * len(matrix.KEYS), ["PRE-1"])
    assert [r.number for r in matrix.read_matrix(data).rows] == [3]


REFUSED_FILES = [
    ("not a workbook", b"PK\x03\x04 broken", "is not an Excel workbook"),
    ("a column missing", _plain(list(matrix.KEYS[:-1])), "Columns missing: Support institutions (codes)"),
    ("an unknown column", _plain([*matrix.KEYS, "colour"]), "Unknown column «colour»"),
    ("a column twice", _plain([*matrix.KEYS, "code"]), "Columns repeated: Code"),
    ("a target year twice", _plain([*matrix.KEYS, "target 2026", "Target 2026"]), "Columns repeated: Target 2026"),
    ("a huge cell", _plain(list(matrix.KEYS), ["PRE-1", "x" * (matrix.MAX_CELL + 1)]), "Row 2 has a cell of more than 5000 characters"),
    ("too many rows", _plain(list(matrix.KEYS), *[[f"IND-{n}"] for n in range(matrix.MAX_ROWS + 1)]), "more than 2000 rows"),
]


@pytest.mark.parametrize(("data", "message"), [c[1:] for c in REFUSED_FILES], ids=[c[0] for c in REFUSED_FILES])
def test_files_that_are_not_a_matrix_are_refused_with_a_message(ctx, data, message):
    with force_locale("en"):
        assert message in _refusal(data)


def test_a_file_over_the_upload_limit_is_refused(app, ctx, monkeypatch):
    monkeypatch.setitem(app.config, "MAX_UPLOAD_MB", 1)
    with force_locale("en"):
        assert "larger than 1 MB" in _refusal(b"PK" + b"\0" * (1024 * 1024))


def test_a_matrix_of_another_plan_is_refused(plan):
    read = matrix.read_matrix(_bytes(_workbook(plan)))
    read.plan_code = "CL-2022"
    with pytest.raises(ValidationFailed, match="CL-2022"):
        matrix.check_plan(read, plan)


# -- applying -----------------------------------------------------------------------------------


def test_blank_target_cells_leave_targets_and_a_dash_removes_one(plan, session):
    editing.set_targets(session, _indicator("PRE-1"), {2025: Decimal(10), 2026: Decimal(20)}, EDITOR)
    workbook = _workbook(plan)
    _set(workbook, "PRE-1", targets={2025: None, 2026: "-"})
    result = _apply(plan, workbook)["PRE-1"]
    assert (result.status, result.target_years) == (matrix.CHANGED, [2026])
    assert {t.year: t.value for t in _indicator("PRE-1").targets} == {2025: 10}
    removal = session.scalars(sa.select(m.IndicatorTargetChange).filter_by(year=2026, new_value=None)).one()
    assert (removal.old_value, removal.reason) == (20, "Acta 4/2026")


def test_a_row_refused_halfway_changes_nothing_of_its_indicator(plan, session):
    """The baseline passes the rules, the target does not: the row's SAVEPOINT takes the baseline back too."""
    workbook = _workbook(plan)
    _set(workbook, "IND-REC-4", baseline_value=10, baseline_year=2022, targets={2026: 150})
    _set(workbook, "PRE-2", targets={2026: 5})
    with force_locale("en"):
        results = _apply(plan, workbook)
    assert results["IND-REC-4"].status == matrix.REFUSED and "A percentage is between 0 and 100." in results["IND-REC-4"].reason
    assert _indicator("IND-REC-4").baseline_value is None
    assert session.scalar(sa.select(sa.func.count()).select_from(m.PlanChange).filter_by(item_code="IND-REC-4",
                                                                                         channel=m.ChangeChannel.spreadsheet)) == 0
    assert results["PRE-2"].status == matrix.CHANGED and [t.value for t in _indicator("PRE-2").targets] == [5]


def test_a_retired_indicator_is_refused(plan, session):
    workbook = _workbook(plan)
    editing.retire(session, plan, m.PlanItemKind.indicator, _indicator("PRE-3"), EDITOR)
    _set(workbook, "PRE-3", targets={2026: 4})
    with force_locale("en"):
        result = _apply(plan, workbook)["PRE-3"]
    assert (result.status, result.reason) == (matrix.REFUSED, "PRE-3 is retired: restore it on its page before changing it.")
    assert _indicator("PRE-3").targets == []


def test_a_code_on_two_rows_refuses_both(plan):
    workbook = _workbook(plan)
    _set(workbook, "PRE-1", targets={2026: 4})
    workbook.worksheets[0].append(["PRE-1", "", "Copy", "PRE", None, None, "number"])
    with force_locale("en"):
        results = matrix.apply_matrix(db.session, plan, matrix.read_matrix(_bytes(workbook)).rows, EDITOR)
    refused = [(r.number, r.reason) for r in results if r.code == "PRE-1"]
    assert refused == [(3, "PRE-1 appears on several rows (3, 13): keep only one."),
                       (13, "PRE-1 appears on several rows (3, 13): keep only one.")]


BAD_CELLS = [
    ("code", "IND 9", "Code: Letters, digits, dots, dashes and underscores only, at most 40."),
    ("measure", "lots", "Measure: Choose number, percentage, qualitative or yes_no."),
    ("direction", "", "Direction: Choose increase, decrease or maintain."),
    ("counts_people", "perhaps", "Counts people (yes/no): Answer yes or no."),
    ("baseline_value", "doce", "Baseline value: «doce» is not a number."),
    ("baseline_year", 2020.5, "Baseline year: Give a year, e.g. 2024."),
    ("objective", "OE-99", "Objective (code): Unknown objective «OE-99» in this plan."),
    ("support", "MGP; ARMADA", "Support institutions (codes): Unknown institution «ARMADA» of the plan's country."),
    ("unit_en", "u" * 121, "Unit (English): Too long: at most 120 characters."),
]


@pytest.mark.parametrize(("key", "value", "reason"), BAD_CELLS, ids=[c[0] for c in BAD_CELLS])
def test_unreadable_cells_refuse_the_row_naming_the_column(plan, key, value, reason):
    workbook = _workbook(plan)
    code = value if key == "code" else "IND-NEW-9"
    values = {"name_en": "New", "pillar": "PRE", "measure": "number", "direction": "increase"} | {key: value}
    values.pop("code", None)
    _set(workbook, code, **values)
    with force_locale("en"):
        result = _apply(plan, workbook)[code]
    assert (result.status, result.reason) == (matrix.REFUSED, reason)


def test_the_service_rules_refuse_the_row(plan):
    workbook = _workbook(plan)
    _set(workbook, "IND-NEW-9", name_en="New", measure="qualitative", counts_people="yes", direction="increase",
         baseline_value=3)
    with force_locale("en"):
        result = _apply(plan, workbook)["IND-NEW-9"]
    assert result.status == matrix.REFUSED
    assert result.reason == ("Attach the indicator to a pillar, an objective or an action. Only numbers and percentages "
                             "count people. A baseline needs both its value and its year.")


def test_a_new_indicator_is_decided_by_the_monitoring_body(plan, session):
    workbook = _workbook(plan)
    _set(workbook, "IND-NEW-9", name_es="Nuevo", objective="OE-1", measure="Porcentaje", direction="Increase",
         cumulative="sí", lead="MINDEF")
    result = _apply(plan, workbook)["IND-NEW-9"]
    new = _indicator("IND-NEW-9")
    assert result.status == matrix.ADDED
    assert (new.measure, new.cumulative, new.objective.code, new.original_language) == (
        m.Measure.percentage, True, "OE-1", m.Language.es)
    # Not the source's wording, and confirmed by the body that uploaded it, the upload's reason as reference.
    assert new.verification == m.Verification.derived and new.source_document == matrix.SOURCE
    assert new.confirmed_on is not None and not new.awaiting_confirmation
    assert new.position == max(i.position for i in session.scalars(sa.select(m.Indicator).filter_by(plan_id=plan.id)))


def test_the_template_costs_the_same_queries_whatever_the_number_of_indicators(app, plan, session):
    from conftest import count_queries

    def queries() -> int:
        session.expire_all()
        with count_queries(db.engine) as statements:
            matrix.write_matrix(session, plan)
        return len(statements)

    few = queries()
    workbook = _workbook(plan)
    for n in range(5):
        _set(workbook, f"IND-NEW-{n}", name_en="New", pillar="PRE", measure="number", direction="increase",
             lead="MINDEF", support="MGP", targets={2026: n})
    assert {r.status for r in _apply(plan, workbook).values()} == {matrix.UNCHANGED, matrix.ADDED}
    assert queries() == few
