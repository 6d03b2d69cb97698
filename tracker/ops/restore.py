"""`tracker restore`: put a backup archive back into an empty instance (or replace one with --force).

Order, so that a bad archive changes nothing: every member is read into a staging folder beside the
upload folder and checked against the manifest (sha256 and size); then the target is checked
(same database kind, a revision this code knows, empty unless --force); only then is the database
loaded (in one step: SQLite backup API, or psql in one transaction), its row counts compared with the
manifest, the files moved into place, and the migrations applied when the backup is older than the
code. A restore is recorded in the audit log with the final-report version numbers it knows of.
"""

from __future__ import annotations

import gzip
import json
import os
import shutil
import tarfile
import tempfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

import sqlalchemy as sa
from alembic.script import ScriptDirectory
from alembic.util import CommandError
from sqlalchemy.orm import Session

from tracker import audit, migrate
from tracker.ops import OpsError, database
from tracker.ops.backup import FILES_PREFIX, FORMAT, FORMAT_VERSION, MANIFEST
from tracker.ops.files import copy_hashing, empty_folder, stored_files

ARCHIVE_ERRORS = (tarfile.TarError, EOFError, zlib.error, gzip.BadGzipFile)
REQUIRED_FIELDS = {"created_at": str, "database": dict, "tables": dict, "files": list, "totals": dict,
                   "final_report_versions": list}


@dataclass
class RestoreResult:
    """What was restored, for the command's summary."""

    manifest: dict
    tables: int
    rows: int
    files: int
    bytes: int
    replaced: bool
    migrated: tuple[str | None, str] | None = None
    # Final-report versions the replaced instance had beyond the backup's: their numbers can come back.
    versions_lost: list[dict] = field(default_factory=list)


def restore_backup(engine: sa.Engine, upload: Path, archive: Path, force: bool = False) -> RestoreResult:
    """Verify `archive`, then restore its database and files into this instance; see the module docstring."""
    if not archive.is_file():
        raise OpsError(f"{archive}: no such file")
    upload.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{upload.name}.restore-", dir=upload.parent))
    try:
        manifest = read_archive(archive, staging)
        before = check_target(engine, upload, manifest, force)
        database.load(engine, staging / manifest["database"]["path"])
        compare_counts(engine, manifest)
        restore_files(staging, upload, manifest)
        migrated = migrate_to_head()
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    totals = manifest["totals"]
    return RestoreResult(manifest, len(manifest["tables"]), totals["rows"], totals["files"], totals["bytes"],
                         replaced=bool(database.data_tables(before)), migrated=migrated,
                         versions_lost=versions_beyond(before.final_versions, manifest["final_report_versions"]))


# -- reading and verifying ---------------------------------------------------------------------


def read_archive(archive: Path, staging: Path) -> dict:
    """Extract every member into `staging`, check it against the manifest and return the manifest."""
    found: dict[str, tuple[str, int]] = {}
    name = None
    try:
        with tarfile.open(archive, "r:gz") as tar:
            for member in tar:
                name = member_name(archive, member, found)
                found[name] = extract(tar, member, staging / name)
    except ARCHIVE_ERRORS as exc:
        where = f" (reading {name})" if name else ""
        raise OpsError(f"{archive} is not a readable backup archive{where}: {exc}") from None
    manifest = load_manifest(archive, staging)
    verify(archive, manifest, found)
    return manifest


def member_name(archive: Path, member: tarfile.TarInfo, found: dict) -> str:
    """The member's name once it is known safe: a regular file under database/ or files/, or the manifest."""
    path = PurePosixPath(member.name)
    safe = (member.isfile() and not path.is_absolute() and not {"..", "."} & set(path.parts)
            and (member.name == MANIFEST or path.parts[0] in ("database", "files")))
    if not safe:
        raise OpsError(f"{archive}: unexpected member {member.name!r}; this is not a NAP Tracker backup")
    if member.name in found:
        raise OpsError(f"{archive}: {member.name} appears twice")
    return member.name


def extract(tar: tarfile.TarFile, member: tarfile.TarInfo, target: Path) -> tuple[str, int]:
    """Copy one member to `target`; return its (sha256, size)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    source = tar.extractfile(member)
    with source, target.open("wb") as out:
        digest = copy_hashing(source, out)
    os.utime(target, (member.mtime, member.mtime))
    return digest


def load_manifest(archive: Path, staging: Path) -> dict:
    try:
        manifest = json.loads((staging / MANIFEST).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise OpsError(f"{archive}: no {MANIFEST}; this is not a NAP Tracker backup") from None
    except ValueError as exc:
        raise OpsError(f"{archive}: {MANIFEST} is corrupted ({exc})") from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise OpsError(f"{archive}: {MANIFEST} is not a NAP Tracker backup manifest")
    if manifest.get("format_version") != FORMAT_VERSION:
        raise OpsError(f"{archive}: backup format {manifest.get('format_version')} is not supported "
                       f"(this code reads {FORMAT_VERSION})")
    return manifest


def verify(archive: Path, manifest: dict, found: dict[str, tuple[str, int]]) -> None:
    """Every listed member present with its sha256 and size; nothing unlisted."""
    try:
        expected = {entry["path"]: (entry["sha256"], entry["size"]) for entry in [manifest["database"], *manifest["files"]]}
        complete = all(isinstance(manifest.get(key), kind) for key, kind in REQUIRED_FIELDS.items())
    except (KeyError, TypeError):
        complete = False
    if not complete:
        raise OpsError(f"{archive}: {MANIFEST} lacks some of its fields; it is not a valid manifest")
    for name, digest in expected.items():
        if name not in found:
            raise OpsError(f"{archive}: {name} is listed in the manifest but missing from the archive")
        if found[name] != digest:
            raise OpsError(f"{archive}: {name} is corrupted (its sha256 or size differs from the manifest)")
    unlisted = sorted(set(found) - set(expected) - {MANIFEST})
    if unlisted:
        raise OpsError(f"{archive}: {unlisted[0]} is not listed in the manifest")


# -- the target --------------------------------------------------------------------------------


def check_target(engine: sa.Engine, upload: Path, manifest: dict, force: bool) -> database.Snapshot:
    """Refuse a target of another database kind, an unknown revision, or data without `force`; return it as it is."""
    dialect, theirs = database.supported(engine), manifest["database"]["dialect"]
    if theirs != dialect:
        raise OpsError(f"the backup holds a {theirs} database and this instance uses {dialect}; "
                       f"restoring across databases is not supported: restore into a {theirs} instance")
    if manifest["database"]["path"] != database.DUMP_NAMES[dialect]:
        raise OpsError(f"{MANIFEST} names the dump {manifest['database']['path']}, expected {database.DUMP_NAMES[dialect]}")
    check_revision(manifest["alembic_revision"])
    if dialect == "postgresql":
        database.tool_path("psql")
    before = database.current(engine)
    rows, files = database.data_tables(before), sum(1 for _ in stored_files(upload))
    if (rows or files) and not force:
        raise OpsError(f"this instance is not empty ({len(rows)} tables with rows, {files} stored files); "
                       "restore into an empty instance, or use --force to replace its data")
    return before


def check_revision(revision: str | None) -> None:
    """The backup's schema must be one this code's migrations know, so that they can bring it to head."""
    if revision is None:
        return
    try:
        ScriptDirectory.from_config(migrate.alembic_config()).get_revision(revision)
    except CommandError:
        raise OpsError(f"the backup is at revision {revision}, which this version of NAP Tracker does not know; "
                       "restore it with the version that made it (or a newer one)") from None


def compare_counts(engine: sa.Engine, manifest: dict) -> None:
    """The restored database has exactly the manifest's tables and rows."""
    restored = database.current(engine).tables
    for name in sorted(set(restored) | set(manifest["tables"])):
        if restored.get(name) != manifest["tables"].get(name):
            raise OpsError(f"the restored database differs from the manifest: table {name} has "
                           f"{restored.get(name, 'no')} rows, the manifest says {manifest['tables'].get(name, 'none')}")


def restore_files(staging: Path, upload: Path, manifest: dict) -> None:
    """Replace whatever the upload folder holds with the archive's files (already verified)."""
    upload.mkdir(parents=True, exist_ok=True)
    empty_folder(upload)
    for entry in manifest["files"]:
        target = upload / entry["path"][len(FILES_PREFIX):]
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.move(staging / entry["path"], target)


def migrate_to_head() -> tuple[str | None, str] | None:
    """Apply the migrations when the backup is older than the code; return (from, to) when it did."""
    revision, heads = migrate.current(), migrate.heads()
    if revision in heads:
        return None
    migrate.upgrade("head")
    return revision, migrate.current()


# -- final-report version numbers -----------------------------------------------------------------


def versions_beyond(replaced: list[dict], backup: list[dict]) -> list[dict]:
    """The replaced instance's last final versions that are higher than the backup's (numbers that were in use)."""
    known = {(v["plan"], v["year"]): v["version"] for v in backup}
    return [v for v in replaced if v["version"] > known.get((v["plan"], v["year"]), 0)]


def version_marks(result: RestoreResult) -> dict[tuple[str, int], int]:
    """(plan code, year) -> the highest final version ever seen, in the backup or in the replaced instance."""
    marks: dict[tuple[str, int], int] = {}
    for v in [*result.manifest["final_report_versions"], *result.versions_lost]:
        key = (v["plan"], int(v["year"]))
        marks[key] = max(marks.get(key, 0), v["version"])
    return marks


def record_restore(session: Session, archive: Path, result: RestoreResult) -> None:
    """Keep the final-report numbers already given (the backup's and the replaced instance's) from being
    given again, and write the restore in the audit log with them."""
    from tracker.reports.services import raise_final_marks

    manifest, marks = result.manifest, version_marks(result)
    raise_final_marks(session, marks)
    audit.record(session, "backup.restored", actor_email="cli", archive=str(archive), created_at=manifest["created_at"],
                 revision=manifest["alembic_revision"], rows=result.rows, files=result.files,
                 final_report_versions={f"{plan}/{year}": version for (plan, year), version in marks.items()})
