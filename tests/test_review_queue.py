"""The review queue: true totals, pages, and bulk decisions on everything that matches (issue 13)."""

from __future__ import annotations

import html
import json
import re
from datetime import date, datetime, timezone

import pytest
import sqlalchemy as sa

from conftest import count_queries
from tracker.auth.models import Role
from tracker.db import db
from tracker.plan import models as pm
from tracker.progress.models import CycleState, Entry, EntryKind, EntryState, EntryVersion, ReportingCycle


def submitted_entries(app, years: range) -> int:
    """One submitted IND-PAR-2 entry per institution and year: years × 11 entries."""
    with app.app_context():
        plan = db.session.scalars(sa.select(pm.Plan).filter_by(code="PE-2021")).one()
        indicator = db.session.scalars(sa.select(pm.Indicator).filter_by(plan_id=plan.id, code="IND-PAR-2")).one()
        institutions = db.session.scalars(sa.select(pm.Institution.id).filter_by(country_id=plan.country_id)).all()
        made = 0
        for year in years:
            cycle = ReportingCycle(plan_id=plan.id, year=year, deadline=date(year + 1, 3, 31), state=CycleState.open)
            db.session.add(cycle)
            db.session.flush()
            for institution_id in institutions:
                entry = Entry(cycle_id=cycle.id, institution_id=institution_id, kind=EntryKind.indicator,
                              indicator_id=indicator.id, state=EntryState.submitted, version=1, women=1, men=1,
                              submitted_at=datetime(year + 1, 1, 5, tzinfo=timezone.utc))
                db.session.add(entry)
                db.session.flush()
                db.session.add(EntryVersion(entry_id=entry.id, number=1, event="submit", state=EntryState.submitted,
                                            data=json.dumps(entry.snapshot(), default=str)))
                made += 1
        db.session.commit()
        return made


def states(app) -> dict[str, int]:
    with app.app_context():
        rows = db.session.execute(sa.select(Entry.state, sa.func.count()).group_by(Entry.state)).all()
        return {state.value: n for state, n in rows}


@pytest.fixture
def committee(login_as):
    return login_as(Role.committee)


def text(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def test_the_queue_says_the_true_total_and_pages_through_it(app, committee):
    total = submitted_entries(app, range(2010, 2022))
    first = text(committee.get("/review"))
    assert f"Registros 1–50 de {total}" in first
    assert 'href="/review?page=2"' in first and 'href="/review?page=3"' in first
    last = text(committee.get("/review?page=3"))
    assert f"Registros 101–{total} de {total}" in last
    assert last.count('name="entry_ids"') == total - 100


def test_a_page_beyond_the_last_shows_the_last(app, committee):
    total = submitted_entries(app, range(2010, 2016))
    assert f"Registros 51–{total} de {total}" in text(committee.get("/review?page=99999"))


def test_the_pages_keep_the_filters(app, committee):
    submitted_entries(app, range(2010, 2022))
    page = text(committee.get("/review?state=submitted&institution="))
    assert 'href="/review?state=submitted&institution=&page=2"' in page


def test_a_page_costs_the_same_queries_whatever_the_queue(app, committee):
    submitted_entries(app, range(2010, 2011))
    with count_queries(db.engine) as small:
        committee.get("/review")
    submitted_entries(app, range(2011, 2025))
    with count_queries(db.engine) as large:
        committee.get("/review")
    assert len(large) == len(small)


def _fingerprint(committee, url: str = "/review") -> str:
    """What the page says "all that match" is: the hidden fingerprint a browser sends back."""
    return re.search(r'name="matching"[^>]*value="([0-9a-f]+)"', committee.get(url).get_data(as_text=True)).group(1)


def _decide_all(committee, matching: str, decision: str = "approve", note: str = "", url: str = "/review"):
    return committee.post_form(url, {"scope": "all", "matching": matching, "decision": decision, "note": note},
                               token_from=url)


def test_all_that_match_decides_every_page(app, committee):
    total = submitted_entries(app, range(2010, 2022))
    response = _decide_all(committee, _fingerprint(committee))
    assert response.status_code == 302
    assert states(app) == {"approved": total}
    assert f"Registros actualizados: {total}." in text(committee.get(response.headers["Location"]))


def test_all_that_match_respects_the_filters(app, committee):
    submitted_entries(app, range(2010, 2013))
    response = _decide_all(committee, _fingerprint(committee, "/review?year=2011"), url="/review?year=2011")
    assert response.status_code == 302
    assert states(app) == {"approved": 11, "submitted": 22}


def test_all_that_match_is_refused_when_an_entry_changed_since_the_page_was_drawn(app, committee):
    total = submitted_entries(app, range(2010, 2013))
    seen = _fingerprint(committee)
    with app.app_context():  # withdrawn, edited and sent again meanwhile: the same count, other content
        db.session.execute(sa.update(Entry).where(Entry.id == sa.select(sa.func.min(Entry.id)).scalar_subquery())
                           .values(version=Entry.version + 3, women=99))
        db.session.commit()
    response = _decide_all(committee, seen)
    assert response.status_code == 302
    assert states(app) == {"submitted": total}
    assert f"ahora coinciden {total} registros" in text(committee.get(response.headers["Location"]))


def test_returning_all_that_match_needs_a_note(app, committee):
    total = submitted_entries(app, range(2010, 2012))
    _decide_all(committee, _fingerprint(committee), decision="return")
    assert states(app) == {"submitted": total}
    _decide_all(committee, _fingerprint(committee), decision="return", note="Falta el sustento")
    assert states(app) == {"returned": total}
