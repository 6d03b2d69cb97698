"""Races against a real server: gunicorn with four workers on this run's database (a SQLite file, or a
fresh PostgreSQL database when TRACKER_TEST_DATABASE_URL is set), two reporters of one institution and
the committee, requests released together. The loser of every race gets the conflict page with its input,
never a 500; a double click is told its save went through; the history matches the final state (issue 13).
"""

from __future__ import annotations

import html
import json
import os
import re
import secrets
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import date

import pytest
import sqlalchemy as sa

from conftest import PASSWORD
from live_server import (Browser, Response, free_port, fresh_postgres_database, query_one, start_gunicorn, stop, tracker,
                         wait_until_serving)

YEAR = date.today().year
BASE = f"/plans/PE-2021/report/{YEAR}"
EDIT_ROUNDS = 12
FIRST_SAVES = {"IND-PAR-1": "indicators", "PAR-1": "actions", "PAR-3": "actions", "REC-4": "actions"}


@pytest.fixture(scope="module")
def database_url(tmp_path_factory):
    """This run's kind of database, empty: a file for SQLite (the in-memory one cannot be shared)."""
    test_url = os.environ.get("TRACKER_TEST_DATABASE_URL")
    if not test_url:
        yield f"sqlite:///{tmp_path_factory.mktemp('races') / 'races.sqlite3'}"
        return
    with fresh_postgres_database(test_url, "nap_races") as url:
        yield url


@pytest.fixture(scope="module")
def server_env(database_url, tmp_path_factory):
    env = {k: v for k, v in os.environ.items() if not k.startswith("TRACKER_")}
    env.update(TRACKER_ENV="development", TRACKER_DATABASE_URL=database_url, TRACKER_SECRET_KEY=secrets.token_urlsafe(48),
               TRACKER_INSTANCE_PATH=str(tmp_path_factory.mktemp("races-instance")))
    return env


@pytest.fixture(scope="module")
def server(server_env):
    env = server_env
    for step in (["db", "upgrade"], ["seed"]):
        assert tracker(env, *step).returncode == 0
    for email, role, institution, plans in [("a@mgp.example.pe", "reporter", "PE:MGP", []),
                                            ("b@mgp.example.pe", "reporter", "PE:MGP", []),
                                            ("comite@mindef.example.pe", "committee", "PE:CIG-MINDEF", ["--plan", "PE-2021"])]:
        result = tracker(env, "users", "create", email, "--role", role, "--institution", institution, *plans,
                         "--no-change-required", stdin=PASSWORD + "\n")
        assert result.returncode == 0, result.stderr
    port = free_port()
    process = start_gunicorn(env, port, workers=4)
    wait_until_serving(process, port)
    yield f"127.0.0.1:{port}"
    stop(process)


def logged_in(server: str, email: str) -> Browser:
    browser = Browser(server)
    assert browser.post("/login", {"email": email, "password": PASSWORD}).status == 302
    return browser


@pytest.fixture(scope="module")
def people(server):
    committee = logged_in(server, "comite@mindef.example.pe")
    assert committee.post("/plans/PE-2021/cycles", {"year": str(YEAR), "deadline": f"{YEAR + 1}-03-31"}).status == 302
    return logged_in(server, "a@mgp.example.pe"), logged_in(server, "b@mgp.example.pe"), committee


def hidden_fields(page: str) -> dict[str, str]:
    """The hidden inputs of a page's forms (CSRF token, version, request key), as a browser would send them."""
    fields = {}
    for tag in re.findall(r"<input[^>]*type=\"hidden\"[^>]*>", page):
        name, value = re.search(r'name="([^"]+)"', tag), re.search(r'value="([^"]*)"', tag)
        if name:
            fields[name.group(1)] = html.unescape(value.group(1)) if value else ""
    return fields


def together(*calls) -> list[Response]:
    """Run the calls in threads released at the same moment."""
    barrier = threading.Barrier(len(calls))

    def run(call):
        barrier.wait()
        return call()

    with ThreadPoolExecutor(len(calls)) as pool:
        return list(pool.map(run, calls))


def opened_form(browser: Browser, path: str) -> dict[str, str]:
    page = browser.get(path)
    assert page.status == 200, page.text[:300]
    return hidden_fields(page.text)


PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def save(browser: Browser, path: str, form: dict, values: dict, button: str = "save", evidence: bytes | None = None):
    files = {"evidence": ("sustento.pdf", evidence)} if evidence else None
    return lambda: browser.request("POST", path, {**form, **values, button: "1"}, files=files)


def assert_no_server_error(responses: list[Response]) -> None:
    assert [r.status for r in responses if r.status >= 500] == [], [r.text[:300] for r in responses if r.status >= 500]


@pytest.fixture(scope="module")
def outcomes():
    """Every response of the module, checked at the end: not one 5xx."""
    return []


def test_first_saves_at_the_same_moment_end_in_one_entry_and_one_conflict(people, outcomes):
    navy_a, navy_b, _ = people
    for code, kind in FIRST_SAVES.items():
        path = f"{BASE}/{kind}/{code}"
        forms = opened_form(navy_a, path), opened_form(navy_b, path)
        values = ({"women": "3", "men": "4"}, {"women": "5", "men": "6"}) if kind == "indicators" else \
            ({"action_status": "in_progress", "done": "A"}, {"action_status": "ongoing", "done": "B"})
        responses = together(save(navy_a, path, forms[0], values[0]), save(navy_b, path, forms[1], values[1]))
        outcomes.extend(responses)
        assert_no_server_error(responses)
        assert sorted(r.status for r in responses) == [302, 409], code


def test_edit_races_end_in_one_save_and_a_conflict_page_with_the_losers_input(people, outcomes):
    navy_a, navy_b, _ = people
    path = f"{BASE}/indicators/IND-PAR-2"
    assert navy_a.post(path, {"women": "1", "men": "1", "save": "1"}).status == 302
    for round_ in range(EDIT_ROUNDS):
        forms = opened_form(navy_a, path), opened_form(navy_b, path)
        mine = [str(1000 + 2 * round_), str(1001 + 2 * round_)]
        # Both attach a file: the loser's must not stay behind (see test_no_file_is_orphaned_by_the_races).
        responses = together(save(navy_a, path, forms[0], {"women": mine[0], "men": "10"}, evidence=PDF + mine[0].encode()),
                             save(navy_b, path, forms[1], {"women": mine[1], "men": "10"}, evidence=PDF + mine[1].encode()))
        outcomes.extend(responses)
        assert_no_server_error(responses)
        assert sorted(r.status for r in responses) == [302, 409]
        loser = next(i for i, r in enumerate(responses) if r.status == 409)
        assert f'value="{mine[loser]}"' in responses[loser].text, "the loser's input is on the conflict page"


def test_budget_item_races_end_in_one_save_and_a_conflict(people, outcomes):
    navy_a, navy_b, _ = people
    path = f"/plans/PE-2021/budget/{YEAR}"
    for round_ in range(3):  # the first round races to create the item
        forms = opened_form(navy_a, path), opened_form(navy_b, path)
        line = {"stage": "included_pia", "unidad_ejecutora": "001", "meta_presupuestal": f"00{round_}"}
        responses = together(save(navy_a, path, forms[0], {"pliego": "026", **line}),
                             save(navy_b, path, forms[1], {"pliego": "027", **line}))
        outcomes.extend(responses)
        assert_no_server_error(responses)
        assert sorted(r.status for r in responses) == [302, 409], round_


def test_a_double_click_saves_once_and_both_clicks_succeed(people, outcomes, database_url):
    navy_a, _, _ = people
    path = f"{BASE}/indicators/IND-PAR-2"
    entry_id = _entry_id(database_url, "IND-PAR-2")
    before = _versions(database_url, entry_id)
    form = opened_form(navy_a, path)
    click = save(navy_a, path, form, {"women": "77", "men": "10"})
    responses = together(click, click)
    outcomes.extend(responses)
    assert [r.status for r in responses] == [302, 302]
    assert _versions(database_url, entry_id) == before + 1


def test_submit_against_edit_and_approve_against_withdraw_give_no_server_error(people, outcomes, database_url):
    navy_a, navy_b, committee = people
    path = f"{BASE}/indicators/IND-PAR-2"
    entry_id = _entry_id(database_url, "IND-PAR-2")
    for _ in range(4):
        page = f"/entries/{entry_id}"
        fields, form = hidden_fields(navy_a.get(page).text), opened_form(navy_b, path)
        responses = together(lambda: navy_a.request("POST", f"{page}/submit", fields),
                             save(navy_b, path, form, {"women": "50", "men": "10"}))
        outcomes.extend(responses)
        assert_no_server_error(responses)
        _make_submitted(navy_a, entry_id)
        fields_committee, fields_navy = hidden_fields(committee.get(page).text), hidden_fields(navy_a.get(page).text)
        responses = together(lambda: committee.request("POST", f"{page}/approve", fields_committee),
                             lambda: navy_a.request("POST", f"{page}/withdraw", fields_navy))
        outcomes.extend(responses)
        assert_no_server_error(responses)
        assert all(r.status == 302 for r in responses)
        if _state(database_url, entry_id) == "approved":
            reopened = committee.post(f"{page}/reopen", {"reason": "Otra ronda"}, token_from=page)
            assert reopened.status == 302


def _make_submitted(browser: Browser, entry_id: int) -> None:
    page = f"/entries/{entry_id}"
    fields = hidden_fields(browser.get(page).text)
    browser.request("POST", f"{page}/submit", fields)


def test_no_race_gave_a_server_error(outcomes):
    assert outcomes, "the races ran"
    assert_no_server_error(outcomes)


def test_no_file_is_orphaned_by_the_races(server_env, database_url):
    result = tracker(server_env, "check")
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"Checked {EDIT_ROUNDS} files: everything agrees." in result.stdout
    assert query_one(database_url, "SELECT count(*) FROM evidence") == EDIT_ROUNDS  # the winners' files only


def test_history_matches_the_final_state_of_every_entry(database_url):
    engine = sa.create_engine(database_url)
    try:
        with engine.connect() as conn:
            entries = conn.execute(sa.text("SELECT id, version, state, women, men FROM entry")).all()
            assert len(entries) == len(FIRST_SAVES) + 2  # and IND-PAR-2 and the budget item
            for entry_id, version, state, women, men in entries:
                versions = conn.execute(sa.text("SELECT number, state, data FROM entry_version WHERE entry_id = :id "
                                                "ORDER BY number"), {"id": entry_id}).all()
                assert [v.number for v in versions] == list(range(1, version + 1)), "no version lost or skipped"
                assert versions[-1].state == state
                data = json.loads(versions[-1].data)
                assert (data.get("women"), data.get("men")) == (women, men)
    finally:
        engine.dispose()


def test_edit_races_kept_every_winners_save(database_url):
    entry_id = _entry_id(database_url, "IND-PAR-2")
    engine = sa.create_engine(database_url)
    try:
        with engine.connect() as conn:
            saved = conn.execute(sa.text("SELECT data FROM entry_version WHERE entry_id = :id AND event IN ('created', 'saved')"),
                                 {"id": entry_id}).scalars().all()
    finally:
        engine.dispose()
    women = {json.loads(d)["women"] for d in saved}
    # Each edit round stored exactly one of its two values.
    for round_ in range(EDIT_ROUNDS):
        assert len({1000 + 2 * round_, 1001 + 2 * round_} & women) == 1, round_


def _entry_id(database_url: str, code: str) -> int:
    return query_one(database_url, "SELECT e.id FROM entry e JOIN indicator i ON i.id = e.indicator_id WHERE i.code = :code",
                     code=code)


def _versions(database_url: str, entry_id: int) -> int:
    return query_one(database_url, "SELECT count(*) FROM entry_version WHERE entry_id = :id", id=entry_id)


def _state(database_url: str, entry_id: int) -> str:
    return query_one(database_url, "SELECT state FROM entry WHERE id = :id", id=entry_id)
