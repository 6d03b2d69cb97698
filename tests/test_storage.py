"""Stored files appear only with the commit of the rows that name them (issue 13)."""

from __future__ import annotations

import io

import pytest
import sqlalchemy as sa

from test_progress import PDF, _entry, _save, committee, cycle, navy  # noqa: F401
from tracker.db import db
from tracker.progress import uploads
from tracker.progress.models import Evidence
from tracker.storage import PARTIAL_PREFIX


@pytest.fixture
def folder(app, tmp_path, monkeypatch):
    monkeypatch.setitem(app.config, "UPLOAD_FOLDER", tmp_path)
    return tmp_path


def stored_files(folder) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.is_file())


def test_saved_evidence_is_in_place_and_no_partial_is_left(app, navy, folder):
    assert _save(navy, "IND-PAR-2", {"women": "1", "men": "1"}, files=[(io.BytesIO(PDF), "a.pdf")]).status_code == 302
    with app.app_context():
        evidence = db.session.scalars(sa.select(Evidence)).one()
    assert stored_files(folder) == [evidence.stored_name]
    assert (folder / evidence.stored_name).read_bytes() == PDF


def test_a_refused_save_leaves_no_file(app, navy, folder):
    response = _save(navy, "IND-PAR-2", {"women": "-1", "men": "1"}, files=[(io.BytesIO(PDF), "a.pdf")])
    assert response.status_code == 400
    assert stored_files(folder) == []


def test_a_save_that_loses_a_race_leaves_no_file(app, navy, folder):
    assert _save(navy, "IND-PAR-2", {"women": "1", "men": "1"}).status_code == 302
    stale = {"women": "2", "men": "1", "version": "0"}  # opened before the first save
    response = _save(navy, "IND-PAR-2", stale, files=[(io.BytesIO(PDF), "a.pdf")])
    assert response.status_code == 409
    assert stored_files(folder) == []


def test_rollback_removes_the_partial_file(app, navy, folder, session):
    _save(navy, "IND-PAR-2", {"women": "1", "men": "1"})
    entry = session.merge(_entry(app, "IND-PAR-2"))
    uploads.store_evidence(session, None, entry, [(PDF, "application/pdf", "a.pdf")])
    assert [name.startswith(PARTIAL_PREFIX) for name in stored_files(folder)] == [True]
    session.rollback()
    assert stored_files(folder) == []


def test_check_moves_a_committed_partial_into_place(app, navy, folder, session):
    _save(navy, "IND-PAR-2", {"women": "1", "men": "1"}, files=[(io.BytesIO(PDF), "a.pdf")])
    (name,) = stored_files(folder)
    (folder / name).rename(folder / f"{PARTIAL_PREFIX}{name}")  # as a crash between commit and rename leaves it
    runner = app.test_cli_runner()
    found = runner.invoke(args=["check"])
    assert found.exit_code == 1 and "Not moved into place after its commit" in found.output
    fixed = runner.invoke(args=["check", "--fix"])
    assert fixed.exit_code == 0, fixed.output
    assert stored_files(folder) == [name] and (folder / name).read_bytes() == PDF
