"""`tracker backup`: the database and every stored file in one archive, with a manifest of checksums.

The archive is a gzipped tar: the standard library writes it as a stream, so each file is read
once, hashed as it goes in, and nothing is staged twice; `tar tzf` lists it on any server; gzip
shrinks the SQL dump. (A zip's random access would not help: a restore reads every member anyway,
to verify it before touching anything.)

Layout:
    database/tracker.sqlite3 | database/tracker.sql   the dump (see database.py)
    files/<path under UPLOAD_FOLDER>                   evidence at the top, files/reports/ final reports
    manifest.json                                      last, since it holds the checksums of the rest
"""

from __future__ import annotations

import io
import json
import os
import shutil
import tarfile
import tempfile
from pathlib import Path

import sqlalchemy as sa

from tracker.db import utcnow
from tracker.ops import OpsError, database
from tracker.ops.files import HashingReader, stored_files
from tracker.storage import PARTIAL_PREFIX

FORMAT = "nap-tracker-backup"
FORMAT_VERSION = 1
MANIFEST = "manifest.json"
FILES_PREFIX = "files/"


def create_backup(engine: sa.Engine, upload: Path, output: Path, force: bool = False) -> dict:
    """Write the archive to `output` and return its manifest.

    The database is dumped first, the files copied after: uploads write their file before the row is
    committed, so every row in the dump finds its file; a file added meanwhile is at worst an orphan.
    The archive is built beside `output` and renamed into place, so a failed backup leaves nothing.
    """
    check_output(output, upload, force)
    work = work_folder(output)
    try:
        snapshot = database.dump(engine, work / "dump")
        partial = work / "archive.tar.gz"
        manifest = write_archive(partial, work / "dump", snapshot, upload)
        os.replace(partial, output)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return manifest


def work_folder(output: Path) -> Path:
    """A private folder beside `output`: same file system, so the finished archive is renamed, not copied."""
    try:
        return Path(tempfile.mkdtemp(prefix=f".{output.name}.", dir=output.parent))
    except OSError as exc:
        raise OpsError(f"cannot write {output}: {exc.strerror}") from None


def check_output(output: Path, upload: Path, force: bool) -> None:
    """Refuse an output that exists (unless `force`), is a folder, cannot be written, or is inside the uploads."""
    folder = output.parent
    if output.is_dir():
        raise OpsError(f"{output} is a folder; give the path of the archive to write")
    if not folder.is_dir():
        raise OpsError(f"cannot write {output}: the folder {folder} does not exist")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise OpsError(f"cannot write {output}: the folder {folder} is not writable")
    if upload.resolve() in (folder.resolve(), *folder.resolve().parents):
        raise OpsError(f"cannot write {output}: it is inside the upload folder {upload}, which the backup copies")
    if output.exists() and not force:
        raise OpsError(f"{output} already exists; use --force to overwrite it")


def write_archive(path: Path, dump_path: Path, snapshot: database.Snapshot, upload: Path) -> dict:
    """Write dump, files and manifest to a new .tar.gz at `path`; return the manifest."""
    dump_name = database.DUMP_NAMES[snapshot.dialect]
    with tarfile.open(path, "w:gz") as tar:
        dump_entry = add_file(tar, dump_path, dump_name)
        files = [entry for file in stored_files(upload)
                 if (entry := add_stored_file(tar, file, FILES_PREFIX + file.relative_to(upload).as_posix()))]
        manifest = build_manifest(snapshot, dump_entry, files)
        add_bytes(tar, MANIFEST, json.dumps(manifest, indent=2, sort_keys=True).encode())
    return manifest


def add_stored_file(tar: tarfile.TarFile, path: Path, name: str) -> dict | None:
    """A stored file, or None: a file not committed yet (partial) belongs to no row of the dump, and a
    file may be gone between the listing and the copy (a partial moved into place, an orphan removed)."""
    if path.name.startswith(PARTIAL_PREFIX):
        return None
    try:
        return add_file(tar, path, name)
    except FileNotFoundError:
        return None


def add_file(tar: tarfile.TarFile, path: Path, name: str) -> dict:
    """Add one file under `name`; return its manifest entry (path, size, sha256) as archived."""
    info = tar.gettarinfo(str(path), arcname=name)
    info.uid = info.gid = 0
    info.uname = info.gname = ""
    with path.open("rb") as stream:
        reader = HashingReader(stream)
        tar.addfile(info, reader)
    return {"path": name, "size": info.size, "sha256": reader.digest.hexdigest()}


def add_bytes(tar: tarfile.TarFile, name: str, data: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size, info.mtime, info.mode = len(data), int(utcnow().timestamp()), 0o644
    tar.addfile(info, io.BytesIO(data))


def build_manifest(snapshot: database.Snapshot, dump_entry: dict, files: list[dict]) -> dict:
    """Everything a restore checks: format, revision, dialect, rows per table, checksums."""
    return {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "created_at": utcnow().isoformat(timespec="seconds"),
        "alembic_revision": snapshot.revision,
        "database": {"dialect": snapshot.dialect, "format": database.DUMP_FORMATS[snapshot.dialect], **dump_entry},
        "tables": snapshot.tables,
        "final_report_versions": snapshot.final_versions,
        "files": files,
        "totals": {"rows": sum(snapshot.tables.values()), "files": len(files), "bytes": sum(f["size"] for f in files)},
    }
