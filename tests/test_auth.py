"""Login, logout, passwords, sessions, throttling, audit of logins, language preference (issue 3)."""

from __future__ import annotations

import html
import re
import time

import limits.storage.memory
import pytest
import sqlalchemy as sa
from flask_babel import force_locale, ngettext
from flask_babel import lazy_gettext as _l
from limits import parse_many

import tracker.auth.throttle
from conftest import PASSWORD, Client
from tracker.audit import AuditEvent
from tracker.auth import services as accounts
from tracker.auth.models import Role, User
from tracker.db import db

ROLES = list(Role)
NEW_PASSWORD = "Violet-Lantern-Orbit-Quarry-77"
REFUSED = "The e-mail or the password is not correct."


# -- a light world: the accounts tests need institutions, not the whole plan -----------------------

LIGHT_INSTITUTIONS = [  # code, kind, part of
    ("MINDEF", "ministry", None), ("CCFFAA", "armed_forces", "MINDEF"), ("EP", "armed_forces", "MINDEF"),
    ("MGP", "armed_forces", "MINDEF"), ("FAP", "armed_forces", "MINDEF"), ("CIG-MINDEF", "committee", "MINDEF"),
]


def seed_light_peru(app) -> None:
    """Peru, the defence institutions the accounts use, and a bare plan PE-2021 with its monitoring body (the
    committee sits on it); the full plan seed costs a second per test."""
    from tracker.plan.models import Country, Institution, InstitutionKind, MonitoringBody, Plan, Verification

    with app.app_context():
        peru = Country(iso_code="PE", name_es="Perú", name_en="Peru", timezone="America/Lima", currency="PEN",
                       locale="es_PE")
        db.session.add(peru)
        db.session.flush()
        made: dict[str, Institution] = {}
        for code, kind, parent in LIGHT_INSTITUTIONS:
            made[code] = Institution(country_id=peru.id, code=code, name_es=f"{code} (es)", name_en=f"{code} (en)",
                                     kind=InstitutionKind(kind), parent=made.get(parent))
            db.session.add(made[code])
        plan = Plan(country_id=peru.id, code="PE-2021", title_es="Plan (es)", title_en="Plan (en)",
                    source_document="test", verification=Verification.summary)
        db.session.add(plan)
        db.session.flush()
        db.session.add(MonitoringBody(plan_id=plan.id, code="CIG-MINDEF", name_es="Comité (es)", name_en="Committee (en)"))
        db.session.commit()


@pytest.fixture
def peru(app):
    """Overrides conftest's `peru` (and so make_user and login_as) in this module."""
    seed_light_peru(app)


# -- helpers ------------------------------------------------------------------------------------


def text(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def form_errors(response) -> str:
    """The form-level error box of a page (the part that must not differ between refusals)."""
    match = re.search(r'<div class="alert alert-danger" role="alert">(.*?)</div>', response.get_data(as_text=True), re.S)
    return html.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", match.group(1)))).strip() if match else ""


def location(response) -> str:
    return response.headers.get("Location", "")


def user_row(app, email: str) -> User:
    with app.app_context():
        return db.session.scalars(sa.select(User).filter_by(email=email)).one()


def events(app, action: str | None = None) -> list[AuditEvent]:
    with app.app_context():
        query = sa.select(AuditEvent).order_by(AuditEvent.id)
        if action:
            query = query.filter_by(action=action)
        return list(db.session.scalars(query))


def translated(app, message, language: str = "es", **kw) -> str:
    """The message as the app shows it in `language` (whatever the catalogs hold)."""
    with app.test_request_context(), force_locale(language):
        return str(_l(message, **kw))


def new_client(app, address: str | None = None) -> Client:
    """A fresh browser; `address` sets the client's IP address (REMOTE_ADDR)."""
    flask_client = app.test_client()
    if address:
        flask_client.environ_base["REMOTE_ADDR"] = address
    return Client(flask_client)


def change_password(c: Client, current: str, new: str, confirm: str | None = None):
    return c.post_form("/account/password", {"current_password": current, "password": new,
                                             "confirm": new if confirm is None else confirm})


class FakeClock:
    """Stands in for the `time` module of the rate-limit storage and of the throttle: time passes on demand."""

    def __init__(self):
        self.offset = 0.0

    def time(self) -> float:
        return time.time() + self.offset

    def advance(self, seconds: float) -> None:
        self.offset += seconds


@pytest.fixture
def clock(monkeypatch):
    fake = FakeClock()
    monkeypatch.setattr(limits.storage.memory, "time", fake)
    monkeypatch.setattr(tracker.auth.throttle, "time", fake)
    return fake


def account_limit(app):
    (item,) = parse_many(app.config["LOGIN_LIMIT_PER_ACCOUNT"])
    return item


def address_limit(app):
    (item,) = parse_many(app.config["LOGIN_LIMIT_PER_ADDRESS"])
    return item


# -- login ----------------------------------------------------------------------------------------


def test_login_page_renders_a_form_with_a_csrf_token(client):
    response = client.get("/login")
    assert response.status_code == 200
    assert 'name="csrf_token"' in response.get_data(as_text=True)
    assert 'name="password"' in response.get_data(as_text=True)


@pytest.mark.parametrize("role", ROLES)
def test_login_success_redirects_home_and_starts_a_session(app, client, make_user, role):
    user_id, email = make_user(role)
    response = client.login(email)
    assert response.status_code == 302
    assert location(response) == "/"
    with client.session_transaction() as sess:
        assert sess["_user_id"].split(":")[0] == str(user_id)
    assert client.get("/plans/").status_code == 200


def test_login_is_case_insensitive_on_the_email(client, make_user):
    _, email = make_user(Role.viewer)
    assert client.login(email.upper()).status_code == 302


def test_login_follows_a_local_next_url(client, make_user):
    _, email = make_user(Role.viewer)
    response = client.post_form("/login?next=/plans/PE-2021", {"email": email, "password": PASSWORD}, token_from="/login")
    assert response.status_code == 302
    assert location(response) == "/plans/PE-2021"


def test_login_records_the_time_of_the_last_login(app, client, make_user):
    _, email = make_user(Role.viewer)
    assert user_row(app, email).last_login_at is None
    client.login(email)
    assert user_row(app, email).last_login_at is not None


def test_anonymous_page_request_redirects_to_login_with_next(client, peru):
    response = client.get("/plans/PE-2021")
    assert response.status_code == 302
    assert location(response).startswith("/login?next=")
    assert "%2Fplans%2FPE-2021" in location(response) or "/plans/PE-2021" in location(response)


def test_wrong_password_is_refused_with_401(app, client, make_user):
    _, email = make_user(Role.reporter)
    response = client.login(email, "Not-The-Password-123")
    assert response.status_code == 401
    assert form_errors(response) == translated(app, REFUSED)
    with client.session_transaction() as sess:
        assert "_user_id" not in sess


def test_wrong_password_and_unknown_account_get_the_same_answer(app, make_user):
    _, email = make_user(Role.reporter)
    wrong = new_client(app).login(email, "Not-The-Password-123")
    unknown = new_client(app).login("nobody@example.org", "Not-The-Password-123")
    assert wrong.status_code == unknown.status_code == 401
    assert form_errors(wrong) == form_errors(unknown) == translated(app, REFUSED)


def test_deactivated_account_cannot_log_in_and_gets_the_same_message(app, client, make_user):
    user_id, email = make_user(Role.committee)
    with app.test_request_context():
        accounts.set_active(db.session, db.session.get(User, user_id), False, actor=None)
        db.session.commit()
    response = client.login(email)  # the right password
    assert response.status_code == 401
    assert form_errors(response) == translated(app, REFUSED)
    with client.session_transaction() as sess:
        assert "_user_id" not in sess


def test_login_with_an_empty_form_is_a_bad_request(client):
    response = client.post_form("/login", {"email": "", "password": ""})
    assert response.status_code == 400


def test_logged_in_user_visiting_login_goes_home(login_as):
    c = login_as(Role.viewer)
    response = c.get("/login")
    assert response.status_code == 302
    assert location(response) == "/"


# -- logout ---------------------------------------------------------------------------------------


def test_logout_by_get_is_not_allowed(login_as):
    c = login_as(Role.reporter)
    assert c.get("/logout").status_code == 405
    assert c.get("/plans/").status_code == 200  # still logged in


def test_logout_without_csrf_token_is_refused(login_as):
    c = login_as(Role.reporter)
    assert c.post("/logout").status_code == 400
    assert c.get("/plans/").status_code == 200  # still logged in


def test_logout_with_csrf_token_ends_the_session(app, login_as):
    c = login_as(Role.reporter)
    response = c.post_form("/logout", token_from="/account/password")
    assert response.status_code == 302
    assert location(response) == "/login"
    page = c.get("/plans/")
    assert page.status_code == 302 and location(page).startswith("/login")
    assert [e.action for e in events(app, "logout")] == ["logout"]


# -- password rules -------------------------------------------------------------------------------

WEAK_PASSWORDS = [
    ("Short-pw-9", "Use at least %(n)d characters.", {"n": 12}),
    ("password1234", "This password is on the list of common passwords. Choose another.", {}),
    ("123qweasdzxc", "This password is on the list of common passwords. Choose another.", {}),
    ("abcabcabcabc", "This password is too easy to guess. Mix several unrelated words, numbers or symbols.", {}),
    ("111111111111", "This password is too easy to guess. Mix several unrelated words, numbers or symbols.", {}),
]


@pytest.mark.parametrize(("password", "message", "params"), WEAK_PASSWORDS, ids=[p for p, *_ in WEAK_PASSWORDS])
def test_weak_new_password_is_refused_with_the_translated_message(app, login_as, password, message, params):
    c = login_as(Role.reporter)
    before = user_row(app, "reporter-mgp@example.org").password_hash
    response = change_password(c, PASSWORD, password)
    assert response.status_code == 400
    assert translated(app, message, "es", **params) in text(response)
    assert user_row(app, "reporter-mgp@example.org").password_hash == before


@pytest.mark.parametrize(("password", "message", "params"), WEAK_PASSWORDS[:2], ids=[p for p, *_ in WEAK_PASSWORDS[:2]])
def test_weak_password_message_follows_the_user_language(app, login_as, password, message, params):
    c = login_as(Role.reporter)
    c.post_form("/language/en", token_from="/account/password")
    response = change_password(c, PASSWORD, password)
    assert 'lang="en"' in response.get_data(as_text=True)
    assert message % params in text(response)


def test_password_rules_apply_to_the_service_too(ctx, peru):
    data = accounts.UserInput(email="x@example.org", name="X", role=Role.viewer)
    for password, message, params in WEAK_PASSWORDS:
        with pytest.raises(accounts.ValidationFailed) as exc:
            accounts.create_user(db.session, data, password)
        assert exc.value.errors[0][0] == "password"


def test_password_containing_the_users_email_is_too_guessable(ctx, peru):
    data = accounts.UserInput(email="gabriela.quispe@example.org", name="Gabriela Quispe", role=Role.viewer)
    with pytest.raises(accounts.ValidationFailed):
        accounts.create_user(db.session, data, "quispegabriela")


# -- changing one's password ----------------------------------------------------------------------


def test_change_password_requires_the_current_one(app, login_as):
    c = login_as(Role.viewer)
    before = user_row(app, "viewer-none@example.org").password_hash
    response = change_password(c, "Wrong-current-password-1", NEW_PASSWORD)
    assert response.status_code == 400
    assert translated(app, "The current password is not correct.") in text(response)
    assert user_row(app, "viewer-none@example.org").password_hash == before


def test_change_password_requires_matching_confirmation(app, login_as):
    c = login_as(Role.viewer)
    before = user_row(app, "viewer-none@example.org").password_hash
    response = change_password(c, PASSWORD, NEW_PASSWORD, confirm=NEW_PASSWORD + "x")
    assert response.status_code == 400
    assert translated(app, "The two passwords do not match.") in text(response)
    assert user_row(app, "viewer-none@example.org").password_hash == before


def test_change_password_stores_a_new_hash_and_the_new_password_works(app, login_as):
    c = login_as(Role.viewer)
    response = change_password(c, PASSWORD, NEW_PASSWORD)
    assert response.status_code == 302
    row = user_row(app, "viewer-none@example.org")
    assert row.password_hash.startswith("$argon2")
    assert row.password_changed_at is not None
    assert new_client(app).login("viewer-none@example.org", PASSWORD).status_code == 401
    assert new_client(app).login("viewer-none@example.org", NEW_PASSWORD).status_code == 302
    assert [e.action for e in events(app, "user.password_changed")] == ["user.password_changed"]


def test_the_session_that_changed_the_password_stays_logged_in(login_as):
    c = login_as(Role.viewer)
    assert change_password(c, PASSWORD, NEW_PASSWORD).status_code == 302
    assert c.get("/plans/").status_code == 200


def test_other_sessions_end_when_the_password_changes(app, make_user):
    _, email = make_user(Role.reporter)
    first, second = new_client(app), new_client(app)
    assert first.login(email).status_code == 302
    assert second.login(email).status_code == 302
    assert change_password(first, PASSWORD, NEW_PASSWORD).status_code == 302
    page = second.get("/plans/")
    assert page.status_code == 302 and location(page).startswith("/login")


def test_sessions_end_when_the_account_is_deactivated(app, make_user):
    user_id, email = make_user(Role.reporter)
    c = new_client(app)
    assert c.login(email).status_code == 302
    with app.test_request_context():
        accounts.set_active(db.session, db.session.get(User, user_id), False, actor=None)
        db.session.commit()
    page = c.get("/plans/")
    assert page.status_code == 302 and location(page).startswith("/login")


def test_sessions_end_when_an_admin_resets_the_password(app, make_user):
    user_id, email = make_user(Role.reporter)
    c = new_client(app)
    assert c.login(email).status_code == 302
    with app.test_request_context():
        accounts.reset_password(db.session, db.session.get(User, user_id), NEW_PASSWORD, actor=None)
        db.session.commit()
    page = c.get("/plans/")
    assert page.status_code == 302 and location(page).startswith("/login")


def test_a_forged_session_with_a_stale_token_is_not_accepted(app, client, make_user):
    user_id, _ = make_user(Role.admin)
    with client.session_transaction() as sess:
        sess["_user_id"] = f"{user_id}:not-the-token"
        sess["_fresh"] = True
    page = client.get("/admin/users")
    assert page.status_code == 302 and location(page).startswith("/login")


# -- a password set by someone else must be changed -----------------------------------------------


@pytest.mark.parametrize("role", ROLES)
def test_must_change_password_login_goes_to_the_password_page(app, make_user, role):
    _, email = make_user(role, must_change=True)
    response = new_client(app).login(email)
    assert response.status_code == 302
    assert location(response) == "/account/password"


@pytest.mark.parametrize("path", ["/", "/plans/", "/plans/PE-2021", "/admin/users", "/login"])
def test_must_change_password_every_page_redirects_to_the_password_page(app, make_user, path):
    _, email = make_user(Role.admin, must_change=True)
    c = new_client(app)
    c.login(email)
    response = c.get(path)
    if path == "/login":  # logged in already: sent home, which sends to the password page
        response = c.get(location(response))
    assert response.status_code == 302
    assert location(response) == "/account/password"


def test_must_change_password_page_explains_why(app, make_user):
    _, email = make_user(Role.reporter, must_change=True)
    c = new_client(app)
    c.login(email)
    page = c.get("/account/password")
    assert page.status_code == 200
    assert translated(app, "Your password was set by an administrator. Choose your own before you continue.") in text(page)


def test_must_change_password_user_can_still_log_out(app, make_user):
    _, email = make_user(Role.reporter, must_change=True)
    c = new_client(app)
    c.login(email)
    response = c.post_form("/logout", token_from="/account/password")
    assert response.status_code == 302 and location(response) == "/login"


def test_must_change_password_cleared_after_change_then_pages_open(app, make_user):
    _, email = make_user(Role.reporter, must_change=True)
    c = new_client(app)
    c.login(email)
    response = change_password(c, PASSWORD, NEW_PASSWORD)
    assert response.status_code == 302
    assert user_row(app, email).must_change_password is False
    assert c.get("/plans/").status_code == 200
    assert c.get("/account/password").status_code == 200


def test_must_change_password_cannot_reuse_the_temporary_password(app, make_user):
    _, email = make_user(Role.reporter, must_change=True)
    c = new_client(app)
    c.login(email)
    response = change_password(c, PASSWORD, PASSWORD)
    assert response.status_code == 400
    assert translated(app, "Choose a password different from the current one.") in text(response)
    assert user_row(app, email).must_change_password is True


# -- throttling -----------------------------------------------------------------------------------


def fail_logins(c: Client, email: str, times: int) -> list[int]:
    return [c.login(email, f"Wrong-password-{i}-xyz").status_code for i in range(times)]


def test_default_throttling_setting_is_five_per_fifteen_minutes(app):
    item = account_limit(app)
    assert (item.amount, item.get_expiry()) == (5, 15 * 60)


def test_failed_logins_up_to_the_limit_are_answered_normally(app, client, make_user, clock):
    _, email = make_user(Role.reporter)
    assert fail_logins(client, email, account_limit(app).amount) == [401] * account_limit(app).amount


def test_throttling_refuses_even_the_right_password_with_429(app, client, make_user, clock):
    _, email = make_user(Role.reporter)
    fail_logins(client, email, account_limit(app).amount)
    response = client.login(email)  # the right password
    assert response.status_code == 429
    minutes = account_limit(app).get_expiry() // 60
    with app.test_request_context(), force_locale("es"):
        expected = ngettext("Too many failed attempts. Try again in %(num)d minute.",
                            "Too many failed attempts. Try again in %(num)d minutes.", minutes)
    assert expected in text(response)
    with client.session_transaction() as sess:
        assert "_user_id" not in sess


def test_throttling_message_counts_down_the_wait(app, client, make_user, clock):
    _, email = make_user(Role.reporter)
    fail_logins(client, email, account_limit(app).amount)
    clock.advance(account_limit(app).get_expiry() - 60 * 4 - 30)  # 4 min 30 s left
    response = client.login(email)
    assert response.status_code == 429
    c = new_client(app)
    c.post_form("/language/en")
    response = c.login(email)
    assert response.status_code == 429
    assert "Try again in 5 minutes." in text(response)


def test_throttling_says_one_minute_in_the_singular(app, client, make_user, clock):
    _, email = make_user(Role.reporter)
    fail_logins(client, email, account_limit(app).amount)
    clock.advance(account_limit(app).get_expiry() - 20)
    client.post_form("/language/en")
    response = client.login(email)
    assert response.status_code == 429
    assert "Try again in 1 minute." in text(response)


def test_throttling_is_audited(app, client, make_user, clock):
    _, email = make_user(Role.reporter)
    fail_logins(client, email, account_limit(app).amount)
    client.login(email)
    throttled = events(app, "login.throttled")
    assert len(throttled) == 1
    assert throttled[0].actor_email == email


def test_throttling_of_one_account_does_not_affect_another_from_another_address(app, client, make_user, clock):
    _, email = make_user(Role.reporter)
    _, other = make_user(Role.committee)
    fail_logins(client, email, account_limit(app).amount)
    assert client.login(email).status_code == 429
    elsewhere = new_client(app, address="198.51.100.7")
    assert elsewhere.login(other).status_code == 302


def test_throttled_account_stays_refused_from_another_address(app, client, make_user, clock):
    _, email = make_user(Role.reporter)
    fail_logins(client, email, account_limit(app).amount)
    elsewhere = new_client(app, address="198.51.100.7")
    assert elsewhere.login(email).status_code == 429


def test_throttling_per_address_refuses_every_account_from_that_address(app, make_user, clock):
    _, victim = make_user(Role.committee)
    attacker = new_client(app, address="203.0.113.9")
    per_account = account_limit(app).amount
    emails = [f"guess{i}@example.org" for i in range(address_limit(app).amount)]
    for email in emails:  # spread over accounts so that no account limit is reached
        assert attacker.login(email, "Wrong-password-xyz-1").status_code == 401
    assert len(emails) // len(set(emails)) < per_account
    assert attacker.login(victim).status_code == 429
    assert new_client(app).login(victim).status_code == 302  # the owner, from their own address


def test_throttling_releases_after_the_window(app, client, make_user, clock):
    _, email = make_user(Role.reporter)
    fail_logins(client, email, account_limit(app).amount)
    assert client.login(email).status_code == 429
    clock.advance(account_limit(app).get_expiry() + 1)
    response = client.login(email)
    assert response.status_code == 302
    assert location(response) == "/"


def test_successful_logins_do_not_count_towards_throttling(app, make_user, clock):
    _, email = make_user(Role.reporter)
    for _ in range(account_limit(app).amount + 1):
        assert new_client(app).login(email).status_code == 302


# -- audit of logins ------------------------------------------------------------------------------


def test_successful_login_is_audited_with_the_address(app, make_user):
    user_id, email = make_user(Role.viewer)
    c = new_client(app, address="192.0.2.44")
    assert c.login(email).status_code == 302
    (event,) = events(app, "login.succeeded")
    assert (event.actor_id, event.actor_email, event.address) == (user_id, email, "192.0.2.44")


def test_failed_login_is_audited_with_the_address_and_the_reason(app, make_user):
    user_id, email = make_user(Role.viewer)
    c = new_client(app, address="192.0.2.45")
    c.login(email, "Wrong-password-xyz-1")
    (event,) = events(app, "login.failed")
    assert (event.actor_id, event.actor_email, event.address) == (user_id, email, "192.0.2.45")
    assert event.details_dict == {"reason": "wrong password"}


def test_failed_login_of_an_unknown_account_is_audited_with_the_typed_email(app, client, peru):
    client.login("Nobody@Example.org", "Wrong-password-xyz-1")
    (event,) = events(app, "login.failed")
    assert (event.actor_id, event.actor_email, event.address) == (None, "nobody@example.org", "127.0.0.1")
    assert event.details_dict == {"reason": "unknown account"}


def test_failed_login_does_not_store_the_typed_password(app, client, make_user):
    _, email = make_user(Role.viewer)
    client.login(email, "Secret-typo-Password-9")
    for event in events(app):
        assert "Secret-typo-Password-9" not in event.details


# -- language -------------------------------------------------------------------------------------


def test_pages_are_in_spanish_by_default(app, login_as):
    c = login_as(Role.viewer)
    assert '<html lang="es">' in c.get("/plans/").get_data(as_text=True)


def test_language_switch_is_saved_on_the_user(app, login_as):
    c = login_as(Role.viewer)
    response = c.post_form("/language/en", {"next": "/plans/"}, token_from="/plans/")
    assert response.status_code == 302
    assert location(response) == "/plans/"
    assert user_row(app, "viewer-none@example.org").language == "en"


def test_next_page_after_language_switch_is_in_english(login_as):
    c = login_as(Role.viewer)
    c.post_form("/language/en", {"next": "/plans/"}, token_from="/plans/")
    assert '<html lang="en">' in c.get("/plans/").get_data(as_text=True)


def test_saved_language_applies_at_the_next_login(app, login_as):
    c = login_as(Role.viewer)
    c.post_form("/language/en", token_from="/plans/")
    fresh = new_client(app)  # another browser, Spanish by default
    fresh.login("viewer-none@example.org")
    assert '<html lang="en">' in fresh.get("/plans/").get_data(as_text=True)


def test_anonymous_language_switch_changes_the_login_page(client, peru):
    response = client.post_form("/language/en", {"next": "/login"})
    assert response.status_code == 302
    assert '<html lang="en">' in client.get("/login").get_data(as_text=True)


def test_language_switch_to_an_unknown_language_changes_nothing(app, login_as):
    c = login_as(Role.viewer)
    response = c.post_form("/language/xx", token_from="/plans/")
    assert response.status_code == 302
    assert user_row(app, "viewer-none@example.org").language is None
    assert '<html lang="es">' in c.get("/plans/").get_data(as_text=True)


def test_language_switch_does_not_redirect_off_site(client, peru):
    response = client.post_form("/language/en", {"next": "https://evil.example/"})
    assert response.status_code == 302
    assert location(response) == "/"


def test_language_switch_before_login_survives_the_login(app, client, make_user):
    _, email = make_user(Role.viewer)
    client.post_form("/language/en")
    client.login(email)
    assert '<html lang="en">' in client.get("/plans/").get_data(as_text=True)
