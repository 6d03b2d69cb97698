"""The entry page shows what a reviewer needs to judge an indicator entry (issue 16): the year's target and the
baseline, the institution's earlier approved years with their change, the other institutions' approved reports
for the year, the national figure, achievement and status with this entry counted, the women's share, and the
data-quality flags. The decision is one block: approve, or return with a note, side by side."""

from __future__ import annotations

import html
import re

import sqlalchemy as sa

from conftest import Client, YEAR_NOW as YEAR, count_queries, page_text, save_indicator_entry
from tracker.auth.models import Role, User
from tracker.db import db
from tracker.plan import editing
from tracker.plan import models as pm
from tracker.progress import services
from tracker.progress.models import Entry, ReportingCycle
from tracker.review import steps

EN = {"Accept-Language": "en"}



def test_the_review_page_shows_what_to_judge_the_entry_by(app, review_world):
    committee = Client(app.test_client())
    committee.login(review_world["committee"])
    page = page_text(committee.get(f"/entries/{review_world['entry']}", headers=EN))
    assert f"Target {YEAR} 200" in page
    assert "No baseline recorded" in page
    for year, figure, change in ((2022, "60", "—"), (2023, "70", "17%"), (2024, "80", "14%")):
        assert f"{year} {figure} {change}" in page
    assert "EP 20" in page  # the Army's approved report of the year
    assert "National figure with this entry 160 · achievement 80% · On track · women 28%" in page
    assert "The figure changed by +75% from the previous approved year (80 → 140)." in page
    assert "No evidence file, though the indicator names a means of verification." in page


def test_approve_and_return_are_one_decision_block(app, review_world):
    committee = Client(app.test_client())
    committee.login(review_world["committee"])
    raw = committee.get(f"/entries/{review_world['entry']}", headers=EN).get_data(as_text=True)
    block = raw[raw.index('class="row g-3 decision"'):]
    assert block.index("/approve") < block.index("/return") < block.index("Return with this note")


def test_a_returned_entry_leaves_no_empty_heading_for_its_reporter(app, review_world):
    with app.test_request_context():
        entry = db.session.get(Entry, review_world["entry"])
        committee = db.session.scalars(sa.select(User).filter_by(email=review_world["committee"])).one()
        steps.take_step(db.session, committee, entry, "return", "Adjunte las actas")
        db.session.commit()
    viewer = Client(app.test_client())
    viewer.login(review_world["committee"])
    page = viewer.get(f"/entries/{review_world['entry']}", headers=EN).get_data(as_text=True)
    assert 'id="h-actions"' not in page  # nothing the committee can do on a returned entry


def test_actions_and_budget_items_have_no_indicator_context(app, review_world):
    from tracker.progress.context import review_context

    with app.test_request_context():
        entry = db.session.scalars(sa.select(Entry).where(Entry.action_id.is_not(None))).first()
        assert review_context(db.session, entry) is None


def test_the_context_costs_the_same_queries_whatever_the_years(app, review_world):
    from tracker.progress.context import review_context

    with app.test_request_context():
        entry = db.session.get(Entry, review_world["entry"])
        entry.indicator, entry.cycle, entry.evidence  # loaded before counting
        with count_queries(db.engine) as statements:
            review_context(db.session, entry)
    assert len(statements) == 2


def test_the_review_queue_lists_each_entrys_flags(app, review_world):
    committee = Client(app.test_client())
    committee.login(review_world["committee"])
    raw = committee.get("/review", headers=EN).get_data(as_text=True)
    row = raw[raw.index(f'/entries/{review_world["entry"]}"'):]
    row = row[:row.index("</tr>")]
    assert 'data-check="value_jump"' in row and 'data-check="no_evidence"' in row
    assert "The figure changed by +75% from the previous approved year (80 → 140)." in html.unescape(row)


def test_the_queues_flags_cost_the_same_queries_whatever_the_entries(app, review_world, make_user):
    committee = Client(app.test_client())
    committee.login(review_world["committee"])
    with app.app_context():
        engine = db.engine
    with count_queries(engine) as few:
        committee.get("/review")
    _, air = make_user(Role.reporter, email="fap@example.org", institution="FAP")
    with app.test_request_context():
        save_indicator_entry(db.session, air, "IND-PAR-2", "FAP", 2, 3)
        save_indicator_entry(db.session, review_world["navy"], "IND-PAR-2", "MGP", 20, 60)
        db.session.commit()
    with count_queries(engine) as many:
        committee.get("/review")
    assert len(many) == len(few)


def test_the_queue_filters_the_entries_worth_a_second_look(app, review_world, make_user, monkeypatch, tmp_path):
    """The Air Force's first report, with its evidence file, raises no flag; the Navy's +75 % does."""
    from tracker.progress import uploads

    monkeypatch.setitem(app.config, "UPLOAD_FOLDER", tmp_path)
    _, air = make_user(Role.reporter, email="fap@example.org", institution="FAP")
    with app.test_request_context():
        plan = db.session.scalars(sa.select(pm.Plan).filter_by(code="PE-2021")).one()
        cycle = db.session.scalars(sa.select(ReportingCycle).filter_by(plan_id=plan.id, year=YEAR)).one()
        user = db.session.scalars(sa.select(User).filter_by(email=air)).one()
        indicator = editing.find_item(db.session, plan, pm.PlanItemKind.indicator, "IND-PAR-2")
        calm = services.save_entry(db.session, user, cycle, user.institution, indicator,
                                   services.IndicatorInput(women=2, men=3, narrative="Curso"))
        uploads.store_evidence(db.session, user, calm, [(b"%PDF-1.4\n%%EOF\n", "application/pdf", "acta.pdf")])
        steps.take_step(db.session, user, calm, "submit")
        db.session.commit()
        calm = calm.id
    committee = Client(app.test_client())
    committee.login(review_world["committee"])
    everything = committee.get("/review?state=submitted").get_data(as_text=True)
    flagged = committee.get("/review?state=submitted&flagged=y").get_data(as_text=True)
    assert f'/entries/{review_world["entry"]}"' in everything and f'/entries/{calm}"' in everything
    assert f'/entries/{review_world["entry"]}"' in flagged and f'/entries/{calm}"' not in flagged


# -- reporters: submit every complete draft at once ----------------------------------------------------------


def test_submit_all_sends_the_complete_drafts_and_says_why_the_others_stay(app, review_world):
    from tracker.progress.models import EntryState

    with app.test_request_context():
        plan = db.session.scalars(sa.select(pm.Plan).filter_by(code="PE-2021")).one()
        cycle = db.session.scalars(sa.select(ReportingCycle).filter_by(plan_id=plan.id, year=YEAR)).one()
        navy = db.session.scalars(sa.select(User).filter_by(email=review_world["navy"])).one()
        complete = services.save_entry(db.session, navy, cycle, navy.institution,
                                       editing.find_item(db.session, plan, pm.PlanItemKind.indicator, "IND-PAR-2"),
                                       services.IndicatorInput(women=4, men=9))
        half = services.save_entry(db.session, navy, cycle, navy.institution,
                                   editing.find_item(db.session, plan, pm.PlanItemKind.action, "PAR-1"),
                                   services.ActionInput(action_status=None, done="A medio camino"))
        db.session.commit()
        complete, half = complete.id, half.id
    reporter = Client(app.test_client())
    reporter.login(review_world["navy"])
    worklist = f"/plans/PE-2021/report/{YEAR}"
    assert "/submit-all" in reporter.get(worklist).get_data(as_text=True)
    response = reporter.post_form(f"{worklist}/submit-all", token_from=worklist, headers=EN)
    assert response.status_code == 302
    page = page_text(reporter.get(worklist, headers=EN))
    assert "1 entry submitted." in page and "Not submitted, incomplete: PAR-1:" in page
    with app.app_context():
        assert db.session.get(Entry, complete).state == EntryState.submitted
        assert db.session.get(Entry, half).state == EntryState.draft


def test_submit_all_with_nothing_to_submit_says_so(app, review_world):
    reporter = Client(app.test_client())
    reporter.login(review_world["navy"])
    worklist = f"/plans/PE-2021/report/{YEAR}"
    reporter.post_form(f"{worklist}/submit-all", token_from=worklist, headers=EN)
    assert "No draft to submit." in page_text(reporter.get(worklist, headers=EN))


def test_the_indicator_drill_down_shows_each_institutions_contribution(app, review_world):
    viewer = Client(app.test_client())
    viewer.login(review_world["committee"])
    raw = viewer.get("/dashboard/PE-2021/indicators/IND-PAR-1", headers=EN).get_data(as_text=True)
    table = raw[raw.index('class="table table-sm contributions"'):]
    table = _text_of(table[:table.index("</table>")])
    assert "EP MGP" in table  # one column per institution that reported, by code
    for year, army, navy in ((2022, "—", "60"), (2023, "—", "70"), (2024, "—", "80"), (YEAR, "20", "—")):
        assert f"{year} {army} {navy}" in table  # the Navy's submitted 2026 report is not approved: not counted


def _text_of(fragment: str) -> str:
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", fragment)).split())


def test_the_institution_filter_never_scores_one_institution_against_the_national_target(app, review_world):
    from tracker.dashboard import services as dashboard

    with app.test_request_context():
        plan = db.session.scalars(sa.select(pm.Plan).filter_by(code="PE-2021")).one()
        army = db.session.scalars(sa.select(pm.Institution).filter_by(code="EP")).one()
        national = dashboard.build_dashboard(db.session, plan, YEAR)
        filtered = dashboard.build_dashboard(db.session, plan, YEAR, army.id)
    assert national.overall.mean_achievement is not None  # the Army's 20 against the national 200
    assert filtered.overall.mean_achievement is None and filtered.overall.indicators_reported == 1
    committee = Client(app.test_client())
    committee.login(review_world["committee"])
    page = page_text(committee.get(f"/dashboard?plan=PE-2021&year={YEAR}&institution=EP", headers=EN))
    assert "Achievement is measured against the national targets, for all institutions together" in page
