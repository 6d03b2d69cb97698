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
from tracker.plan.models import Plan
from tracker.progress.models import Evidence
from tracker.reports.models import FinalReport
from tracker.reports.services import final_key
from tracker.storage import BACKENDS, Missing, store


@dataclass(frozen=True)
class Named:
    """A stored file a row names: its key, what the row records, and how to call it in a message."""

    key: str
    size: int
    sha256: str
    label: str


@dataclass
class MoveReport:
    moved: int = 0
    already: int = 0


def named_files(session: Session) -> list[Named]:
    """Every file a row names: evidence (soft-removed too: its file is kept) and final reports."""
    evidence = session.execute(sa.select(Evidence.id, Evidence.original_name, Evidence.stored_name, Evidence.size,
                                         Evidence.sha256).order_by(Evidence.id))
    finals = session.execute(sa.select(FinalReport.id, Plan.code, FinalReport.year, FinalReport.version,
                                       FinalReport.language, FinalReport.format, FinalReport.stored_name,
                                       FinalReport.size, FinalReport.sha256)
                             .join(Plan, Plan.id == FinalReport.plan_id).order_by(FinalReport.id))
    return ([Named(stored, size, sha, f"evidence {id_} ({name})") for id_, name, stored, size, sha in evidence]
            + [Named(final_key(stored), size, sha, f"final report {id_} ({plan} {year} v{version} {language} {fmt})")
               for id_, plan, year, version, language, fmt, stored, size, sha in finals])


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
