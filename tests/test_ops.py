"""Backup, restore and check: nothing stored is lost, a bad archive changes nothing, files and rows agree.

The round trips run the real `tracker` command in a subprocess, configured by the environment as an
operator would (TRACKER_ENV=development, TRACKER_DATABASE_URL, TRACKER_INSTANCE_PATH, TRACKER_UPLOAD_FOLDER),
on SQLite files in tmp_path and, when TRACKER_TEST_DATABASE_URL is set, on databases of their own.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import time
import subprocess
import sys
import tarfile
import uuid
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pytest
import sqlalchemy as sa

from config import TestingConfig
from tracker import PROJECT_ROOT, create_app, migrate
from tracker import storage
from tracker.audit import AuditEvent
from tracker.auth import services as accounts
from tracker.auth.models import Role
from tracker.db import db
from tracker.demo import seed_peru_demo
from tracker.extensions import limiter
from tracker.plan import models as pm
from tracker.plan.loader import PERU_SEED, import_plan, read_plan_file
from tracker.progress import uploads
from tracker.progress.models import Entry, Evidence
from tracker.reports import services as reports
from tracker.reports.models import FinalReport

TRACKER = Path(sys.executable).with_name("tracker")
PG_URL = os.environ.get("TRACKER_TEST_DATABASE_URL", "")
BACKENDS = ["sqlite", pytest.param("postgresql", marks=pytest.mark.skipif(not PG_URL.startswith("postgresql"),
                                                                          reason="TRACKER_TEST_DATABASE_URL is not PostgreSQL"))]
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


# -- instances --------------------------------------------------------------------------------------


@dataclass
class Instance:
    """A NAP Tracker instance of its own: a database and an instance folder with its uploads."""

    url: str
    folder: Path

    @property
    def upload(self) -> Path:
        return self.folder / "uploads"

    def env(self, **extra: str) -> dict[str, str]:
        return {**os.environ, "TRACKER_ENV": "development", "TRACKER_DATABASE_URL": self.url,
                "TRACKER_INSTANCE_PATH": str(self.folder), "TRACKER_UPLOAD_FOLDER": str(self.upload),
                "TRACKER_MAIL_OUTBOX_FOLDER": str(self.folder / "outbox"), **extra}

    def run(self, *args: str, **extra: str) -> subprocess.CompletedProcess:
        """`tracker ARGS` as an operator runs it."""
        return subprocess.run([str(TRACKER), *args], env=self.env(**extra), cwd=PROJECT_ROOT,
                              capture_output=True, text=True, timeout=120, check=False)


class Databases:
    """Creates fresh PostgreSQL databases next to the test one, and drops them at the end."""

    def __init__(self) -> None:
        self.admin = sa.create_engine(sa.make_url(PG_URL).set(database="postgres"), isolation_level="AUTOCOMMIT")
        self.names: list[str] = []

    def create(self) -> str:
        name = f"nap_ops_{uuid.uuid4().hex[:10]}"
        with self.admin.connect() as connection:
            connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
        self.names.append(name)
        return sa.make_url(PG_URL).set(database=name).render_as_string(hide_password=False)

    def drop_all(self) -> None:
        with self.admin.connect() as connection:
            for name in self.names:
                connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        self.admin.dispose()


@pytest.fixture(scope="module")
def new_instance(tmp_path_factory):
    """new_instance(backend) -> an instance with an empty database (no tables) and no files."""
    databases = Databases() if PG_URL.startswith("postgresql") else None

    def make(backend: str) -> Instance:
        folder = tmp_path_factory.mktemp(f"instance-{backend}")
        url = databases.create() if backend == "postgresql" else f"sqlite:///{folder / 'tracker.sqlite3'}"
        return Instance(url, folder)

    yield make
    if databases:
        databases.drop_all()


@contextmanager
def app_of(instance: Instance):
    """An app bound to `instance`, in-process.

    The extensions are module-level singletons (see production_app in test_security.py): create_app
    rebinds the database and the limiter to the new app, so they are put back afterwards.
    """
    class InstanceConfig(TestingConfig):
        DATABASE_URL = instance.url
        UPLOAD_FOLDER = instance.upload

    saved_db, saved_limiter = dict(db.__dict__), dict(limiter.__dict__)
    try:
        app = create_app(InstanceConfig)
        with app.app_context():
            yield app
    finally:
        db.engine.dispose()
        db.__dict__.update(saved_db)
        limiter.__dict__.clear()
        limiter.__dict__.update(saved_limiter)


def populate(instance: Instance) -> None:
    """Peru's plan, demo years, a committee member, two evidence files and a final 2023 report (10 files)."""
    with app_of(instance) as app, app.test_request_context():
        migrate.upgrade("head")
        session = db.session
        import_plan(session, read_plan_file(PERU_SEED))
        seed_peru_demo(session)
        user = accounts.create_user(session, accounts.UserInput(email="comite@example.org", name="Comité", role=Role.committee,
                                                                institution_code="PE:CIG-MINDEF", plan_codes=("PE-2021",)),
                                    "Correct-Horse-Battery-Staple-42")
        entries = session.scalars(sa.select(Entry).order_by(Entry.id).limit(2)).all()
        for entry in entries:
            uploads.store_evidence(session, user, entry, [(PDF + str(entry.id).encode(), "application/pdf", "informe.pdf")])
        plan = session.scalars(sa.select(pm.Plan).filter_by(code="PE-2021")).one()
        reports.save_validation(session, plan, 2023, reports.ValidationInput(date(2024, 3, 1), "Acta 7-2024"), user)
        reports.finalize(session, plan, 2023, user)
        session.commit()


@dataclass
class Source:
    instance: Instance
    archive: Path
    manifest: dict


@pytest.fixture(scope="module", params=BACKENDS)
def source(request, app, new_instance, tmp_path_factory) -> Source:
    """A populated instance and its backup (made once per database kind)."""
    instance = new_instance(request.param)
    populate(instance)
    archive = tmp_path_factory.mktemp("archives") / f"{request.param}.tar.gz"
    result = instance.run("backup", "--output", str(archive))
    assert result.returncode == 0, result.stderr
    with tarfile.open(archive) as tar:
        manifest = json.load(tar.extractfile("manifest.json"))
    return Source(instance, archive, manifest)


def rows_by_table(url: str) -> dict[str, list[tuple]]:
    """Every row of every table, in a stable order."""
    engine = sa.create_engine(url)
    try:
        with engine.connect() as connection:
            metadata = sa.MetaData()
            metadata.reflect(connection)
            return {name: sorted((tuple(row) for row in connection.execute(sa.select(table))), key=repr)
                    for name, table in metadata.tables.items()}
    finally:
        engine.dispose()


def files_of(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def invoke(instance: Instance, *args: str):
    """`tracker ARGS` in-process (quicker than a subprocess, for everything but the round trip)."""
    with app_of(instance) as app:
        return app.test_cli_runner().invoke(args=list(args))


def one_error_line(result) -> str:
    """The command failed with exactly one `Error: ...` line and no traceback (subprocess or runner result)."""
    code = getattr(result, "returncode", getattr(result, "exit_code", None))
    assert code == 1, (result.stdout, result.stderr)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: ") and "Traceback" not in result.stderr, result.stderr
    return lines[0]


def without_restore_event(rows: dict[str, list[tuple]]) -> dict[str, list[tuple]]:
    """The restore adds one audit event of its own; everything else must be as backed up."""
    return {**rows, "audit_event": [r for r in rows["audit_event"] if "backup.restored" not in r]}


# -- backup and restore -------------------------------------------------------------------------------


def test_backup_archive_lists_every_member_with_its_checksum(source):
    manifest = source.manifest
    with tarfile.open(source.archive) as tar:
        names = set(tar.getnames())
    assert names == {"manifest.json", manifest["database"]["path"], *(f["path"] for f in manifest["files"])}
    assert manifest["alembic_revision"] == migrate.heads()[0]
    assert manifest["tables"]["evidence"] == 2 and manifest["tables"]["final_report"] == 10
    assert sum(f["path"].startswith("files/reports/") for f in manifest["files"]) == 10
    assert manifest["final_report_versions"] == [{"plan": "PE-2021", "plan_id": 1, "year": 2023, "version": 1}]


def test_restore_into_a_new_instance_gives_back_every_row_and_file(source, new_instance):
    target = new_instance(source.manifest["database"]["dialect"])
    result = target.run("restore", str(source.archive))
    assert result.returncode == 0, result.stderr
    totals = source.manifest["totals"]
    assert f"{len(source.manifest['tables'])} tables, {totals['rows']} rows" in result.stdout
    assert f"{totals['files']} files, {totals['bytes']} bytes" in result.stdout
    assert without_restore_event(rows_by_table(target.url)) == rows_by_table(source.instance.url)
    assert files_of(target.upload) == files_of(source.instance.upload)
    assert invoke(target, "check").exit_code == 0


def test_restore_refuses_an_instance_with_data_unless_forced(source, new_instance):
    target = new_instance(source.manifest["database"]["dialect"])
    assert invoke(target, "restore", str(source.archive)).exit_code == 0
    (target.upload / "stray.pdf").write_bytes(PDF)
    assert "not empty" in one_error_line(invoke(target, "restore", str(source.archive)))
    assert (target.upload / "stray.pdf").exists()
    result = invoke(target, "restore", "--force", str(source.archive))
    assert result.exit_code == 0, result.output
    assert not (target.upload / "stray.pdf").exists()
    assert files_of(target.upload) == files_of(source.instance.upload)


def test_restore_into_an_empty_migrated_schema(source, new_instance):
    target = new_instance(source.manifest["database"]["dialect"])
    assert invoke(target, "db", "upgrade").exit_code == 0
    assert invoke(target, "restore", str(source.archive)).exit_code == 0
    assert without_restore_event(rows_by_table(target.url)) == rows_by_table(source.instance.url)


def corrupted_copy(archive: Path, folder: Path, member: str) -> Path:
    """The same archive with one byte of `member` changed (the manifest still has the old checksum)."""
    copy = folder / "corrupted.tar.gz"
    with tarfile.open(archive) as old, tarfile.open(copy, "w:gz") as new:
        for info in old.getmembers():
            data = old.extractfile(info).read()
            if info.name == member:
                data = bytes([data[0] ^ 0xFF]) + data[1:]
            new.addfile(info, io.BytesIO(data))
    return copy


def test_a_corrupted_archive_is_refused_before_anything_is_touched(source, new_instance, tmp_path):
    target = new_instance(source.manifest["database"]["dialect"])
    member = source.manifest["files"][0]["path"]
    error = one_error_line(invoke(target, "restore", str(corrupted_copy(source.archive, tmp_path, member))))
    assert f"{member} is corrupted" in error
    assert not target.upload.exists() or files_of(target.upload) == {}
    assert rows_by_table(target.url) == {}


@pytest.mark.parametrize("content", [b"not an archive", b""], ids=["garbage", "empty"])
def test_restore_of_something_else_is_one_error_line(new_instance, tmp_path, content):
    (tmp_path / "x.tar.gz").write_bytes(content)
    target = new_instance("sqlite")
    assert "not a readable backup archive" in one_error_line(invoke(target, "restore", str(tmp_path / "x.tar.gz")))
    assert "no such file" in one_error_line(invoke(target, "restore", str(tmp_path / "missing.tar.gz")))


def test_restore_across_database_kinds_is_refused(source, new_instance):
    other = "sqlite" if source.manifest["database"]["dialect"] == "postgresql" else "postgresql"
    if other == "postgresql" and not PG_URL.startswith("postgresql"):
        pytest.skip("needs PostgreSQL")
    result = invoke(new_instance(other), "restore", str(source.archive))
    assert "restoring across databases is not supported" in one_error_line(result)


def test_backup_refuses_to_overwrite_unless_forced(source, tmp_path):
    output = tmp_path / "again.tar.gz"
    output.write_bytes(b"an older backup")
    assert "already exists; use --force" in one_error_line(invoke(source.instance, "backup", "-o", str(output)))
    assert output.read_bytes() == b"an older backup"
    assert invoke(source.instance, "backup", "-o", str(output), "--force").exit_code == 0
    with tarfile.open(output) as tar:
        assert json.load(tar.extractfile("manifest.json"))["tables"] == source.manifest["tables"]


@pytest.mark.parametrize("where", ["missing-folder", "upload-folder"])
def test_backup_to_an_unusable_path_is_one_error_line(source, where):
    folder = {"missing-folder": source.instance.folder / "no", "upload-folder": source.instance.upload}[where]
    output = folder / "b.tar.gz"
    assert "cannot write" in one_error_line(invoke(source.instance, "backup", "-o", str(output)))
    assert not output.exists()


def test_backup_without_pg_dump_is_one_error_line(source, tmp_path, monkeypatch):
    if source.manifest["database"]["dialect"] != "postgresql":
        pytest.skip("pg_dump is for PostgreSQL")
    monkeypatch.setenv("TRACKER_PG_DUMP", "/nonexistent/pg_dump")
    result = invoke(source.instance, "backup", "-o", str(tmp_path / "b.tar.gz"))
    assert "pg_dump not found" in one_error_line(result)
    assert list(tmp_path.iterdir()) == []


# -- check ------------------------------------------------------------------------------------------


@pytest.fixture
def stored(app, peru, monkeypatch, tmp_path, session):
    """Two evidence files and one final-report file, in a private upload folder."""
    monkeypatch.setitem(app.config, "UPLOAD_FOLDER", tmp_path)
    seed_peru_demo(session)
    entry = session.scalars(sa.select(Entry).order_by(Entry.id)).first()
    files = [(PDF, "application/pdf", "a.pdf"), (PDF + b"2", "application/pdf", "b.pdf")]
    evidence = uploads.store_evidence(session, None, entry, files)
    storage.store().path(reports.final_key("final.pdf")).write_bytes(PDF)
    plan = session.scalars(sa.select(pm.Plan).filter_by(code="PE-2021")).one()
    session.add(FinalReport(plan_id=plan.id, year=2023, version=1, language="es", format="pdf",
                            stored_name="final.pdf", size=len(PDF), sha256=hashlib.sha256(PDF).hexdigest()))
    session.commit()
    return [storage.store().path(uploads.evidence_key(e)) for e in evidence]


def test_check_is_clean_when_files_and_rows_agree(app, stored):
    result = app.test_cli_runner().invoke(args=["check"])
    assert result.exit_code == 0, result.output
    assert "Checked 3 files: everything agrees." in result.output


def test_check_finds_orphans_missing_and_changed_files_and_fix_removes_only_orphans(app, stored, tmp_path, session):
    orphans = [tmp_path / "orphan", tmp_path / "reports" / "orphan.pdf"]
    for path in orphans:
        path.write_bytes(b"left behind")
        os.utime(path, (time.time() - 7200, time.time() - 7200))  # left two hours ago
    stored[0].unlink()
    stored[1].write_bytes(PDF + b"XX")
    (tmp_path / "reports" / "final.pdf").write_bytes(b"x" * len(PDF))  # same size, other bytes
    runner = app.test_cli_runner()
    result = runner.invoke(args=["check"])
    assert result.exit_code == 1
    assert all(f"Orphan file (no row): {path}" in result.output for path in orphans)
    assert "(a.pdf): file missing" in result.output
    assert "(b.pdf)" in result.output and "bytes, the row records" in result.output
    assert "final report" in result.output and "does not match its recorded sha256" in result.output
    fixed = runner.invoke(args=["check", "--fix"])
    assert all(f"Removed orphan file {path}" in fixed.output for path in orphans)
    assert not any(path.exists() for path in orphans)
    assert fixed.exit_code == 1  # the missing and changed files remain: rows are never removed
    assert session.scalar(sa.select(sa.func.count()).select_from(Evidence)) == 2


def test_check_leaves_alone_a_file_a_running_save_may_still_commit(app, stored, tmp_path):
    waiting = [tmp_path / ".partial-abc123", tmp_path / "def456"]
    for path in waiting:
        path.write_bytes(b"being saved")
    result = app.test_cli_runner().invoke(args=["check", "--fix"])
    assert result.exit_code == 0, result.output
    assert all(path.exists() for path in waiting)


def test_a_restore_over_newer_final_versions_warns_and_records_the_high_water_mark(source, new_instance):
    """Final version numbers are published: the restore keeps the highest it saw in the audit log (see ops/restore.py)."""
    target = new_instance(source.manifest["database"]["dialect"])
    assert invoke(target, "restore", str(source.archive)).exit_code == 0
    with app_of(target):
        plan_id = db.session.scalar(sa.select(pm.Plan.id).filter_by(code="PE-2021"))
        db.session.add(FinalReport(plan_id=plan_id, year=2023, version=2, language="es", format="pdf",
                                   stored_name="v2.pdf", size=1, sha256="0" * 64))
        db.session.commit()
    result = invoke(target, "restore", "--force", str(source.archive))
    assert result.exit_code == 0, result.output
    assert "Warning: PE-2021 2023 had final report version 2 before this restore" in result.stderr
    with app_of(target):
        details = db.session.scalars(sa.select(AuditEvent.details).filter_by(action="backup.restored")).all()
        plan = db.session.scalars(sa.select(pm.Plan).filter_by(code="PE-2021")).one()
        next_version = reports.next_final_version(db.session, plan, 2023)
        db.session.rollback()
    assert json.loads(details[-1])["final_report_versions"] == {"PE-2021/2023": 2}
    assert next_version == 3, "version 2 was published before the restore: it is never given again"
