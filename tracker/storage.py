"""Stored files (evidence, final reports, pending imports), behind one interface with two backends.

- `folder` (the default): files under UPLOAD_FOLDER. A file is written in full and fsynced under a partial name
  next to its place before the commit, so a full disk fails the request instead of leaving a row without its
  file; the commit moves it into place (an atomic rename), a rollback removes it. A crash between the two leaves a
  partial file that `tracker check` reports and `tracker check --fix` completes or removes.
- `database` (TRACKER_STORAGE=database): files in the `stored_file` table, written in the same transaction as the
  rows that name them. Several app servers then share every file without a shared disk, and one database backup
  holds everything. `tracker storage migrate --to database` moves existing files, checking each checksum.

Keys are paths relative to UPLOAD_FOLDER, the same in both: `<evidence name>`, `reports/<name>`,
`imports/<token>`, `plan-imports/<token>`.
"""

from __future__ import annotations

import hashlib
import os
import time
from datetime import datetime, timedelta
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, Session, mapped_column

from tracker.db import Base, Timestamp, call_after_commit, db, utcnow

PARTIAL_PREFIX = ".partial-"
BACKENDS = ("folder", "database")


class StoredFile(Base):
    """A file kept in the database (TRACKER_STORAGE=database), under the key it has in the upload folder."""

    __tablename__ = "stored_file"

    key: Mapped[str] = mapped_column(sa.String(255), primary_key=True)
    data: Mapped[bytes] = mapped_column(sa.LargeBinary)
    size: Mapped[int]
    sha256: Mapped[str] = mapped_column(sa.String(64))
    stored_at: Mapped[Timestamp]

    __table_args__ = (sa.CheckConstraint("size = length(data)", "size_matches"),)


class Missing(FileNotFoundError):
    """A key with no file behind it."""


def partial_path(path: Path) -> Path:
    """Where `path` waits for its commit."""
    return path.with_name(PARTIAL_PREFIX + path.name)


def write_after_commit(session: Session, path: Path, data: bytes) -> Path:
    """Write `data` now under a partial name and publish it at `path` when `session` commits."""
    partial = partial_path(path)
    with open(partial, "xb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())
    call_after_commit(session, lambda: publish(partial, path), on_rollback=lambda: partial.unlink(missing_ok=True))
    return partial


def publish(partial: Path, path: Path) -> None:
    """Move a complete partial file into place, durably."""
    os.replace(partial, path)
    directory = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(directory)
    finally:
        os.close(directory)


class FolderStore:
    """Files under one folder (UPLOAD_FOLDER)."""

    name = "folder"

    def __init__(self, root: Path):
        self.root = Path(root)

    def path(self, key: str) -> Path:
        path = self.root / key
        path.parent.mkdir(parents=True, exist_ok=True)
        return path

    def save_after_commit(self, session: Session, key: str, data: bytes) -> None:
        """Store `data` under `key` once `session` commits (never if it rolls back)."""
        write_after_commit(session, self.path(key), data)

    def keep(self, key: str, data: bytes) -> None:
        """Store a file no row names (a pending import): at once (the database store: when the request commits)."""
        self.path(key).write_bytes(data)

    def read(self, key: str) -> bytes:
        try:
            return (self.root / key).read_bytes()
        except FileNotFoundError:
            raise Missing(key) from None

    def exists(self, key: str) -> bool:
        return (self.root / key).is_file()

    def forget(self, key: str) -> None:
        """Delete a file: at once (the database store: when the request commits)."""
        (self.root / key).unlink(missing_ok=True)

    def keys(self, prefix: str = "") -> list[str]:
        """The stored keys under `prefix` ("" for the top of the folder; partial files left out)."""
        folder = self.root / prefix
        if not folder.is_dir():
            return []
        return sorted(f"{prefix}{p.name}" for p in folder.iterdir() if p.is_file() and not p.name.startswith(PARTIAL_PREFIX))

    def sweep(self, prefix: str, older_than: timedelta) -> None:
        """Remove the files under `prefix` older than `older_than` (abandoned pending imports)."""
        limit = time.time() - older_than.total_seconds()
        for key in self.keys(prefix):
            path = self.root / key
            if path.stat().st_mtime < limit:
                path.unlink(missing_ok=True)


class DatabaseStore:
    """Files in the stored_file table, through the request's session (or a job's own): what it keeps or forgets takes
    effect when that session commits (tracker.db's one transaction per request), never on a rollback."""

    name = "database"

    def __init__(self, session: Session | None = None):
        self.session = session if session is not None else db.session

    def save_after_commit(self, session: Session, key: str, data: bytes) -> None:
        """Store `data` under `key` in the session's transaction: it is there exactly when the rows naming it are."""
        session.add(StoredFile(key=key, data=data, size=len(data), sha256=hashlib.sha256(data).hexdigest()))

    def keep(self, key: str, data: bytes) -> None:
        """Store a file no row names (a pending import), replacing one of the same key; the caller commits."""
        self.forget(key)
        self.session.add(StoredFile(key=key, data=data, size=len(data), sha256=hashlib.sha256(data).hexdigest()))
        self.session.flush()

    def read(self, key: str) -> bytes:
        data = self.session.scalar(sa.select(StoredFile.data).where(StoredFile.key == key))
        if data is None:
            raise Missing(key)
        return bytes(data)

    def exists(self, key: str) -> bool:
        return self.session.scalar(sa.select(sa.func.count()).select_from(StoredFile).where(StoredFile.key == key)) > 0

    def forget(self, key: str) -> None:
        """Delete a file; the caller commits."""
        self.session.execute(sa.delete(StoredFile).where(StoredFile.key == key))

    def keys(self, prefix: str = "") -> list[str]:
        query = sa.select(StoredFile.key).where(StoredFile.key.startswith(prefix, autoescape=True)).order_by(StoredFile.key)
        keys = self.session.scalars(query)
        return [key for key in keys if "/" not in key[len(prefix):]]

    def sweep(self, prefix: str, older_than: timedelta) -> None:
        limit: datetime = utcnow() - older_than
        self.session.execute(sa.delete(StoredFile).where(StoredFile.key.startswith(prefix, autoescape=True),
                                                       StoredFile.stored_at < limit))


def store(backend: str | None = None, session: Session | None = None) -> FolderStore | DatabaseStore:
    """The configured store (TRACKER_STORAGE), or the one named; the database store works in `session` (a job's
    own), else in the request's."""
    from flask import current_app

    name = backend or current_app.config.get("STORAGE", "folder")
    if name == "database":
        return DatabaseStore(session)
    return FolderStore(Path(current_app.config["UPLOAD_FOLDER"]))
