"""Benchmark: the indicator matrix of a large plan, downloaded, filled with a target per indicator, previewed and
applied, as the monitoring body's requests run them.

    .venv/bin/python bench/matrix_import.py [--indicators 2000] [--database-url URL]

Builds a synthetic plan of about INDICATORS indicators (the matrix's upper bound is 2,000 rows), then times the
template download, the preview (every row through tracker.plan.editing inside a savepoint that is rolled back)
and the apply (the same, committed). Each must stay well under gunicorn's worker timeout (60 s).
"""

from __future__ import annotations

import io
import sys
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bulk_import import arguments, migrated_app, timed  # noqa: E402  (shared with the bulk-import benchmark)


def main() -> None:
    parser = arguments(__doc__)
    parser.add_argument("--indicators", type=int, default=2000)
    args = parser.parse_args()
    with migrated_app(args.database_url).test_request_context():
        run(args.indicators)


def run(indicators: int) -> None:
    import openpyxl
    import sqlalchemy as sa

    from tracker.db import db
    from tracker.demo import Size, generate
    from tracker.plan import editing, matrix
    from tracker.plan import models as pm

    generate(db.session, Size(plans=1, institutions=4, actions_per_pillar=max(1, indicators // 8),
                              indicators_per_action=2, years=1))
    db.session.commit()
    plan = db.session.scalars(sa.select(pm.Plan).order_by(pm.Plan.id.desc())).first()
    template = timed("template", lambda: matrix.write_matrix(db.session, plan))
    filled = fill(openpyxl, template)
    editor = editing.Editor("bench@example.org", "Benchmark: targets for every indicator", pm.ChangeChannel.spreadsheet)

    def preview():
        sheet = matrix.read_matrix(filled)
        with db.session.begin_nested() as savepoint:
            results = matrix.apply_matrix(db.session, plan, sheet.rows, editor)
            savepoint.rollback()
        return results

    results = timed("preview (read, apply in a savepoint, roll back)", preview)
    print(f"  {len(results)} rows, {sum(r.status == matrix.REFUSED for r in results)} refused")

    def apply():
        results = matrix.apply_matrix(db.session, plan, matrix.read_matrix(filled).rows, editor)
        db.session.commit()
        return results

    results = timed("apply (and commit)", apply)
    print(f"  {sum(r.status == matrix.CHANGED for r in results)} indicators changed")


def fill(openpyxl, template: bytes) -> bytes:
    """Give every indicator a target in the first target column, as a committee would after a session."""
    book = openpyxl.load_workbook(io.BytesIO(template))
    sheet = book.worksheets[0]
    header = [str(c.value or "") for c in sheet[1]]
    column = next(i for i, title in enumerate(header) if title[-4:].isdigit())
    for n, row in enumerate(sheet.iter_rows(min_row=2), start=1):
        if row[0].value:
            row[column].value = Decimal(10 + n % 50)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


if __name__ == "__main__":
    main()
