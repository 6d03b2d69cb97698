"""Benchmark: a 5,000-row Excel import and its template, as one reporter's request would run them.

    .venv/bin/python bench/bulk_import.py [--rows 5000] [--database-url URL]

Builds a synthetic plan whose institution INST-01 is responsible for about ROWS items, then times the
three requests of the bulk import: the template download, the upload (parse and preview) and the
confirmation (save every row as a draft). Each must stay well under gunicorn's worker timeout (60 s in
deploy/gunicorn.conf.py); the README's margin is 10 s each on a quiet 2-core host.
"""

from __future__ import annotations

import argparse
import io
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def main() -> None:
    parser = arguments(__doc__)
    parser.add_argument("--rows", type=int, default=5000)
    args = parser.parse_args()
    app = migrated_app(args.database_url)
    with app.test_request_context():
        run(app, args.rows)


def arguments(doc: str) -> argparse.ArgumentParser:
    """A benchmark's command line: its first docstring line, and the database to run on."""
    parser = argparse.ArgumentParser(description=doc.splitlines()[0])
    parser.add_argument("--database-url", default=None, help="default: a SQLite file in a temporary folder")
    return parser


def migrated_app(database_url: str | None):
    """The app on a fresh database (a SQLite file in a temporary folder unless a URL is given), migrated; the
    environment is set before the app is imported, as in production."""
    folder = Path(tempfile.mkdtemp(prefix="nap-bench-"))
    os.environ.setdefault("TRACKER_INSTANCE_PATH", str(folder))
    os.environ["TRACKER_DATABASE_URL"] = database_url or f"sqlite:///{folder / 'bench.sqlite3'}"

    from config import DevelopmentConfig
    from tracker import create_app, migrate

    app = create_app(DevelopmentConfig)
    with app.app_context():
        migrate.upgrade("head")
    return app


def run(app, rows: int) -> None:
    import openpyxl
    import sqlalchemy as sa

    from tracker.auth.models import Role, User
    from tracker.db import db
    from tracker.demo import Size, generate
    from tracker.plan import models as pm
    from tracker.progress import bulk
    from tracker.progress.models import Entry, EntryVersion, ReportingCycle

    # One institution, 4 pillars: actions and their indicators are all INST-01's.
    per_pillar = max(1, rows // (4 * 3))
    generate(db.session, Size(plans=1, institutions=1, actions_per_pillar=per_pillar, indicators_per_action=2, years=1))
    db.session.commit()
    institution = db.session.scalars(sa.select(pm.Institution).filter_by(code="INST-01")).one()
    cycle = db.session.scalars(sa.select(ReportingCycle).order_by(ReportingCycle.id.desc())).first()
    # The open year starts empty, as at the beginning of a reporting cycle: every row is open to fill.
    ids = sa.select(Entry.id).where(Entry.cycle_id == cycle.id)
    db.session.execute(sa.delete(EntryVersion).where(EntryVersion.entry_id.in_(ids)))
    db.session.execute(sa.delete(Entry).where(Entry.cycle_id == cycle.id))
    user = User(email="bench@example.org", name="Bench", role=Role.reporter, institution_id=institution.id,
                password_hash="-", session_token="-", must_change_password=False)
    db.session.add(user)
    db.session.commit()

    template = timed("template", lambda: bulk.build_template(db.session, cycle, institution))
    filled = fill(openpyxl, template)
    preview = timed("upload (parse and preview)", lambda: bulk.parse_upload(db.session, cycle, institution, filled))
    print(f"  {len(preview.good)} good rows, {len(preview.bad)} rows with errors", *[r.error for r in preview.bad[:3]])
    count = timed("confirm (save the rows)", lambda: commit(db, bulk.import_rows(db.session, user, cycle, institution, preview)))
    print(f"  {count} rows saved")


def fill(openpyxl, template: bytes) -> bytes:
    """Fill every open cell the way a reporter would: numbers for indicators, a status for actions."""
    book = openpyxl.load_workbook(io.BytesIO(template))
    for sheet in book.worksheets[1:3]:
        header = [c.value for c in sheet[1]]
        for row in sheet.iter_rows(min_row=2):
            for title, cell in zip(header, row):
                if cell.protection.locked:
                    continue
                cell.value = value_for(str(title))
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def value_for(title: str):
    lowered = title.lower()
    if "estado" in lowered or "status" in lowered:
        return "En proceso"
    if "mujeres" in lowered or "women" in lowered:
        return 3
    if "hombres" in lowered or "men" in lowered:
        return 4
    if "¿" in title or "achieved" in lowered:
        return "Sí"
    if "valor" in lowered or "value" in lowered or "numerador" in lowered or "denominador" in lowered:
        return 5
    return "Texto de prueba"


def commit(db, count: int) -> int:
    db.session.commit()
    return count


def timed(name: str, step):
    start = time.perf_counter()
    result = step()
    print(f"{name}: {time.perf_counter() - start:.2f} s")
    return result


if __name__ == "__main__":
    main()
