"""Stored files: where they live, how they are hashed and copied."""

from __future__ import annotations

import hashlib
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.orm import Session

CHUNK = 1024 * 1024


def upload_folder() -> Path:
    """The folder holding every stored file: evidence at its top, final reports in reports/."""
    return Path(current_app.config["UPLOAD_FOLDER"])


def reports_subfolder(upload: Path) -> Path:
    """Where finalize() writes final reports (the folder store of tracker.storage, key reports/...)."""
    return upload / "reports"


def stored_files(folder: Path) -> Iterator[Path]:
    """Every regular file under `folder`, sorted; symbolic links are not stored files and are skipped."""
    if not folder.is_dir():
        return
    for path in sorted(folder.rglob("*")):
        if path.is_file() and not path.is_symlink():
            yield path


def file_digest(path: Path) -> tuple[str, int]:
    """(sha256 hex, size in bytes) of a file, read in chunks."""
    with path.open("rb") as stream:
        return copy_hashing(stream, None)


def copy_hashing(source: BinaryIO, target: BinaryIO | None, limit: int | None = None) -> tuple[str, int]:
    """Copy `source` to `target` (None: only read), at most `limit` bytes; return (sha256 hex, bytes copied)."""
    digest, size = hashlib.sha256(), 0
    while limit is None or size < limit:
        chunk = source.read(CHUNK if limit is None else min(CHUNK, limit - size))
        if not chunk:
            break
        digest.update(chunk)
        size += len(chunk)
        if target is not None:
            target.write(chunk)
    return digest.hexdigest(), size


class HashingReader:
    """A file wrapper that hashes what tarfile reads, so each file is read once while it is archived."""

    def __init__(self, stream: BinaryIO) -> None:
        self.stream, self.digest, self.size = stream, hashlib.sha256(), 0

    def read(self, size: int = -1) -> bytes:
        data = self.stream.read(size)
        self.digest.update(data)
        self.size += len(data)
        return data


def empty_folder(folder: Path) -> None:
    """Remove what `folder` holds, not the folder itself (it may be a mount point)."""
    for child in folder.iterdir() if folder.is_dir() else ():
        if child.is_dir() and not child.is_symlink():
            shutil.rmtree(child)
        else:
            child.unlink()


def human_size(size: int) -> str:
    """1536 -> '1.5 KiB'."""
    if size < 1024:
        return f"{size} bytes"
    value, units = size / 1024, ["KiB", "MiB", "GiB", "TiB"]
    while value >= 1024 and len(units) > 1:
        value, units = value / 1024, units[1:]
    return f"{value:.1f} {units[0]}"


@dataclass(frozen=True)
class Named:
    """A stored file a row names: its key, what the row records, and how to call it in a message."""

    key: str
    size: int
    sha256: str
    label: str


def named_files(session: Session) -> list[Named]:
    """Every file a row names: evidence (soft-removed too: its file is kept) and final reports."""
    from tracker.plan.models import Plan
    from tracker.progress.models import Evidence
    from tracker.reports.models import FinalReport
    from tracker.reports.services import final_key

    evidence = session.execute(sa.select(Evidence.id, Evidence.original_name, Evidence.stored_name, Evidence.size,
                                         Evidence.sha256).order_by(Evidence.id))
    finals = session.execute(sa.select(FinalReport.id, Plan.code, FinalReport.year, FinalReport.version,
                                       FinalReport.language, FinalReport.format, FinalReport.stored_name,
                                       FinalReport.size, FinalReport.sha256)
                             .join(Plan, Plan.id == FinalReport.plan_id).order_by(FinalReport.id))
    return ([Named(stored, size, sha, f"evidence {id_} ({name})") for id_, name, stored, size, sha in evidence]
            + [Named(final_key(stored), size, sha, f"final report {id_} ({plan} {year} v{version} {language} {fmt})")
               for id_, plan, year, version, language, fmt, stored, size, sha in finals])
