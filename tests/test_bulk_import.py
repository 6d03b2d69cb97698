"""Bulk entry: the Excel template of a worklist, the upload preview with an error per bad row, the import."""

from __future__ import annotations

import html
import io
import re
import zipfile

import openpyxl
import pytest
import sqlalchemy as sa
from test_progress import BASE, PDF, YEAR, _entry, _save, committee, cycle, navy  # noqa: F401 - fixtures

from tracker.auth.models import Role, User
from tracker.db import db
from tracker.domain import WorkflowError
from tracker.progress import bulk
from tracker.progress.models import ActionStatus, CycleState, EntryKind, EntryState, EntryVersion, ReportingCycle

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
IMPORT = f"{BASE}/import"
NAVY_INDICATORS = ["IND-OE1-1", "IND-PAR-1", "IND-PAR-2", "IND-PAR-3", "IND-REC-4"]
NAVY_ACTIONS = ["PAR-1", "PAR-2", "PAR-3", "REC-4"]


@pytest.fixture(autouse=True)
def _english(app):
    """Messages are asserted in English: every account created by the test reads the site in English."""

    def switch():
        with app.app_context():
            db.session.execute(sa.update(User).values(language="en"))
            db.session.commit()

    return switch


# -- helpers ------------------------------------------------------------------------------------


def _download(client) -> openpyxl.Workbook:
    response = client.get(f"{BASE}/template.xlsx")
    assert response.status_code == 200, response.status_code
    assert response.mimetype == XLSX
    return openpyxl.load_workbook(io.BytesIO(response.data))


def _sheet(workbook, kind: EntryKind):
    meta = dict(workbook[bulk.META_SHEET].iter_rows(values_only=True))
    return workbook[meta[kind.value]]


def _column(kind: EntryKind, key: str) -> int:
    return next(i for i, c in enumerate(bulk.COLUMNS[kind], start=1) if c.key == key)


def _fill(workbook, kind: EntryKind, code: str, **values) -> int:
    """Write values in the row of `code` (a new row when the code is not in the sheet); returns the row number."""
    sheet = _sheet(workbook, kind)
    rows = [r for r in range(2, sheet.max_row + 1) if sheet.cell(r, 1).value == code]
    row = rows[0] if rows else sheet.max_row + 1
    sheet.cell(row, 1).value = code
    for key, value in values.items():
        sheet.cell(row, _column(kind, key)).value = value
    return row


def _xlsx(workbook) -> bytes:
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _upload(client, data: bytes, name: str = "plantilla.xlsx"):
    return client.post_form(IMPORT, {"file": (io.BytesIO(data), name)}, content_type="multipart/form-data")


def _preview(page: str) -> dict[tuple[str, int], tuple[str, str, str]]:
    """{(sheet, row): (code, status, error)} read from the preview table."""
    out = {}
    for row, status, body in re.findall(r'data-row="(\d+)" data-status="(\w+)">(.*?)</tr>', page, re.S):
        cells = [html.unescape(re.sub(r"<[^>]+>", "", c)).strip() for c in re.findall(r"<td[^>]*>(.*?)</td>", body, re.S)]
        error = re.search(r'row-error">(.*?)</span>', body, re.S)
        out[(cells[0], int(row))] = (cells[2], status, html.unescape(error.group(1)) if error else "")
    return out


def _token(page: str) -> str:
    match = re.search(r"/import/([0-9a-f]{32})\"", page)
    assert match, "no confirm button on the preview"
    return match.group(1)


def _imports_folder(app):
    folder = app.config["UPLOAD_FOLDER"] / "imports"
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


# -- the template -------------------------------------------------------------------------------


def test_template_lists_the_worklist_with_drafts_prefilled(app, navy, _english):
    _save(navy, "IND-PAR-2", {"women": "5", "men": "20", "narrative": "Despliegue MINUSCA"})
    _english()
    page = navy.get(BASE).get_data(as_text=True)
    assert "Download Excel template" in page and "Import from Excel" in page
    workbook = _download(navy)
    indicators, actions = _sheet(workbook, EntryKind.indicator), _sheet(workbook, EntryKind.action)
    assert [indicators.cell(r, 1).value for r in range(2, indicators.max_row + 1)] == NAVY_INDICATORS
    assert [actions.cell(r, 1).value for r in range(2, actions.max_row + 1)] == NAVY_ACTIONS
    assert indicators.cell(1, 1).value == "Code" and indicators.cell(1, _column(EntryKind.indicator, "women")).value == "Women"
    assert indicators["C4"].value.startswith("Número de personal militar desplegado") or indicators["C4"].value.startswith("Number")
    # The draft is pre-filled, with its version in the hidden column.
    row = NAVY_INDICATORS.index("IND-PAR-2") + 2
    get = lambda key: indicators.cell(row, _column(EntryKind.indicator, key)).value  # noqa: E731
    assert (get("women"), get("men"), get("narrative"), get("version")) == (5, 20, "Despliegue MINUSCA", 1)
    assert get("state") == "Draft"
    # Frozen header, hidden version column, protected sheet with unlocked fill cells, drop-down lists.
    assert indicators.freeze_panes == "B2" and actions.freeze_panes == "B2"
    assert indicators.column_dimensions["B"].hidden
    assert indicators.protection.sheet
    assert indicators.cell(row, _column(EntryKind.indicator, "women")).protection.locked is False
    assert indicators.cell(row, _column(EntryKind.indicator, "value")).protection.locked is True  # not applicable
    assert indicators.cell(row, 1).protection.locked is True
    status_letter = openpyxl.utils.get_column_letter(_column(EntryKind.action, "action_status"))
    lists = [v for v in actions.data_validations.dataValidation if v.type == "list"]
    assert lists and status_letter in str(lists[0].sqref) and "In progress" in lists[0].formula1
    assert any(v.type == "list" and "Yes" in v.formula1 for v in indicators.data_validations.dataValidation)
    assert workbook[bulk.META_SHEET].sheet_state == "veryHidden"
    assert workbook.worksheets[0].title == "Instructions"


def test_good_and_bad_rows(app, navy, _english):
    _english()
    workbook = _download(navy)
    _fill(workbook, EntryKind.indicator, "IND-OE1-1", women=-1, men=3)  # row 2: negative count
    _fill(workbook, EntryKind.indicator, "IND-PAR-1", women=3)  # row 3: men missing
    _fill(workbook, EntryKind.indicator, "IND-PAR-2", women=4, men="6", narrative="Despliegue")  # row 4: good
    unknown = _fill(workbook, EntryKind.indicator, "IND-XYZ-9", women=1, men=1)  # row 7: unknown code
    _fill(workbook, EntryKind.action, "PAR-1", action_status="Completed", done="Cursos dictados")  # good
    response = _upload(navy, _xlsx(workbook))
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    preview = _preview(page)
    assert unknown == 7
    assert preview == {
        ("Indicator", 2): ("IND-OE1-1", "error", "Women: Cannot be negative."),
        ("Indicator", 3): ("IND-PAR-1", "error", "Men: This indicator counts people: give the figures for women and for men."),
        ("Indicator", 4): ("IND-PAR-2", "ready", ""),
        ("Indicator", 7): ("IND-XYZ-9", "error", "Unknown code IND-XYZ-9."),
        ("Action", 2): ("PAR-1", "ready", ""),
    }
    assert _entry(app, "IND-PAR-2") is None  # the preview saves nothing
    token = _token(page)
    assert token in _imports_folder(app)

    response = navy.post_form(f"{IMPORT}/{token}", token_from=IMPORT)
    assert response.status_code == 302 and response.headers["Location"].endswith(BASE)
    flashed = navy.get(BASE).get_data(as_text=True)
    assert "2 rows imported as drafts." in flashed and "3 rows with errors were not imported." in flashed
    indicator, action = _entry(app, "IND-PAR-2"), _entry(app, "PAR-1")
    assert (indicator.state, indicator.women, indicator.men, indicator.value, indicator.narrative) == (EntryState.draft, 4, 6, 10, "Despliegue")
    assert (action.state, action.action_status, action.done) == (EntryState.draft, ActionStatus.completed, "Cursos dictados")
    assert _entry(app, "IND-OE1-1") is None and _entry(app, "IND-PAR-1") is None
    with app.app_context():
        for entry in (indicator, action):
            versions = db.session.scalars(sa.select(EntryVersion).filter_by(entry_id=entry.id)).all()
            assert [(v.number, v.event, v.state) for v in versions] == [(1, "imported", EntryState.draft)]
    assert token not in _imports_folder(app)  # the stored upload is deleted
    # The token is used up.
    assert navy.post_form(f"{IMPORT}/{token}", token_from=IMPORT).status_code == 404


def test_more_bad_cells_are_explained(app, navy, _english):
    _english()
    workbook = _download(navy)
    _fill(workbook, EntryKind.indicator, "IND-PAR-3", value="muchos")
    _fill(workbook, EntryKind.indicator, "IND-REC-4", numerator=5, denominator=4)
    _fill(workbook, EntryKind.indicator, "IND-PAR-2", women=2, men=2, value=4)  # value does not apply: total is derived
    _fill(workbook, EntryKind.action, "PAR-2", action_status="a medias")
    _fill(workbook, EntryKind.action, "PAR-3", action_status="in_progress")
    _fill(workbook, EntryKind.action, "REC-1", action_status="completed")  # in the plan, not the Navy's
    preview = _preview(_upload(navy, _xlsx(workbook)).get_data(as_text=True))
    assert preview[("Indicator", 5)][2] == "Value: «muchos» is not a number."
    assert preview[("Indicator", 6)][2] == "Numerator: The part (numerator) cannot be larger than the whole (denominator)."
    assert preview[("Indicator", 4)][2] == "Value: Does not apply to this indicator."
    assert preview[("Action", 3)][2] == "Status: Unknown status «a medias»: choose one from the list."
    assert preview[("Action", 4)][1] == "ready"
    assert preview[("Action", 6)][2] == "Your institution does not report on REC-1."


def test_locked_entry_row_is_refused_and_unchanged(app, navy, committee, _english):
    _save(navy, "IND-PAR-2", {"women": "5", "men": "20"}, send=True)
    entry_id = _entry(app, "IND-PAR-2").id
    committee.post_form(f"/entries/{entry_id}/approve", token_from=f"/entries/{entry_id}")
    _english()
    workbook = _download(navy)
    row = _fill(workbook, EntryKind.indicator, "IND-PAR-2", women=99, men=1)
    assert _sheet(workbook, EntryKind.indicator).cell(row, _column(EntryKind.indicator, "women")).protection.locked
    _fill(workbook, EntryKind.indicator, "IND-PAR-1", women=1, men=2)
    page = _upload(navy, _xlsx(workbook)).get_data(as_text=True)
    preview = _preview(page)
    assert preview[("Indicator", row)] == ("IND-PAR-2", "error", "This entry is approved and cannot be edited.")
    navy.post_form(f"{IMPORT}/{_token(page)}", token_from=IMPORT)
    locked = _entry(app, "IND-PAR-2")
    assert (locked.state, locked.women, locked.men, locked.version) == (EntryState.approved, 5, 20, 3)
    assert _entry(app, "IND-PAR-1").women == 1


def test_unchanged_and_conflicting_rows(app, navy, _english):
    _save(navy, "IND-PAR-2", {"women": "5", "men": "20"})
    _save(navy, "IND-PAR-1", {"women": "1", "men": "1"})
    _english()
    workbook = _download(navy)  # both drafts at version 1
    _save(navy, "IND-PAR-1", {"women": "2", "men": "1", "version": "1"})  # a colleague saves meanwhile
    _fill(workbook, EntryKind.indicator, "IND-PAR-1", women=7)
    preview = _preview(_upload(navy, _xlsx(workbook)).get_data(as_text=True))
    assert preview[("Indicator", 4)][1] == "unchanged"  # IND-PAR-2 left as pre-filled
    assert preview[("Indicator", 3)][2].startswith("This entry was saved after the template was downloaded (it is now at version 2)")
    assert _entry(app, "IND-PAR-1").women == 2


def test_import_is_all_or_nothing(app, navy, monkeypatch, _english):
    _english()
    workbook = _download(navy)
    _fill(workbook, EntryKind.indicator, "IND-PAR-2", women=4, men=6)
    _fill(workbook, EntryKind.action, "PAR-1", action_status="completed")
    token = _token(_upload(navy, _xlsx(workbook)).get_data(as_text=True))
    check = bulk.services._check_input
    calls = []

    def failing_second_row(*args, **kwargs):
        calls.append(args)
        if len(calls) == 2:
            raise WorkflowError("This entry cannot be changed.")
        return check(*args, **kwargs)

    monkeypatch.setattr(bulk.services, "_check_input", failing_second_row)
    response = navy.post_form(f"{IMPORT}/{token}", token_from=IMPORT)
    assert response.status_code == 302 and response.headers["Location"].endswith(IMPORT)
    assert "nothing was changed" in navy.get(IMPORT).get_data(as_text=True)
    assert len(calls) == 2 and _entry(app, "IND-PAR-2") is None and _entry(app, "PAR-1") is None
    assert token not in _imports_folder(app)


def test_non_xlsx_files_are_refused(app, navy, _english):
    _english()
    stored_before = _imports_folder(app)
    response = _upload(navy, PDF, "informe.xlsx")
    assert response.status_code == 400
    assert "informe.xlsx is not an Excel workbook (.xlsx)." in response.get_data(as_text=True)
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as z:
        z.writestr("hello.txt", "not a workbook")
    response = _upload(navy, archive.getvalue())
    assert response.status_code == 400
    assert "The file is not an Excel workbook (.xlsx)." in response.get_data(as_text=True)
    response = _upload(navy, _xlsx(openpyxl.Workbook()))
    assert response.status_code == 400
    assert "This workbook is not the NAP Tracker template." in response.get_data(as_text=True)
    assert _imports_folder(app) == stored_before  # nothing kept


def test_oversized_upload_is_refused(app, navy, monkeypatch, _english):
    _english()
    monkeypatch.setitem(app.config, "MAX_UPLOAD_MB", 1)
    workbook = _download(navy)
    _fill(workbook, EntryKind.indicator, "IND-PAR-2", women=1, men=1)
    response = _upload(navy, _xlsx(workbook) + b"\0" * (1024 * 1024), "grande.xlsx")
    assert response.status_code == 400
    assert "grande.xlsx is larger than 1 MB." in response.get_data(as_text=True)


def test_template_of_another_year_is_refused(app, navy, cycle, _english):
    _english()
    workbook = _download(navy)
    workbook[bulk.META_SHEET]["B3"] = YEAR - 1
    _fill(workbook, EntryKind.indicator, "IND-PAR-2", women=1, men=1)
    response = _upload(navy, _xlsx(workbook))
    assert response.status_code == 400
    assert "This template is for another plan, year or institution." in response.get_data(as_text=True)


def test_only_the_uploader_can_confirm(app, navy, login_as, _english):
    _english()
    workbook = _download(navy)
    _fill(workbook, EntryKind.indicator, "IND-PAR-2", women=1, men=1)
    token = _token(_upload(navy, _xlsx(workbook)).get_data(as_text=True))
    army = login_as(Role.reporter, institution="EP")
    colleague = login_as(Role.reporter, email="second@example.org", institution="MGP")
    for other in (army, colleague):
        assert other.post_form(f"{IMPORT}/{token}", token_from=IMPORT).status_code == 404
    assert _entry(app, "IND-PAR-2") is None and _entry(app, "IND-PAR-2", "EP") is None
    assert navy.post_form(f"{IMPORT}/{'0' * 32}", token_from=IMPORT).status_code == 404
    assert navy.post_form(f"{IMPORT}/..%2F..%2Fsecret", token_from=IMPORT).status_code == 404
    assert navy.post_form(f"{IMPORT}/{token}", token_from=IMPORT).status_code == 302
    assert _entry(app, "IND-PAR-2").women == 1


@pytest.mark.parametrize("role", [Role.committee, Role.viewer])
def test_committee_and_viewers_cannot_import(app, navy, login_as, role):
    workbook = _download(navy)
    _fill(workbook, EntryKind.indicator, "IND-PAR-2", women=1, men=1)
    token = _token(_upload(navy, _xlsx(workbook)).get_data(as_text=True))
    other = login_as(role)
    csrf = other.csrf_token("/plans/PE-2021")
    assert other.get(f"{BASE}/template.xlsx").status_code == 403
    assert other.get(IMPORT).status_code == 403
    assert other.post(IMPORT, data={"csrf_token": csrf, "file": (io.BytesIO(_xlsx(workbook)), "p.xlsx")},
                      content_type="multipart/form-data").status_code == 403
    assert other.post(f"{IMPORT}/{token}", data={"csrf_token": csrf}).status_code == 403
    assert _entry(app, "IND-PAR-2") is None
    assert "Import from Excel" not in other.get(BASE).get_data(as_text=True)


def test_closed_cycle_refuses_bulk_entry(app, navy, cycle, _english):
    workbook = _download(navy)
    _fill(workbook, EntryKind.indicator, "IND-PAR-2", women=1, men=1)
    token = _token(_upload(navy, _xlsx(workbook)).get_data(as_text=True))
    with app.app_context():
        db.session.get(ReportingCycle, cycle).state = CycleState.closed
        db.session.commit()
    _english()
    for response in (navy.get(f"{BASE}/template.xlsx"), navy.get(IMPORT), navy.post_form(f"{IMPORT}/{token}", token_from=BASE)):
        assert response.status_code == 302 and response.headers["Location"].endswith(BASE)
    page = navy.get(BASE).get_data(as_text=True)
    assert f"The reporting cycle {YEAR} is closed; entries cannot be changed." in page
    assert "Import from Excel" not in page
    assert _entry(app, "IND-PAR-2") is None
