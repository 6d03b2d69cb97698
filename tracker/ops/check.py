"""`tracker check`: do the stored files and the rows that describe them agree?

Evidence rows (soft-removed ones too: their file stays on disk by design) name a file at the top of
the upload folder, final-report rows one in its reports/ subfolder; both record size and sha256.
Only those two folders are searched for orphans: files in other subfolders belong to no row kind
known here and are left alone.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path

from sqlalchemy.orm import Session

from tracker.ops.files import file_digest, named_files, reports_subfolder
from tracker.storage import partial_path, publish


@dataclass
class Expected:
    """A file a row says exists."""

    label: str
    path: Path
    size: int
    sha256: str


@dataclass
class CheckReport:
    checked: int = 0
    orphans: list[Path] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    # (partial, place): a complete file whose commit happened but whose move into place did not (a crash).
    unpublished: list[tuple[Path, Path]] = field(default_factory=list)

    @property
    def clean(self) -> bool:
        return not self.orphans and not self.problems and not self.unpublished


def check_files(session: Session, upload: Path) -> CheckReport:
    """Compare every Evidence and FinalReport row with its file, and list files no row names."""
    # Files are listed before the rows are read, and recent ones are left out: a save running meanwhile
    # has a file (partial, or just moved into place) whose row this check may not see yet.
    candidates = [path for path in [*top_files(upload), *top_files(reports_subfolder(upload))] if not is_recent(path)]
    expected = [Expected(n.label, upload / n.key, n.size, n.sha256) for n in named_files(session)]
    report = CheckReport(checked=len(expected))
    report.unpublished = [(partial_path(item.path), item.path) for item in expected if is_unpublished(item)]
    waiting = {place for _, place in report.unpublished}
    report.problems = [problem for item in expected if item.path not in waiting and (problem := file_problem(item))]
    named = {item.path for item in expected} | {partial for partial, _ in report.unpublished}
    report.orphans = sorted(path for path in candidates if path not in named)
    return report


def file_problem(item: Expected) -> str | None:
    """What is wrong with one row's file, or None."""
    if not item.path.is_file():
        return f"{item.label}: file missing: {item.path}"
    sha256, size = file_digest(item.path)
    if size != item.size:
        return f"{item.label}: {item.path} has {size} bytes, the row records {item.size}"
    if sha256 != item.sha256:
        return f"{item.label}: {item.path} does not match its recorded sha256"
    return None


def is_unpublished(item: Expected) -> bool:
    """The row's file is missing but its complete partial copy is there (see tracker/storage.py)."""
    partial = partial_path(item.path)
    return not item.path.exists() and partial.is_file() and file_digest(partial) == (item.sha256, item.size)


RECENT = timedelta(hours=1)


def is_recent(path: Path) -> bool:
    """Written within the last hour: possibly the file of a save that has not committed yet."""
    try:
        return datetime.now(timezone.utc) - datetime.fromtimestamp(path.stat().st_mtime, timezone.utc) < RECENT
    except FileNotFoundError:
        return True


def top_files(folder: Path) -> list[Path]:
    """Regular files directly in `folder` (symbolic links are never stored files)."""
    return [p for p in folder.iterdir() if p.is_file() and not p.is_symlink()] if folder.is_dir() else []


def publish_unpublished(report: CheckReport) -> list[Path]:
    """Move the complete partial files of committed rows into place; return the places filled."""
    filled = []
    for partial, place in report.unpublished:
        publish(partial, place)
        filled.append(place)
    report.unpublished = []
    return filled


def remove_orphans(report: CheckReport) -> list[Path]:
    """Delete the orphan files of `report` (never a row); return those removed."""
    removed = []
    for path in report.orphans:
        path.unlink(missing_ok=True)
        removed.append(path)
    report.orphans = []
    return removed
