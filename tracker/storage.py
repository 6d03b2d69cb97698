"""Stored files (evidence, final reports) appear only once the rows that name them are committed.

A file is written in full and fsynced under a partial name next to its place before the commit, so a
full disk fails the request instead of leaving a row without its file; the commit moves it into place
(an atomic rename), a rollback removes it. A crash between the two leaves a partial file that
`tracker check` reports and `tracker check --fix` completes or removes.
"""

from __future__ import annotations

import os
from pathlib import Path

from sqlalchemy.orm import Session

from tracker.db import call_after_commit

PARTIAL_PREFIX = ".partial-"


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
