"""`tracker storage migrate --to database|folder`: move every stored file the rows name (evidence, final reports)
from one store to the other, checking each against the size and sha256 its row records.

All or nothing: every file is read and checked before the transaction commits; one missing or changed file stops
the move with its name, and nothing is written. The source keeps its files (remove them once `tracker check`
agrees under the new TRACKER_STORAGE). A file already in the target with the right checksum is left as it is, so
running the command again finishes an interrupted move.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.orm import Session

from tracker.ops import OpsError
from tracker.ops.files import Named, named_files
from tracker.storage import BACKENDS, Missing, store


@dataclass
class MoveReport:
    moved: int = 0
    already: int = 0


def migrate_files(session: Session, to: str) -> MoveReport:
    """Copy every named file into the `to` store, checked; the caller commits (and the files appear then)."""
    if to not in BACKENDS:
        raise OpsError(f"--to must be one of {', '.join(BACKENDS)}, not {to!r}")
    source, target = store("folder" if to == "database" else "database"), store(to)
    report = MoveReport()
    for item in named_files(session):
        if target.exists(item.key) and _problem(item, target.read(item.key)) is None:
            report.already += 1
            continue
        try:
            data = source.read(item.key)
        except Missing:
            raise OpsError(f"{item.label}: no file {item.key} in the {source.name} store; nothing was moved") from None
        problem = _problem(item, data)
        if problem:
            raise OpsError(f"{problem}; nothing was moved")
        target.save_after_commit(session, item.key, data)
        report.moved += 1
    return report


def _problem(item: Named, data: bytes) -> str | None:
    if len(data) != item.size:
        return f"{item.label}: {item.key} has {len(data)} bytes, the row records {item.size}"
    if hashlib.sha256(data).hexdigest() != item.sha256:
        return f"{item.label}: {item.key} does not match its recorded sha256"
    return None


def check_database_files(session: Session) -> tuple[int, list[str], list[str]]:
    """With TRACKER_STORAGE=database: (files checked, problems, orphan keys), every named file against its row."""
    from tracker.storage import StoredFile

    kept = {key: (size, sha) for key, size, sha in session.execute(sa.select(StoredFile.key, StoredFile.size, StoredFile.sha256))}
    named = named_files(session)
    problems = []
    for item in named:
        if item.key not in kept:
            problems.append(f"{item.label}: file missing: {item.key} (database store)")
        elif kept[item.key] != (item.size, item.sha256):
            problems.append(f"{item.label}: {item.key} does not match its recorded size and sha256 (database store)")
    pending = ("imports/", "plan-imports/")  # uploads waiting for their confirmation: no row names them yet
    orphans = sorted(set(kept) - {item.key for item in named} - {k for k in kept if k.startswith(pending)})
    return len(named), problems, orphans
