"""Retired plan items (issue 15): what the monitoring body retires is no longer asked for.

The rule (`Lifecycle.in_force`): an item retired during year Y (in UTC) is not expected in the cycles of Y and
later; earlier years still count it, so their dashboards and reports stay as they were. Peru's indicator
IND-PAR-3 and action PAR-2 (both the Navy's, MGP) are retired with the editing service, as the committee
would from the browser, and then looked for in every place that asks for or counts items: the worklist, the
entry forms, completeness, the pillar cards, objectives and the trend, the report, the Excel template and
import, reminders and budget items.
"""

from __future__ import annotations

import html
import io
import json
import re
from datetime import date, datetime, timedelta, timezone

import openpyxl
import pytest
import sqlalchemy as sa

from conftest import Client, count_queries
from test_bulk_import import _fill, _preview, _sheet, _xlsx
from tracker.auth.models import Role, User
from tracker.budget.models import BudgetItem
from tracker.dashboard import services as dashboard
from tracker.db import db, utcnow
from tracker.domain import ValidationFailed
from tracker.plan import editing
from tracker.plan import models as pm
from tracker.plan.services import get_plan
from tracker.progress import services
from tracker.progress.models import (ActionStatus, CycleState, Entry, EntryKind, EntryState, Notification, OutboxMessage,
                                     ReportingCycle)
from tracker.reports.dataset import build_annual_report

YEAR = utcnow().year  # retire() stamps the moment it runs: the items are retired this year
EARLIER = YEAR - 1
INDICATOR, ACTION = "IND-PAR-3", "PAR-2"  # both reported by the Navy (MGP)
EN = {"Accept-Language": "en"}
WORK = "/plans/PE-2021/report"
RETIRED = "was retired from the plan on"


# -- fixtures and helpers ---------------------------------------------------------------------------


@pytest.fixture
def cycles(app, peru) -> dict[int, int]:
    """Peru's cycles of last year and this year, both open."""
    with app.app_context():
        plan = get_plan(db.session, "PE-2021")
        rows = {y: ReportingCycle(plan_id=plan.id, year=y, deadline=date(YEAR, 12, 31) + timedelta(days=30), state=CycleState.open)
                for y in (EARLIER, YEAR)}
        db.session.add_all(rows.values())
        db.session.commit()
        return {y: r.id for y, r in rows.items()}


def _in_english(app) -> None:
    """Every account reads the site in English (the reporter's language wins over the browser's)."""
    with app.app_context():
        db.session.execute(sa.update(User).values(language="en"))
        db.session.commit()


@pytest.fixture
def navy(app, login_as, cycles) -> Client:
    client = login_as(Role.reporter, institution="MGP")
    _in_english(app)
    return client


@pytest.fixture
def committee(app, login_as, cycles) -> Client:
    client = login_as(Role.committee)
    _in_english(app)
    return client


def _retire(app, kind: pm.PlanItemKind, code: str) -> datetime:
    """Retire an item of Peru's plan as the committee does; returns when."""
    with app.test_request_context():
        plan = get_plan(db.session, "PE-2021")
        row = editing.find_item(db.session, plan, kind, code)
        editor = editing.Editor(by="committee-cig-mindef@example.org", reason="Acta 4: ya no se mide", channel=pm.ChangeChannel.web)
        editing.retire(db.session, plan, kind, row, editor)
        db.session.commit()
        return row.retired_at


@pytest.fixture
def retired(app, cycles) -> None:
    """IND-PAR-3 and PAR-2 retired this year."""
    for kind, code in ((pm.PlanItemKind.indicator, INDICATOR), (pm.PlanItemKind.action, ACTION)):
        assert _retire(app, kind, code).year == YEAR


def _page(client: Client, url: str) -> str:
    response = client.get(url, headers=EN)
    assert response.status_code == 200, (url, response.status_code)
    return html.unescape(response.get_data(as_text=True))


def _links(page: str, year: int) -> set[str]:
    """The items a worklist page offers an entry form for: ("indicators", code) and ("actions", code)."""
    return set(re.findall(rf'{WORK}/{year}/((?:indicators|actions)/[^"?]+)"', page))


def _save(client: Client, year: int, path: str, data: dict, send: bool = False):
    return client.post_form(f"{WORK}/{year}/{path}", {**data, ("send" if send else "save"): "1"},
                            content_type="multipart/form-data", headers=EN)


def _entries(app, code: str) -> dict[int, Entry]:
    """The Navy's entries for an item, by cycle year."""
    with app.app_context():
        rows = db.session.execute(
            sa.select(Entry, ReportingCycle.year).join(ReportingCycle, ReportingCycle.id == Entry.cycle_id)
            .outerjoin(pm.Indicator, pm.Indicator.id == Entry.indicator_id).outerjoin(pm.Action, pm.Action.id == Entry.action_id)
            .where(sa.or_(pm.Indicator.code == code, pm.Action.code == code))
        ).all()
        return {year: entry for entry, year in rows}


def _dashboard(app, year: int, institution: str | None = None) -> dashboard.Dashboard:
    with app.test_request_context():
        plan = get_plan(db.session, "PE-2021")
        institution_id = db.session.scalars(sa.select(pm.Institution.id).filter_by(country_id=plan.country_id, code=institution)).one() if institution else None
        return dashboard.build_dashboard(db.session, plan, year, institution_id)


def _approve_action(app, year: int, code: str, status: ActionStatus = ActionStatus.completed) -> None:
    """An approved report of the Navy on an action (written as the workflow leaves it)."""
    with app.app_context():
        plan = get_plan(db.session, "PE-2021")
        cycle = db.session.scalars(sa.select(ReportingCycle).filter_by(plan_id=plan.id, year=year)).one()
        navy = db.session.scalars(sa.select(pm.Institution).filter_by(country_id=plan.country_id, code="MGP")).one()
        action = editing.find_item(db.session, plan, pm.PlanItemKind.action, code)
        now = utcnow()
        db.session.add(Entry(cycle_id=cycle.id, institution_id=navy.id, kind=EntryKind.action, action_id=action.id,
                             state=EntryState.approved, action_status=status, submitted_at=now, reviewed_at=now))
        db.session.commit()


def _completeness_row(page: str, code: str) -> list[int]:
    """The dashboard's "Reporting by institution" figures of one institution: assigned, submitted, approved..."""
    section = page[page.index('id="h-institutions"'):page.index('id="h-women"')]
    row = re.search(rf'<tr[^>]*>\s*<th scope="row">(?:<a [^>]*>)?{code}<.*?</tr>', section, re.S)
    assert row, f"no row for {code}"
    return [int(n) for n in re.findall(r'<td class="text-end">(\d+)', row.group(0))]


def _pillar_figures(page: str, pillar: str) -> tuple[str, str]:
    """The "Figures by pillar" table's actions and indicators ("reported / total") of one pillar."""
    section = page[page.index('id="h-figures"'):]
    row = re.search(rf'<th scope="row">{pillar}</th>(.*?)</tr>', section, re.S)
    assert row, f"no row for {pillar}"
    cells = re.findall(r"(\d+ / \d+)", row.group(1))
    return cells[0], cells[1]


# -- the rule ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(("retired_at", "year", "in_force"), [
    (datetime(2025, 3, 1, tzinfo=timezone.utc), 2024, True),  # earlier years still count it
    (datetime(2025, 3, 1, tzinfo=timezone.utc), 2025, False),  # not expected from its year on
    (datetime(2025, 3, 1, tzinfo=timezone.utc), 2026, False),
    (datetime(2024, 12, 31, 23, 30, tzinfo=timezone.utc), 2024, False),
    # 2 a.m. UTC on 1 January is still 31 December in Lima: the UTC year is the one that counts.
    (datetime(2025, 1, 1, 2, 0, tzinfo=timezone.utc), 2024, True),
    (datetime(2025, 1, 1, 2, 0, tzinfo=timezone.utc), 2025, False),
    (None, 2030, True),
])
def test_in_force_says_the_same_in_python_and_in_sql(app, peru, retired_at, year, in_force):
    with app.app_context():
        plan = get_plan(db.session, "PE-2021")
        row = editing.find_item(db.session, plan, pm.PlanItemKind.indicator, INDICATOR)
        row.retired_at = retired_at
        db.session.commit()
        db.session.expire_all()
        in_sql = db.session.scalars(sa.select(pm.Indicator.code).where(pm.Indicator.plan_id == plan.id, pm.Indicator.in_force(year))).all()
        row = editing.find_item(db.session, plan, pm.PlanItemKind.indicator, INDICATOR)
        assert (INDICATOR in in_sql, row.in_force(year)) == (in_force, in_force)
        assert "IND-PAR-2" in in_sql  # the others are untouched


# -- the worklist and the entry forms ----------------------------------------------------------------


def test_retired_items_leave_the_worklist_from_their_year(app, navy, retired):
    now, before = _links(_page(navy, f"{WORK}/{YEAR}"), YEAR), _links(_page(navy, f"{WORK}/{EARLIER}"), EARLIER)
    assert {f"indicators/{INDICATOR}", f"actions/{ACTION}"} <= before
    assert f"indicators/{INDICATOR}" not in now and f"actions/{ACTION}" not in now
    assert now == before - {f"indicators/{INDICATOR}", f"actions/{ACTION}"}  # nothing else changed


def test_assigned_items_of_a_year_leave_retired_ones_out(app, retired):
    with app.app_context():
        plan = get_plan(db.session, "PE-2021")
        navy = db.session.scalars(sa.select(pm.Institution).filter_by(country_id=plan.country_id, code="MGP")).one()
        codes = {y: [i.code for group in services.assigned_items(db.session, plan.id, navy.id, y) for i in group]
                 for y in (EARLIER, YEAR, None)}
    assert INDICATOR in codes[EARLIER] and ACTION in codes[EARLIER]
    assert INDICATOR not in codes[YEAR] and ACTION not in codes[YEAR]
    assert codes[None] == codes[EARLIER]  # without a year: every item, retired ones too (old entries open)


@pytest.mark.parametrize(("path", "data"), [(f"indicators/{INDICATOR}", {"value": "3"}),
                                            (f"actions/{ACTION}", {"action_status": "in_progress"})])
def test_a_new_entry_for_a_retired_item_is_refused_with_a_message(app, navy, retired, path, data):
    response = navy.get(f"{WORK}/{YEAR}/{path}", headers=EN)
    assert response.status_code == 302 and response.headers["Location"].endswith(f"{WORK}/{YEAR}")
    worklist = _page(navy, f"{WORK}/{YEAR}")  # the message is flashed there
    code = path.split("/")[1]
    assert f"{code} {RETIRED}" in worklist and f"from {YEAR} on it is no longer reported" in worklist
    response = navy.post_form(f"{WORK}/{YEAR}/{path}", {**data, "save": "1"}, token_from=f"{WORK}/{YEAR}", headers=EN)
    assert response.status_code == 302 and response.headers["Location"].endswith(f"{WORK}/{YEAR}")
    assert YEAR not in _entries(app, code)  # nothing stored


@pytest.mark.parametrize(("path", "data"), [(f"indicators/{INDICATOR}", {"value": "3"}),
                                            (f"actions/{ACTION}", {"action_status": "in_progress"})])
def test_an_earlier_year_still_takes_entries_for_it(app, navy, retired, path, data):
    assert navy.get(f"{WORK}/{EARLIER}/{path}", headers=EN).status_code == 200
    assert _save(navy, EARLIER, path, data).status_code == 302
    assert _entries(app, path.split("/")[1])[EARLIER].state == EntryState.draft


def test_an_entry_started_before_the_retirement_still_opens(app, navy, cycles):
    assert _save(navy, YEAR, f"indicators/{INDICATOR}", {"value": "7", "narrative": "Antes del retiro"}).status_code == 302
    _retire(app, pm.PlanItemKind.indicator, INDICATOR)
    # Still on the worklist (the entry is reachable from it), though no longer asked for.
    assert f"indicators/{INDICATOR}" in _links(_page(navy, f"{WORK}/{YEAR}"), YEAR)
    form = _page(navy, f"{WORK}/{YEAR}/indicators/{INDICATOR}")
    assert 'name="value" step="any" type="number" value="7.0000"' in form and "Antes del retiro" in form
    entry = _entries(app, INDICATOR)[YEAR]
    assert "Antes del retiro" in _page(navy, f"/entries/{entry.id}")
    assert _save(navy, YEAR, f"indicators/{INDICATOR}", {"value": "8", "narrative": "Después", "version": "1"}).status_code == 302
    assert (_entries(app, INDICATOR)[YEAR].value, _entries(app, INDICATOR)[YEAR].version) == (8, 2)


def test_the_service_refuses_a_new_entry_too(app, navy, retired):
    with app.test_request_context():
        plan = get_plan(db.session, "PE-2021")
        user = db.session.scalars(sa.select(User).filter_by(role=Role.reporter)).one()
        cycle = db.session.scalars(sa.select(ReportingCycle).filter_by(plan_id=plan.id, year=YEAR)).one()
        item = editing.find_item(db.session, plan, pm.PlanItemKind.indicator, INDICATOR)
        with pytest.raises(ValidationFailed) as refused:
            services.save_entry(db.session, user, cycle, user.institution, item, services.IndicatorInput(value=3))
        assert INDICATOR in refused.value.errors[0][1]
        with pytest.raises(ValidationFailed):
            services.save_drafts(db.session, user, cycle, user.institution, [(item, services.IndicatorInput(value=3), None)])


def test_the_reporter_home_lists_only_items_in_force(app, navy, retired):
    home = _page(navy, "/home")
    due = {code for _, code in re.findall(rf'href="{WORK}/\d+/(indicators|actions)/([^"]+)">', home)}
    assert INDICATOR not in due and ACTION not in due
    assert {"IND-PAR-2", "PAR-1"} <= due


# -- completeness, the dashboard and the report ----------------------------------------------------


def test_completeness_counts_only_items_in_force(app, navy, committee, cycles):
    # Submitted before the retirement: in the year of the retirement it is neither asked for nor counted.
    assert _save(navy, YEAR, f"indicators/{INDICATOR}", {"value": "3"}, send=True).status_code == 302
    before = _completeness_row(_page(committee, f"/dashboard?plan=PE-2021&year={YEAR}"), "MGP")
    _retire(app, pm.PlanItemKind.indicator, INDICATOR)
    _retire(app, pm.PlanItemKind.action, ACTION)
    now = _completeness_row(_page(committee, f"/dashboard?plan=PE-2021&year={YEAR}"), "MGP")
    earlier = _completeness_row(_page(committee, f"/dashboard?plan=PE-2021&year={EARLIER}"), "MGP")
    assert before[:2] == [earlier[0], 1]  # assigned, submitted
    assert now[:2] == [before[0] - 2, 0] and now[-1] == now[0]  # nothing submitted, everything in force missing
    assert earlier[0] == before[0]  # last year still counts them


def test_pillar_cards_count_only_items_in_force(app, committee, retired):
    with app.app_context():
        participation = db.session.scalars(sa.select(pm.Pillar.name_en).filter_by(code="PAR")).one()
    now = _pillar_figures(_page(committee, f"/dashboard?plan=PE-2021&year={YEAR}"), participation)
    earlier = _pillar_figures(_page(committee, f"/dashboard?plan=PE-2021&year={EARLIER}"), participation)
    assert (earlier, now) == (("0 / 3", "0 / 3"), ("0 / 2", "0 / 2"))
    card = next(c for c in _dashboard(app, YEAR).cards if c.pillar and c.pillar.code == "PAR")
    assert [r.action.code for r in card.actions] == ["PAR-1", "PAR-3"]
    assert INDICATOR not in [r.indicator.code for r in card.indicators]


def test_an_institutions_dashboard_leaves_them_out_too(app, retired):
    now, earlier = _dashboard(app, YEAR, "MGP"), _dashboard(app, EARLIER, "MGP")
    assert (now.overall.actions_total, now.overall.indicators_total) == (earlier.overall.actions_total - 1,
                                                                           earlier.overall.indicators_total - 1)


def test_a_retired_indicators_history_stops_before_its_year(app, committee, retired):
    with app.test_request_context():
        plan = get_plan(db.session, "PE-2021")
        history = dashboard.indicator_history(db.session, plan, editing.find_item(db.session, plan, pm.PlanItemKind.indicator, INDICATOR))
    assert [y for y, _result in history] == [EARLIER]
    assert _page(committee, f"/dashboard/PE-2021/indicators/{INDICATOR}")  # the page still opens


def test_a_retired_objective_leaves_the_objective_rows(app, committee, cycles):
    _retire(app, pm.PlanItemKind.objective, "OE-1")
    assert "<strong>OE-1</strong>" not in _page(committee, f"/dashboard?plan=PE-2021&year={YEAR}")
    assert "<strong>OE-1</strong>" in _page(committee, f"/dashboard?plan=PE-2021&year={EARLIER}")
    assert "OE-1" not in [r.objective.code for r in _dashboard(app, YEAR).objectives]


def test_the_trend_counts_each_year_over_its_own_items(app, cycles):
    _approve_action(app, EARLIER, ACTION)
    _approve_action(app, YEAR, ACTION)  # reported before it was retired
    assert [y for y, *_ in _dashboard(app, YEAR).trend] == [EARLIER, YEAR]
    _retire(app, pm.PlanItemKind.action, ACTION)
    now = _dashboard(app, YEAR)
    assert [y for y, *_ in now.trend] == [EARLIER]  # this year has nothing in force with data
    assert now.overall.actions_reported == 0 and _dashboard(app, EARLIER).overall.actions_reported == 1


def test_the_report_of_an_earlier_year_still_lists_them(app, committee, cycles):
    _approve_action(app, EARLIER, ACTION)
    _retire(app, pm.PlanItemKind.action, ACTION)
    _retire(app, pm.PlanItemKind.indicator, INDICATOR)

    def report(year: int) -> dict:
        response = committee.get(f"/reports/PE-2021/{year}.json?lang=en")
        assert response.status_code == 200
        return {s["key"]: s for s in json.loads(response.data)["sections"]}

    now, earlier = report(YEAR), report(EARLIER)
    codes = lambda sections, key: {r["code"] for r in sections[key]["tables"][0]["rows"]}  # noqa: E731
    assert ACTION not in codes(now, "actions") and INDICATOR not in codes(now, "indicators")
    assert ACTION in codes(earlier, "actions") and INDICATOR in codes(earlier, "indicators")
    row = next(r for r in earlier["actions"]["tables"][0]["rows"] if r["code"] == ACTION)
    assert row["status"] == "Completed"
    with app.test_request_context():
        assert ACTION not in {r["code"] for r in build_annual_report(db.session, get_plan(db.session, "PE-2021"), YEAR, "en")
                              .table("actions").rows}


# -- bulk import -------------------------------------------------------------------------------------


def _template(client: Client, year: int) -> openpyxl.Workbook:
    response = client.get(f"{WORK}/{year}/template.xlsx")
    assert response.status_code == 200
    return openpyxl.load_workbook(io.BytesIO(response.data))


def _codes(workbook, kind: EntryKind) -> list[str]:
    sheet = _sheet(workbook, kind)
    return [sheet.cell(r, 1).value for r in range(2, sheet.max_row + 1)]


def test_the_excel_template_leaves_retired_items_out(app, navy, retired):
    now, earlier = _template(navy, YEAR), _template(navy, EARLIER)
    assert INDICATOR in _codes(earlier, EntryKind.indicator) and ACTION in _codes(earlier, EntryKind.action)
    assert INDICATOR not in _codes(now, EntryKind.indicator) and ACTION not in _codes(now, EntryKind.action)


def test_an_uploaded_row_for_a_retired_item_is_refused_with_a_message(app, navy, retired):
    workbook = _template(navy, YEAR)
    good = _fill(workbook, EntryKind.indicator, "IND-PAR-1", women=2, men=3)
    indicator_row = _fill(workbook, EntryKind.indicator, INDICATOR, value=4)
    action_row = _fill(workbook, EntryKind.action, ACTION, action_status="In progress")
    response = navy.post_form(f"{WORK}/{YEAR}/import", {"file": (io.BytesIO(_xlsx(workbook)), "plantilla.xlsx")},
                              content_type="multipart/form-data")
    assert response.status_code == 200
    rows = {(sheet_row, code): (status, error) for (_sheet, sheet_row), (code, status, error) in _preview(response.get_data(as_text=True)).items()}
    assert rows[(good, "IND-PAR-1")][0] == "ready"
    for row, code in ((indicator_row, INDICATOR), (action_row, ACTION)):
        status, error = rows[(row, code)]
        assert status == "error" and f"{code} {RETIRED}" in error and f"from {YEAR} on it is no longer reported" in error
    assert YEAR not in _entries(app, INDICATOR) and YEAR not in _entries(app, ACTION)


# -- reminders ---------------------------------------------------------------------------------------


def test_reminders_leave_retired_items_out(app, navy, committee, retired):
    for year in (EARLIER, YEAR):
        response = committee.post_form(f"/plans/PE-2021/cycles/{year}/reminders", {"institution": "MGP"},
                                       token_from=f"/plans/PE-2021/cycles/{year}/reminders")
        assert response.status_code == 302
    with app.app_context():
        notes = [n.note.split(", ") for n in db.session.scalars(sa.select(Notification).filter_by(event="reminder").order_by(Notification.id))]
        mails = db.session.scalars(sa.select(OutboxMessage).order_by(OutboxMessage.id)).all()
        bodies, subjects = [m.body for m in mails], [m.subject for m in mails]
    earlier, now = notes
    assert INDICATOR in earlier and ACTION in earlier
    assert INDICATOR not in now and ACTION not in now
    assert sorted(now) == sorted(set(earlier) - {INDICATOR, ACTION})
    assert f"Indicator {INDICATOR}:" in bodies[0] and f"Indicator {INDICATOR}:" not in bodies[1]
    assert f"Action {ACTION}:" in bodies[0] and f"Action {ACTION}:" not in bodies[1]
    assert subjects == [f"Reminder: {len(earlier)} items to report for {EARLIER}", f"Reminder: {len(now)} items to report for {YEAR}"]


def test_the_reminder_preview_counts_only_items_in_force(app, navy, committee, retired):
    now = _page(committee, f"/plans/PE-2021/cycles/{YEAR}/reminders?institution=MGP")
    earlier = _page(committee, f"/plans/PE-2021/cycles/{EARLIER}/reminders?institution=MGP")
    assert f"Indicator {INDICATOR}:" in earlier and f"Indicator {INDICATOR}:" not in now
    count = lambda page: int(re.search(r"(\d+) items not yet submitted", page).group(1))  # noqa: E731
    assert count(now) == count(earlier) - 2


# -- budget items ------------------------------------------------------------------------------------


BUDGET = {"stage": "included_pia", "pliego": "026", "unidad_ejecutora": "001", "meta_presupuestal": "0012", "pia": "1000"}


def _save_budget(client: Client, year: int, actions: list[str], version: str | None = None):
    data = {**BUDGET, "actions": actions, "save": "1", **({"version": version} if version else {})}
    return client.post_form(f"/plans/PE-2021/budget/{year}", data, content_type="multipart/form-data", headers=EN)


def _financed(app, year: int) -> list[str]:
    with app.app_context():
        item = db.session.scalars(sa.select(BudgetItem).join(Entry).join(ReportingCycle, ReportingCycle.id == Entry.cycle_id)
                                  .where(ReportingCycle.year == year)).one_or_none()
        return sorted(link.action.code for link in item.financed_actions) if item else []


def test_a_budget_item_cannot_newly_finance_a_retired_action(app, navy, retired):
    response = _save_budget(navy, YEAR, ["PAR-1", ACTION])
    assert response.status_code == 400
    page = html.unescape(response.get_data(as_text=True))
    assert f"{ACTION} {RETIRED}" in page and 'value="1000"' in page  # the input is kept
    assert _financed(app, YEAR) == []
    assert _save_budget(navy, EARLIER, ["PAR-1", ACTION]).status_code == 302  # last year it was in force
    assert _financed(app, EARLIER) == ["PAR-1", ACTION]


def test_a_link_made_before_the_retirement_stays(app, navy, cycles):
    assert _save_budget(navy, YEAR, ["PAR-1", ACTION]).status_code == 302
    _retire(app, pm.PlanItemKind.action, ACTION)
    assert _save_budget(navy, YEAR, ["PAR-1", ACTION], version="1").status_code == 302
    assert _financed(app, YEAR) == ["PAR-1", ACTION]


# -- a constant number of statements -----------------------------------------------------------------


@pytest.mark.parametrize("url", [f"{WORK}/{YEAR}", f"{WORK}/{YEAR}/template.xlsx", "/home"])
def test_the_reporter_pages_run_as_many_statements_with_retired_items(app, navy, url):
    navy.get(url)  # warm: the first request of a session loads more
    with count_queries(db.engine) as before:
        assert navy.get(url).status_code == 200
    _retire(app, pm.PlanItemKind.indicator, INDICATOR)
    _retire(app, pm.PlanItemKind.action, ACTION)
    with count_queries(db.engine) as after:
        assert navy.get(url).status_code == 200
    assert len(after) == len(before)


def test_the_dashboard_runs_as_many_statements_with_retired_items(app, committee):
    url = f"/dashboard?plan=PE-2021&year={YEAR}"
    committee.get(url)
    with count_queries(db.engine) as before:
        assert committee.get(url).status_code == 200
    _retire(app, pm.PlanItemKind.indicator, INDICATOR)
    _retire(app, pm.PlanItemKind.objective, "OE-1")
    with count_queries(db.engine) as after:
        assert committee.get(url).status_code == 200
    assert len(after) == len(before)
