"""Stored files in the database (issue 18): with TRACKER_STORAGE=database, evidence, final reports and pending
imports live in stored_file, appear exactly when the rows naming them commit, and `tracker storage migrate` moves
a folder's files there, each checked against its row."""

from __future__ import annotations

import hashlib
import io
from datetime import timedelta

import pytest
import sqlalchemy as sa

from test_progress import PDF, _entry, _save, committee, cycle, navy  # noqa: F401
from tracker import storage
from tracker.db import db
from tracker.progress.models import Evidence
from tracker.storage import StoredFile


@pytest.fixture
def folder(app, tmp_path, monkeypatch):
    monkeypatch.setitem(app.config, "UPLOAD_FOLDER", tmp_path)
    return tmp_path


@pytest.fixture
def in_database(app, folder, monkeypatch):
    monkeypatch.setitem(app.config, "STORAGE", "database")
    return folder


def _stored_keys(app) -> list[str]:
    with app.app_context():
        return sorted(db.session.scalars(sa.select(StoredFile.key)))


def _evidence(app) -> Evidence:
    with app.app_context():
        evidence = db.session.scalars(sa.select(Evidence)).one()
        db.session.expunge(evidence)
        return evidence


def test_a_file_is_in_the_database_exactly_when_its_transaction_commits(app, in_database):
    with app.app_context():
        store = storage.store()
        store.save_after_commit(db.session, "kept.pdf", PDF)
        db.session.commit()
        store.save_after_commit(db.session, "lost.pdf", b"never")
        db.session.rollback()
        assert store.read("kept.pdf") == PDF and store.exists("kept.pdf") and not store.exists("lost.pdf")
        with pytest.raises(storage.Missing):
            store.read("lost.pdf")
        row = db.session.get(StoredFile, "kept.pdf")
        assert (row.size, row.sha256) == (len(PDF), hashlib.sha256(PDF).hexdigest())


def test_pending_uploads_are_kept_listed_swept_and_deleted(app, in_database):
    with app.app_context():
        store = storage.store()
        store.keep("imports/a", b"1")
        store.keep("imports/a", b"2")  # the same token again replaces it
        store.keep("imports/b", b"3")
        db.session.commit()
        assert store.read("imports/a") == b"2" and store.keys("imports/") == ["imports/a", "imports/b"]
        store.forget("imports/b")
        store.sweep("imports/", timedelta(seconds=-1))  # everything is older than a second in the future
        db.session.rollback()
        assert store.keys("imports/") == ["imports/a", "imports/b"]  # forgetting waits for the commit
        store.forget("imports/b")
        store.sweep("imports/", timedelta(seconds=-1))
        db.session.commit()
        assert store.keys("imports/") == []


def test_evidence_is_stored_in_the_database_and_served_from_it(app, navy, in_database):
    assert _save(navy, "IND-PAR-2", {"women": "1", "men": "1"}, files=[(io.BytesIO(PDF), "acta.pdf")]).status_code == 302
    evidence = _evidence(app)
    assert _stored_keys(app) == [evidence.stored_name]
    assert [p for p in in_database.rglob("*") if p.is_file()] == []  # nothing on this server's disk
    entry_id = evidence.entry_id
    response = navy.get(f"/entries/{entry_id}/evidence/{evidence.id}")
    assert response.status_code == 200 and response.data == PDF


def test_a_refused_save_stores_no_file(app, navy, in_database):
    assert _save(navy, "IND-PAR-2", {"women": "-1", "men": "1"}, files=[(io.BytesIO(PDF), "acta.pdf")]).status_code == 400
    assert _stored_keys(app) == []


def test_a_missing_file_is_a_clear_404_and_tracker_check_names_it(app, navy, in_database, cli):
    _save(navy, "IND-PAR-2", {"women": "1", "men": "1"}, files=[(io.BytesIO(PDF), "acta.pdf")])
    evidence = _evidence(app)
    result = cli("check")
    assert result.exit_code == 0 and "Checked 1 files: everything agrees." in result.output
    with app.app_context():
        db.session.execute(sa.delete(StoredFile))
        db.session.add(StoredFile(key="stray", data=b"x", size=1, sha256="0" * 64))
        db.session.commit()
    assert navy.get(f"/entries/{evidence.entry_id}/evidence/{evidence.id}").status_code == 404
    result = cli("check")
    assert result.exit_code == 1
    assert f"file missing: {evidence.stored_name}" in result.output and "Orphan file (no row): stray" in result.output
    result = cli("check", "--fix")
    assert "Removed orphan file stray" in result.output and _stored_keys(app) == []


def test_migrate_moves_the_folder_s_files_into_the_database_checked(app, navy, folder, cli, monkeypatch):
    _save(navy, "IND-PAR-2", {"women": "1", "men": "1"}, files=[(io.BytesIO(PDF), "acta.pdf")])
    evidence = _evidence(app)
    result = cli("storage", "migrate", "--to", "database")
    assert result.exit_code == 0 and "Moved 1 files to the database store (0 already there, checked)." in result.output
    assert _stored_keys(app) == [evidence.stored_name]
    assert "Moved 0 files" in cli("storage", "migrate", "--to", "database").output  # again: nothing more to move
    monkeypatch.setitem(app.config, "STORAGE", "database")
    (folder / evidence.stored_name).unlink()  # the folder is not needed any more
    assert navy.get(f"/entries/{evidence.entry_id}/evidence/{evidence.id}").data == PDF
    assert cli("check").exit_code == 0


def test_migrate_refuses_a_changed_file_and_moves_nothing(app, navy, folder, cli):
    _save(navy, "IND-PAR-2", {"women": "1", "men": "1"}, files=[(io.BytesIO(PDF), "acta.pdf")])
    evidence = _evidence(app)
    (folder / evidence.stored_name).write_bytes(PDF + b"changed")
    result = cli("storage", "migrate", "--to", "database")
    assert result.exit_code == 1
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("Error: evidence") and "nothing was moved" in lines[0]
    assert _stored_keys(app) == []


def test_files_go_back_to_a_folder_too(app, navy, in_database, cli):
    _save(navy, "IND-PAR-2", {"women": "1", "men": "1"}, files=[(io.BytesIO(PDF), "acta.pdf")])
    evidence = _evidence(app)
    assert cli("storage", "migrate", "--to", "folder").exit_code == 0
    assert (in_database / evidence.stored_name).read_bytes() == PDF


def test_a_pending_excel_import_waits_in_the_database_until_it_is_confirmed(app, navy, in_database):
    from test_bulk_import import IMPORT, _download, _fill, _token, _upload, _xlsx
    from tracker.progress.models import EntryKind

    workbook = _download(navy)
    _fill(workbook, EntryKind.indicator, "IND-PAR-2", women=3, men=4)
    token = _token(_upload(navy, _xlsx(workbook)).get_data(as_text=True))
    assert _stored_keys(app) == [f"imports/{token}"]  # any app server can confirm it
    assert navy.post_form(f"{IMPORT}/{token}", token_from=IMPORT).status_code == 302
    assert _entry(app, "IND-PAR-2").women == 3
    assert _stored_keys(app) == []  # forgotten with the import's commit
