"""Second factor (issue 12): TOTP enrolment, login with a code or a recovery code, required roles, turning it off."""

from __future__ import annotations

import html
import re
from datetime import datetime, timedelta, timezone

import pyotp
import pytest
import sqlalchemy as sa
from limits import parse_many

import tracker.auth.two_factor as two_factor
from conftest import PASSWORD, Client
from test_auth import events, location, new_client, seed_light_peru, text, translated
from tracker.auth.models import RecoveryCode, Role, TotpCredential, User, UserSession
from tracker.db import db

WRONG_CODE = "This code is not correct, or it has been used already."


@pytest.fixture
def peru(app):
    """The accounts need institutions, not the whole plan."""
    seed_light_peru(app)


class FrozenNow:
    """The second factor's clock, in the middle of a 30-second step, moved on demand."""

    def __init__(self):
        self.moment = datetime(2026, 12, 1, 10, 0, 15, tzinfo=timezone.utc)

    def __call__(self) -> datetime:
        return self.moment

    def advance(self, seconds: float) -> None:
        self.moment += timedelta(seconds=seconds)

    def code(self, secret: str, steps: int = 0) -> str:
        """The code an app shows now (steps=0), or that many 30-second steps away."""
        return pyotp.TOTP(secret).at(self.moment + timedelta(seconds=30 * steps))


@pytest.fixture
def now(monkeypatch):
    frozen = FrozenNow()
    monkeypatch.setattr(two_factor, "utcnow", frozen)
    return frozen


# -- helpers --------------------------------------------------------------------------------------


def user_by_email(email: str) -> User:
    return db.session.scalars(sa.select(User).filter_by(email=email)).one()


def credential(app, email: str) -> TotpCredential | None:
    with app.app_context():
        return db.session.get(TotpCredential, user_by_email(email).id)


def recovery_rows(app, email: str) -> list[RecoveryCode]:
    with app.app_context():
        return list(db.session.scalars(sa.select(RecoveryCode).filter_by(user_id=user_by_email(email).id)))


def enrolled(app, now: FrozenNow, email: str) -> tuple[str, list[str]]:
    """Turn the second factor on for `email` (with the previous step's code); return the secret and recovery codes."""
    with app.test_request_context():
        user = user_by_email(email)
        secret = two_factor.pending_enrolment(db.session, user).secret
        codes = two_factor.confirm_enrolment(db.session, user, now.code(secret, steps=-1))
        db.session.commit()
    return secret, codes


def password_step(app, email: str, next_url: str = "") -> tuple[Client, object]:
    c = new_client(app)
    response = c.post_form(f"/login{next_url}", {"email": email, "password": PASSWORD}, token_from="/login")
    return c, response


def enter_code(c: Client, code: str):
    return c.post_form("/login/code", {"code": code})


def field_error(response) -> str:
    match = re.search(r'class="invalid-feedback[^"]*"[^>]*>(.*?)</div>', response.get_data(as_text=True), re.S)
    return html.unescape(match.group(1)).strip() if match else ""


def is_refused(response) -> bool:
    return response.status_code == 302 and location(response).startswith("/login")


def login_with_2fa(app, now, email: str, secret: str) -> Client:
    c, _ = password_step(app, email)
    assert enter_code(c, now.code(secret)).status_code == 302
    return c


# -- enrolment ------------------------------------------------------------------------------------


def test_setup_page_shows_a_qr_code_and_the_secret(app, login_as):
    c = login_as(Role.viewer)
    page = c.get("/account/two-factor")
    assert page.status_code == 200
    body = page.get_data(as_text=True)
    assert re.search(r'<img src="data:image/svg\+xml[^"]+" alt="[^"]+"', body)
    secret = credential(app, "viewer-none@example.org").secret
    assert two_factor.grouped_secret(secret) in body
    assert credential(app, "viewer-none@example.org").confirmed_at is None
    assert "<script" not in body.split("<main")[1].split("</main>")[0] and " style=" not in body


def test_setup_page_keeps_the_same_secret_until_confirmed(app, login_as):
    c = login_as(Role.viewer)
    c.get("/account/two-factor")
    first = credential(app, "viewer-none@example.org").secret
    c.get("/account/two-factor")
    assert credential(app, "viewer-none@example.org").secret == first


def test_enrolment_with_a_current_code_turns_it_on_and_shows_ten_recovery_codes(app, login_as, now):
    c = login_as(Role.viewer)
    c.get("/account/two-factor")
    secret = credential(app, "viewer-none@example.org").secret
    response = c.post_form("/account/two-factor", {"password": PASSWORD, "code": now.code(secret)})
    assert response.status_code == 200
    shown = re.findall(r"<li>([a-z0-9]{5}-[a-z0-9]{5})</li>", response.get_data(as_text=True))
    assert len(set(shown)) == 10
    assert credential(app, "viewer-none@example.org").confirmed_at is not None
    stored = [r.code_hash for r in recovery_rows(app, "viewer-none@example.org")]
    assert len(stored) == 10 and not set(shown) & set(stored)
    assert [e.action for e in events(app, "two_factor.enabled")] == ["two_factor.enabled"]


@pytest.mark.parametrize("code", ["000000", "12345", "abcdef", "1" * 40, " "])
def test_enrolment_with_a_wrong_code_is_refused_and_stays_off(app, login_as, now, code):
    c = login_as(Role.viewer)
    c.get("/account/two-factor")
    response = c.post_form("/account/two-factor", {"password": PASSWORD, "code": code})
    assert response.status_code == 400
    assert 'name="code"' in response.get_data(as_text=True)
    assert credential(app, "viewer-none@example.org").confirmed_at is None
    assert recovery_rows(app, "viewer-none@example.org") == []


def test_enrolment_with_a_wrong_code_says_so(app, login_as, now):
    c = login_as(Role.viewer)
    c.get("/account/two-factor")
    response = c.post_form("/account/two-factor", {"password": PASSWORD, "code": "000000"})
    assert field_error(response) == translated(app, "This code is not correct. Enter the code your app shows now.")


def test_enrolment_needs_the_password(app, login_as, now):
    """A browser left logged in cannot be bound to someone else's phone."""
    c = login_as(Role.viewer)
    c.get("/account/two-factor")
    secret = credential(app, "viewer-none@example.org").secret
    response = c.post_form("/account/two-factor", {"password": "not-the-password", "code": now.code(secret)})
    assert response.status_code == 400
    assert translated(app, "The password is not correct.") in response.get_data(as_text=True)
    assert credential(app, "viewer-none@example.org").confirmed_at is None


def test_account_page_says_whether_two_step_verification_is_on(app, make_user, now):
    _, email = make_user(Role.viewer)
    c = new_client(app)
    c.login(email)
    assert translated(app, "Off") in text(c.get("/account"))
    secret, _ = enrolled(app, now, email)
    c = login_with_2fa(app, now, email, secret)
    assert translated(app, "On") in text(c.get("/account"))


# -- login ----------------------------------------------------------------------------------------


def test_the_password_alone_does_not_log_in(app, make_user, now):
    _, email = make_user(Role.viewer)
    enrolled(app, now, email)
    c, response = password_step(app, email)
    assert response.status_code == 302 and location(response) == "/login/code"
    assert is_refused(c.get("/plans/"))
    with c.session_transaction() as sess:
        assert "_user_id" not in sess
    with app.app_context():
        assert db.session.scalars(sa.select(UserSession)).all() == []


def test_a_current_code_completes_the_login(app, make_user, now):
    _, email = make_user(Role.viewer)
    secret, _ = enrolled(app, now, email)
    c, _ = password_step(app, email)
    assert c.get("/login/code").status_code == 200
    response = enter_code(c, now.code(secret))
    assert response.status_code == 302 and location(response) == "/"
    assert c.get("/plans/").status_code == 200
    assert [e.action for e in events(app, "login.second_factor_passed")] == ["login.second_factor_passed"]


def test_the_login_succeeds_in_the_audit_log_only_after_the_code(app, make_user, now):
    _, email = make_user(Role.viewer)
    secret, _ = enrolled(app, now, email)
    c, _ = password_step(app, email)
    assert len(events(app, "login.password_accepted")) == 1 and events(app, "login.succeeded") == []
    enter_code(c, now.code(secret))
    assert len(events(app, "login.succeeded")) == 1


def test_the_code_step_keeps_the_next_page(app, make_user, now):
    _, email = make_user(Role.viewer)
    secret, _ = enrolled(app, now, email)
    c, _ = password_step(app, email, next_url="?next=/plans/PE-2021")
    response = enter_code(c, now.code(secret))
    assert location(response) == "/plans/PE-2021"


@pytest.mark.parametrize("steps", [-1, 1])
def test_a_code_one_step_away_is_accepted(app, make_user, now, steps):
    _, email = make_user(Role.viewer)
    secret, _ = enrolled(app, now, email)
    now.advance(60)  # the enrolment used the step before; step -1 is now unused
    c, _ = password_step(app, email)
    assert enter_code(c, now.code(secret, steps)).status_code == 302


def test_a_code_two_steps_away_is_refused(app, make_user, now):
    _, email = make_user(Role.viewer)
    secret, _ = enrolled(app, now, email)
    c, _ = password_step(app, email)
    assert enter_code(c, now.code(secret, 2)).status_code == 401


def test_a_wrong_code_is_refused_with_a_message(app, make_user, now):
    _, email = make_user(Role.viewer)
    enrolled(app, now, email)
    c, _ = password_step(app, email)
    response = enter_code(c, "000000")
    assert response.status_code == 401
    assert field_error(response) == translated(app, WRONG_CODE)
    assert is_refused(c.get("/plans/"))
    assert [e.action for e in events(app, "login.second_factor_failed")] == ["login.second_factor_failed"]


@pytest.mark.parametrize("code", ["", "x" * 500, "12 34 56 78", "<script>", "ñandú-1"])
def test_malformed_codes_never_break_the_page(app, make_user, now, code):
    _, email = make_user(Role.viewer)
    enrolled(app, now, email)
    c, _ = password_step(app, email)
    assert enter_code(c, code).status_code in (400, 401)


def test_a_code_cannot_be_used_twice(app, make_user, now):
    _, email = make_user(Role.viewer)
    secret, _ = enrolled(app, now, email)
    code = now.code(secret)
    first, _ = password_step(app, email)
    assert enter_code(first, code).status_code == 302
    second, _ = password_step(app, email)
    response = enter_code(second, code)
    assert response.status_code == 401
    assert field_error(response) == translated(app, WRONG_CODE)


def test_wrong_codes_count_toward_the_login_throttling(app, make_user, now):
    _, email = make_user(Role.viewer)
    secret, _ = enrolled(app, now, email)
    (limit,) = parse_many(app.config["LOGIN_LIMIT_PER_ACCOUNT"])
    c, _ = password_step(app, email)
    assert [enter_code(c, "000000").status_code for _ in range(limit.amount)] == [401] * limit.amount
    response = enter_code(c, now.code(secret))  # the right code
    assert response.status_code == 429
    assert is_refused(c.get("/plans/"))
    assert new_client(app).login(email).status_code == 429  # the password step is locked too


def test_the_code_step_expires(app, make_user, now):
    _, email = make_user(Role.viewer)
    secret, _ = enrolled(app, now, email)
    c, _ = password_step(app, email)
    token = c.csrf_token("/login/code")
    with c.session_transaction() as sess:
        sess[two_factor.PENDING_KEY] = {**sess[two_factor.PENDING_KEY],
                                        "started": sess[two_factor.PENDING_KEY]["started"] - 301}
    response = c.post("/login/code", data={"code": now.code(secret), "csrf_token": token})
    assert response.status_code == 302 and location(response) == "/login"
    assert translated(app, "The time to enter the code has run out. Please log in again.") in text(c.get("/login"))
    assert is_refused(c.get("/plans/"))


def test_the_code_page_without_a_password_step_goes_to_login(client, peru):
    response = client.get("/login/code")
    assert response.status_code == 302 and location(response) == "/login"
    assert client.post("/login/code", data={"code": "123456"}).status_code in (302, 400)


def test_a_recovery_code_logs_in_once(app, make_user, now):
    user_id, email = make_user(Role.viewer)
    _, codes = enrolled(app, now, email)
    first, _ = password_step(app, email)
    assert enter_code(first, codes[3].upper().replace("-", " ")).status_code == 302  # as people type it
    assert first.get("/plans/").status_code == 200
    second, _ = password_step(app, email)
    assert enter_code(second, codes[3]).status_code == 401
    (event,) = events(app, "two_factor.recovery_code_used")
    assert (event.actor_id, event.details_dict) == (user_id, {"remaining": 9})
    assert sum(r.used_at is not None for r in recovery_rows(app, email)) == 1


def test_another_accounts_recovery_code_does_not_work(app, make_user, now):
    _, email = make_user(Role.viewer)
    _, other = make_user(Role.committee)
    enrolled(app, now, email)
    _, other_codes = enrolled(app, now, other)
    c, _ = password_step(app, email)
    assert enter_code(c, other_codes[0]).status_code == 401


# -- required roles -------------------------------------------------------------------------------


@pytest.fixture
def committee_requires_2fa(app, monkeypatch):
    monkeypatch.setitem(app.config, "REQUIRE_2FA_ROLES", frozenset({"committee", "admin"}))


def test_a_required_role_without_2fa_is_sent_to_the_setup_after_login(app, make_user, committee_requires_2fa):
    _, email = make_user(Role.committee)
    response = new_client(app).login(email)
    assert response.status_code == 302 and location(response) == "/account/two-factor"


@pytest.mark.parametrize("path", ["/", "/plans/", "/account", "/account/password", "/review"])
def test_a_required_role_without_2fa_reaches_nothing_else(app, make_user, committee_requires_2fa, path):
    _, email = make_user(Role.committee)
    c = new_client(app)
    c.login(email)
    response = c.get(path)
    assert response.status_code == 302 and location(response) == "/account/two-factor"


def test_a_required_role_without_2fa_can_still_log_out(app, make_user, committee_requires_2fa):
    _, email = make_user(Role.committee)
    c = new_client(app)
    c.login(email)
    response = c.post_form("/logout", token_from="/account/two-factor")
    assert response.status_code == 302 and location(response) == "/login"


def test_a_required_role_reaches_pages_once_enrolled(app, make_user, committee_requires_2fa, now):
    _, email = make_user(Role.committee)
    c = new_client(app)
    c.login(email)
    c.get("/account/two-factor")
    secret = credential(app, email).secret
    assert c.post_form("/account/two-factor", {"password": PASSWORD, "code": now.code(secret)}).status_code == 200
    assert c.get("/plans/").status_code == 200


def test_roles_not_listed_are_not_gated(app, make_user, committee_requires_2fa):
    _, email = make_user(Role.viewer)
    c = new_client(app)
    assert location(c.login(email)) == "/"
    assert c.get("/plans/").status_code == 200


def test_a_required_role_cannot_turn_it_off(app, make_user, committee_requires_2fa, now):
    _, email = make_user(Role.committee)
    secret, _ = enrolled(app, now, email)
    c = login_with_2fa(app, now, email, secret)
    page = text(c.get("/account/two-factor"))
    assert translated(app, "Your role requires two-step verification, so it cannot be turned off.") in page
    response = c.post_form("/account/two-factor/disable", {"password": PASSWORD, "code": now.code(secret, 1)},
                           token_from="/account")
    assert response.status_code == 400
    assert credential(app, email) is not None


# -- turning it off -------------------------------------------------------------------------------


def disable(c: Client, password: str, code: str):
    return c.post_form("/account/two-factor/disable", {"password": password, "code": code}, token_from="/account")


def test_turning_it_off_needs_the_password(app, make_user, now):
    _, email = make_user(Role.viewer)
    secret, _ = enrolled(app, now, email)
    c = login_with_2fa(app, now, email, secret)
    response = disable(c, "Wrong-password-123", now.code(secret, 1))
    assert response.status_code == 400
    assert translated(app, "The password is not correct.") in text(response)
    assert credential(app, email) is not None


def test_turning_it_off_needs_a_code(app, make_user, now):
    _, email = make_user(Role.viewer)
    secret, _ = enrolled(app, now, email)
    c = login_with_2fa(app, now, email, secret)
    response = disable(c, PASSWORD, "000000")
    assert response.status_code == 400
    assert translated(app, "This code is not correct.") in text(response)
    assert credential(app, email) is not None


def test_turning_it_off_with_password_and_code(app, make_user, now):
    _, email = make_user(Role.viewer)
    secret, _ = enrolled(app, now, email)
    c = login_with_2fa(app, now, email, secret)
    response = disable(c, PASSWORD, now.code(secret, 1))
    assert response.status_code == 302 and location(response) == "/account"
    assert credential(app, email) is None and recovery_rows(app, email) == []
    assert [e.action for e in events(app, "two_factor.disabled")] == ["two_factor.disabled"]
    assert location(new_client(app).login(email)) == "/"  # the password alone logs in again


def test_turning_it_off_with_an_empty_form_is_a_bad_request(app, make_user, now):
    _, email = make_user(Role.viewer)
    secret, _ = enrolled(app, now, email)
    c = login_with_2fa(app, now, email, secret)
    assert disable(c, "", "").status_code == 400
    assert credential(app, email) is not None


def test_an_admin_reset_removes_the_second_factor(app, make_user, now):
    _, email = make_user(Role.viewer)
    enrolled(app, now, email)
    with app.test_request_context():
        two_factor.reset_for(db.session, user_by_email(email), actor=None)
        db.session.commit()
    assert credential(app, email) is None and recovery_rows(app, email) == []
    assert [e.action for e in events(app, "two_factor.reset")] == ["two_factor.reset"]
    assert location(new_client(app).login(email)) == "/"


def test_the_cli_removes_a_lost_second_factor(app, make_user, now):
    _, email = make_user(Role.viewer)
    enrolled(app, now, email)
    runner = app.test_cli_runner()
    result = runner.invoke(args=["users", "reset-2fa", email])
    assert result.exit_code == 0, result.output
    assert events(app, "two_factor.reset")
    with app.app_context():
        assert not user_by_email(email).two_factor_enabled
        assert db.session.scalars(sa.select(RecoveryCode)).all() == []
    again = runner.invoke(args=["users", "reset-2fa", email])
    assert again.exit_code == 1 and again.output.strip() == f"Error: {email} has no second factor"
