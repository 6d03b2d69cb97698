"""Server-side sessions (issue 12): a session ends at logout, when idle, at its absolute lifetime, or from elsewhere."""

from __future__ import annotations

import hashlib
from datetime import timedelta

import pytest
import sqlalchemy as sa

from conftest import PASSWORD, Client, count_queries
from test_auth import events, location, new_client, seed_light_peru, text, translated
from tracker.auth import services as accounts
from tracker.auth import sessions
from tracker.auth.models import Role, SessionEnd, User, UserSession
from tracker.db import db, utcnow

NEW_PASSWORD = "Violet-Lantern-Orbit-Quarry-77"
FIREFOX = "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0"
CHROME_WINDOWS = ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
                  "Chrome/131.0.0.0 Safari/537.36")


@pytest.fixture
def peru(app):
    """The accounts need institutions, not the whole plan."""
    seed_light_peru(app)


def browser(app, address: str = "127.0.0.1", agent: str | None = None) -> Client:
    c = new_client(app, address)
    if agent:
        c.environ_base["HTTP_USER_AGENT"] = agent
    return c


def logged_in(app, email: str, **kw) -> Client:
    c = browser(app, **kw)
    assert c.login(email).status_code == 302
    return c


def records(app, email: str) -> list[UserSession]:
    with app.app_context():
        user = db.session.scalars(sa.select(User).filter_by(email=email)).one()
        return list(db.session.scalars(sa.select(UserSession).filter_by(user_id=user.id).order_by(UserSession.id)))


def shift(app, record_id: int, **moves: timedelta) -> None:
    """Move a record's timestamps into the past (created_at=..., last_seen_at=...)."""
    with app.app_context():
        row = db.session.get(UserSession, record_id)
        for column, delta in moves.items():
            setattr(row, column, getattr(row, column) - delta)
        db.session.commit()


def copy_cookie(app, source: Client) -> Client:
    """Another browser holding a copy of `source`'s session cookie (same address and browser)."""
    name = app.config["SESSION_COOKIE_NAME"]
    thief = browser(app)
    thief.set_cookie(name, source.get_cookie(name).value)
    return thief


def is_refused(response) -> bool:
    return response.status_code == 302 and location(response).startswith("/login")


# -- the record -----------------------------------------------------------------------------------


def test_login_stores_a_session_record_with_the_token_hashed(app, make_user):
    _, email = make_user(Role.viewer)
    c = logged_in(app, email, address="192.0.2.10", agent=FIREFOX)
    with c.session_transaction() as sess:
        raw = sess[sessions.SESSION_KEY]
    (record,) = records(app, email)
    assert record.token_hash == hashlib.sha256(raw.encode()).hexdigest() != raw
    assert (record.address, record.user_agent, record.ended_at) == ("192.0.2.10", FIREFOX, None)


def test_a_long_user_agent_is_truncated(app, make_user):
    _, email = make_user(Role.viewer)
    logged_in(app, email, agent="X" * 1000)
    assert len(records(app, email)[0].user_agent) == 255


def test_each_login_is_its_own_record(app, make_user):
    _, email = make_user(Role.viewer)
    logged_in(app, email)
    logged_in(app, email)
    assert len({r.token_hash for r in records(app, email)}) == 2


# -- logout ---------------------------------------------------------------------------------------


def test_a_copied_cookie_opens_pages_before_logout(app, make_user):
    _, email = make_user(Role.viewer)
    thief = copy_cookie(app, logged_in(app, email))
    assert thief.get("/plans/").status_code == 200


def test_a_copied_cookie_is_refused_after_logout(app, make_user):
    _, email = make_user(Role.viewer)
    c = logged_in(app, email)
    thief = copy_cookie(app, c)
    assert c.post_form("/logout", token_from="/account").status_code == 302
    assert is_refused(thief.get("/plans/"))
    (record,) = records(app, email)
    assert record.ended_reason == SessionEnd.logout and record.ended_at is not None


def test_a_session_token_of_another_user_is_refused(app, make_user):
    _, victim = make_user(Role.admin)
    attacker_id, attacker = make_user(Role.viewer)
    c = logged_in(app, attacker)
    with app.app_context():
        victim_row = db.session.scalars(sa.select(User).filter_by(email=victim)).one()
    with c.session_transaction() as sess:
        sess["_user_id"] = victim_row.get_id()  # the victim's id and account token, with the attacker's session
    assert is_refused(c.get("/admin/users"))


# -- lifetimes ------------------------------------------------------------------------------------


def test_a_session_older_than_the_absolute_lifetime_is_refused(app, make_user):
    _, email = make_user(Role.viewer)
    c = logged_in(app, email)
    (record,) = records(app, email)
    shift(app, record.id, created_at=app.config["SESSION_ABSOLUTE_LIFETIME"] + timedelta(minutes=1))
    assert is_refused(c.get("/plans/"))
    assert records(app, email)[0].ended_reason == SessionEnd.expired


def test_a_session_in_use_stays_open_until_the_absolute_lifetime(app, make_user):
    _, email = make_user(Role.viewer)
    c = logged_in(app, email)
    (record,) = records(app, email)
    shift(app, record.id, created_at=app.config["SESSION_ABSOLUTE_LIFETIME"] - timedelta(minutes=5))
    assert c.get("/plans/").status_code == 200


def test_a_session_idle_past_the_lifetime_is_refused(app, make_user):
    _, email = make_user(Role.viewer)
    c = logged_in(app, email)
    (record,) = records(app, email)
    idle = app.config["PERMANENT_SESSION_LIFETIME"] + timedelta(minutes=1)
    shift(app, record.id, created_at=idle, last_seen_at=idle)
    assert is_refused(c.get("/plans/"))
    assert records(app, email)[0].ended_reason == SessionEnd.idle


def test_using_a_session_resets_its_idle_time(app, make_user):
    _, email = make_user(Role.viewer)
    c = logged_in(app, email)
    (record,) = records(app, email)
    almost = app.config["PERMANENT_SESSION_LIFETIME"] - timedelta(minutes=1)
    shift(app, record.id, created_at=almost, last_seen_at=almost)
    assert c.get("/plans/").status_code == 200
    last_seen = records(app, email)[0].last_seen_at
    assert last_seen > utcnow() - timedelta(minutes=1)


def test_last_seen_is_written_at_most_once_a_minute(app, make_user):
    _, email = make_user(Role.viewer)
    c = logged_in(app, email)
    before = records(app, email)[0].last_seen_at
    assert c.get("/plans/").status_code == 200
    assert records(app, email)[0].last_seen_at == before


def test_an_authenticated_page_costs_one_query_for_session_and_user(app, make_user):
    _, email = make_user(Role.viewer)
    c = logged_in(app, email)
    c.get("/plans/")  # warm caches
    with count_queries(db.engine) as statements:
        assert c.get("/plans/").status_code == 200
    assert len([s for s in statements if "user_session" in s]) == 1
    assert not [s for s in statements if s.lstrip().upper().startswith("UPDATE")]


def test_touching_last_seen_costs_one_statement(app, make_user):
    _, email = make_user(Role.viewer)
    c = logged_in(app, email)
    c.get("/plans/")

    def statements_now() -> list[str]:
        with count_queries(db.engine) as statements:
            assert c.get("/plans/").status_code == 200
        return [s for s in statements if s.strip().upper() != "BEGIN"]  # SQLite's own BEGIN: one per transaction

    quiet = statements_now()
    shift(app, records(app, email)[0].id, last_seen_at=timedelta(minutes=2))
    touched = statements_now()
    assert len(touched) == len(quiet) + 1
    (extra,) = [s for s in touched if s not in quiet]
    assert extra.startswith("UPDATE user_session SET last_seen_at=")


# -- the account page -----------------------------------------------------------------------------


def test_the_user_menu_links_to_the_account_page(app, make_user):
    _, email = make_user(Role.viewer)
    page = logged_in(app, email).get("/plans/").get_data(as_text=True)
    assert 'href="/account"' in page


def test_account_page_lists_the_open_sessions(app, make_user):
    _, email = make_user(Role.viewer)
    logged_in(app, email, address="198.51.100.20", agent=CHROME_WINDOWS)
    c = logged_in(app, email, address="192.0.2.30", agent=FIREFOX)
    page = c.get("/account")
    assert page.status_code == 200
    rows = text(page).split('<table class="table table-sm align-middle" id="sessions">')[1].split("</tbody>")[0]
    assert rows.count("<tr") == 3  # the header and two sessions
    assert "198.51.100.20" in rows and "Chrome · Windows" in rows
    assert "192.0.2.30" in rows and "Firefox · Linux" in rows
    current = rows.split('aria-current="true"')[1].split("</tr>")[0]
    assert "192.0.2.30" in current and translated(app, "This session") in current


def test_account_page_does_not_list_ended_sessions(app, make_user):
    _, email = make_user(Role.viewer)
    other = logged_in(app, email, address="198.51.100.21")
    other.post_form("/logout", token_from="/account")
    c = logged_in(app, email, address="192.0.2.31")
    page = text(c.get("/account"))
    assert "192.0.2.31" in page and "198.51.100.21" not in page
    assert translated(app, "Log out everywhere else") not in page


def test_log_out_everywhere_else_ends_the_other_sessions_only(app, make_user):
    _, email = make_user(Role.viewer)
    other = logged_in(app, email, address="198.51.100.22")
    c = logged_in(app, email, address="192.0.2.32")
    response = c.post_form("/account/sessions/end-others", token_from="/account")
    assert response.status_code == 302 and location(response) == "/account"
    assert is_refused(other.get("/plans/"))
    assert c.get("/plans/").status_code == 200
    first, second = records(app, email)
    assert (first.ended_reason, second.ended_reason) == (SessionEnd.ended_elsewhere, None)


def test_log_out_everywhere_else_is_audited(app, make_user):
    user_id, email = make_user(Role.viewer)
    logged_in(app, email)
    logged_in(app, email)
    c = logged_in(app, email)
    c.post_form("/account/sessions/end-others", token_from="/account")
    (event,) = events(app, "session.ended_others")
    assert (event.actor_id, event.details_dict) == (user_id, {"ended": 2})


def test_log_out_everywhere_else_needs_the_csrf_token(app, make_user):
    _, email = make_user(Role.viewer)
    other = logged_in(app, email)
    c = logged_in(app, email)
    assert c.post("/account/sessions/end-others").status_code == 400
    assert other.get("/plans/").status_code == 200


def test_account_page_needs_a_login(client, peru):
    response = client.get("/account")
    assert response.status_code == 302 and location(response).startswith("/login?next=")


# -- credentials change ---------------------------------------------------------------------------


def test_changing_the_password_keeps_this_session_and_ends_the_others(app, make_user):
    _, email = make_user(Role.viewer)
    other = logged_in(app, email)
    c = logged_in(app, email)
    response = c.post_form("/account/password", {"current_password": PASSWORD, "password": NEW_PASSWORD,
                                                 "confirm": NEW_PASSWORD})
    assert response.status_code == 302
    assert c.get("/plans/").status_code == 200
    assert is_refused(other.get("/plans/"))
    first, second = records(app, email)
    assert (first.ended_reason, second.ended_reason) == (SessionEnd.credentials_changed, None)


def test_a_wrong_current_password_ends_no_session(app, make_user):
    _, email = make_user(Role.viewer)
    other = logged_in(app, email)
    c = logged_in(app, email)
    response = c.post_form("/account/password", {"current_password": "Wrong-password-123", "password": NEW_PASSWORD,
                                                 "confirm": NEW_PASSWORD})
    assert response.status_code == 400
    assert other.get("/plans/").status_code == 200
    assert [r.ended_at for r in records(app, email)] == [None, None]


@pytest.mark.parametrize("change", ["deactivate", "reset"])
def test_an_admin_change_ends_every_session_record(app, make_user, change):
    user_id, email = make_user(Role.reporter)
    c = logged_in(app, email)
    with app.test_request_context():
        user = db.session.get(User, user_id)
        if change == "deactivate":
            accounts.set_active(db.session, user, False, actor=None)
        else:
            accounts.reset_password(db.session, user, NEW_PASSWORD, actor=None)
        db.session.commit()
    assert is_refused(c.get("/plans/"))
    assert [r.ended_reason for r in records(app, email)] == [SessionEnd.credentials_changed]
