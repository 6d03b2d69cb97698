"""Reference data every plan is compared with: the UN Uniformed Gender Parity Strategy's yearly targets.

Admins keep them (`/admin/parity`); `tracker seed` copies in the years the reference file holds from a source,
without overwriting what an admin entered. A year nobody entered has no row and reads "no target".
"""

from __future__ import annotations

from decimal import Decimal

import sqlalchemy as sa
import yaml
from sqlalchemy.orm import Session

from tracker.db import utcnow
from tracker.plan.loader import SEED_DIR
from tracker.plan.models import UnParityTarget
from tracker.status import ParityTarget

PARITY_FILE = SEED_DIR / "reference" / "un-gender-parity.yaml"
STRATEGY_YEARS = range(2018, 2029)
SEEDED_BY = "reference file"


def parity_targets(session: Session) -> tuple[ParityTarget, ...]:
    """The years with both UN targets (women's share of military contingents, and of observers and staff officers)."""
    rows = session.scalars(sa.select(UnParityTarget).order_by(UnParityTarget.year))
    return tuple(
        ParityTarget(year=r.year, contingents=r.contingents, observers_staff=r.observers_staff, source=r.source)
        for r in rows
        if r.contingents is not None and r.observers_staff is not None
    )


def parity_rows(session: Session) -> dict[int, UnParityTarget | None]:
    """Every year of the strategy with its row, or None where no target was entered."""
    rows = {r.year: r for r in session.scalars(sa.select(UnParityTarget))}
    return {year: rows.get(year) for year in STRATEGY_YEARS}


def seed_parity(session: Session) -> int:
    """Add the reference file's years that are not stored yet; return how many were added."""
    data = yaml.safe_load(PARITY_FILE.read_text(encoding="utf-8"))
    stored = set(session.scalars(sa.select(UnParityTarget.year)))
    added = 0
    for row in data["targets"]:
        if int(row["year"]) in stored:
            continue
        session.add(UnParityTarget(year=int(row["year"]), contingents=Decimal(str(row["contingents"])),
                                   observers_staff=Decimal(str(row["observers_staff"])), source=data["source"],
                                   changed_by=SEEDED_BY))
        added += 1
    session.flush()
    return added


def set_parity(session: Session, year: int, contingents: Decimal | None, observers_staff: Decimal | None,
               source: str, actor) -> UnParityTarget | None:
    """An admin sets (or, with both shares empty, removes) a year's targets; the audit log keeps old -> new."""
    from tracker import audit

    row = session.get(UnParityTarget, year)
    old = (_share(row.contingents), _share(row.observers_staff), row.source) if row else None
    new = (_share(contingents), _share(observers_staff), source) if (contingents, observers_staff) != (None, None) else None
    if old == new:
        return row
    if new is None:
        session.delete(row)
        row = None
    else:
        row = row or UnParityTarget(year=year)
        row.contingents, row.observers_staff, row.source = contingents, observers_staff, source
        row.changed_by, row.changed_at = actor.email, utcnow()
        session.add(row)
    audit.record(session, "parity.changed", actor=actor, year=year, old=old and list(old), new=new and list(new))
    session.flush()
    return row


def _share(value: Decimal | None) -> str | None:
    return None if value is None else format(value.normalize(), "f")
