"""Secure by default (issue 3): headers, cookies, production settings, CSRF, redirects, session lifetime."""

from __future__ import annotations

import html
import os
import re
import secrets
import subprocess
import sys
import time
from pathlib import Path
from datetime import datetime, timedelta, timezone
from email.utils import parsedate_to_datetime
from html.parser import HTMLParser

import itsdangerous.timed
import pytest
from click.testing import CliRunner

from config import DEV_SECRET_KEY, TEST_SECRET_KEY, Config, ConfigError, ProductionConfig, secret_key_problem
from conftest import PASSWORD, Client
from test_auth import seed_light_peru
from tracker import create_app
from tracker.auth.models import Role
from tracker.db import db
from tracker.extensions import limiter
from tracker.plan.loader import PERU_SEED, import_plan, read_plan_file

@pytest.fixture
def peru(app):
    """Overrides conftest's `peru` (and so make_user and login_as): institutions only, not the whole plan."""
    seed_light_peru(app)


SECRET = "w8Qm2ZrT5vLx9KbN4sYd7HcJ3gFp6Ae1Uo0Ri-_tVnMq"  # shaped like secrets.token_urlsafe(48)
SHARED_STORAGE = "redis://127.0.0.1:6379/15"
STRICT_REFERRER_POLICIES = {"no-referrer", "same-origin", "strict-origin", "strict-origin-when-cross-origin"}


def csp_directives(response) -> dict[str, str]:
    policy = response.headers.get("Content-Security-Policy", "")
    return {part.split()[0]: part.strip() for part in policy.split(";") if part.strip()}


def set_cookie_headers(response, name: str = "session") -> list[str]:
    return [h for h in response.headers.getlist("Set-Cookie") if h.startswith(f"{name}=")]


class InlineCode(HTMLParser):
    """Collects what a CSP without 'unsafe-inline' would block: inline scripts, event handlers, style attributes."""

    def __init__(self):
        super().__init__()
        self.found: list[str] = []
        self._in_inline_script = False

    def handle_starttag(self, tag, attrs):
        names = {name for name, _ in attrs}
        if tag == "script" and "src" not in names:
            self._in_inline_script = True
        for name in names:
            if name.startswith("on") or name == "style":
                self.found.append(f"<{tag} {name}=...>")

    def handle_endtag(self, tag):
        if tag == "script":
            self._in_inline_script = False

    def handle_data(self, data):
        if self._in_inline_script and data.strip():
            self.found.append(f"<script>{data.strip()[:60]}</script>")


# -- headers --------------------------------------------------------------------------------------


@pytest.fixture(params=["/login", "/health", "/no-such-page"], ids=["html-page", "health", "error-page"])
def any_response(request, client):
    return client.get(request.param)


def test_csp_is_set_without_unsafe_inline(any_response):
    directives = csp_directives(any_response)
    assert directives, "no Content-Security-Policy header"
    assert "'unsafe-inline'" not in any_response.headers["Content-Security-Policy"]
    assert "'unsafe-eval'" not in any_response.headers["Content-Security-Policy"]
    assert directives["script-src"] == "script-src 'self'"


def test_csp_forbids_framing(any_response):
    assert csp_directives(any_response)["frame-ancestors"] == "frame-ancestors 'none'"
    assert any_response.headers["X-Frame-Options"] == "DENY"


def test_nosniff_is_set(any_response):
    assert any_response.headers["X-Content-Type-Options"] == "nosniff"


def test_referrer_policy_is_strict(any_response):
    assert any_response.headers["Referrer-Policy"] in STRICT_REFERRER_POLICIES


def test_csp_restricts_objects_base_and_forms(any_response):
    directives = csp_directives(any_response)
    assert directives["object-src"] == "object-src 'none'"
    assert directives["base-uri"] == "base-uri 'self'"
    assert directives["form-action"] == "form-action 'self'"


def test_headers_are_set_on_pages_for_logged_in_users_too(login_as):
    response = login_as(Role.admin).get("/admin/users")
    assert response.status_code == 200
    assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]
    assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_no_hsts_outside_production(client):
    assert "Strict-Transport-Security" not in client.get("/login").headers


@pytest.mark.parametrize(
    "path", ["/login", "/account/password", "/plans/", "/plans/PE-2021", "/admin/users", "/admin/users/new",
             "/admin/institutions", "/admin/institutions/new", "/admin/audit"]
)
def test_pages_have_no_inline_code_the_csp_would_block(app, client, login_as, path):
    if path.startswith("/plans/PE-2021"):  # the real plan page
        with app.app_context():
            import_plan(db.session, read_plan_file(PERU_SEED))
            db.session.commit()
    c = client if path == "/login" else login_as(Role.admin)
    response = c.get(path)
    assert response.status_code == 200
    parser = InlineCode()
    parser.feed(response.get_data(as_text=True))
    assert parser.found == []


# -- cookies --------------------------------------------------------------------------------------


def test_session_cookie_is_httponly_and_samesite_lax(client, make_user):
    _, email = make_user(Role.viewer)
    (cookie,) = set_cookie_headers(client.login(email))
    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie


def test_session_cookie_is_not_secure_outside_production(client, make_user):
    _, email = make_user(Role.viewer)
    (cookie,) = set_cookie_headers(client.login(email))
    assert "Secure" not in cookie


# -- production settings --------------------------------------------------------------------------


@pytest.fixture
def production_app(app, monkeypatch):
    """An app built with ProductionConfig, sharing the test database.

    The extensions are module-level singletons: create_app rebinds the database and the limiter storage
    to the new app, so they are put back afterwards for the other tests.
    """
    monkeypatch.setenv("TRACKER_SECRET_KEY", SECRET)
    monkeypatch.setenv("TRACKER_RATELIMIT_STORAGE_URI", SHARED_STORAGE)
    monkeypatch.setattr(ProductionConfig, "SECRET_KEY", None)  # validate() sets it; undone after the test
    monkeypatch.setattr(ProductionConfig, "RATELIMIT_STORAGE_URI", None)
    monkeypatch.setattr(ProductionConfig, "DATABASE_URL", app.config["DATABASE_URL"])
    saved_db, saved_limiter = dict(db.__dict__), dict(limiter.__dict__)
    try:
        prod = create_app(ProductionConfig)
    finally:
        db.__dict__.update(saved_db)  # the test database's engine, not a new one
        limiter.__dict__.clear()
        limiter.__dict__.update(saved_limiter)
    yield prod


def production_login(production_app, email: str, referrer: str | None = "https://localhost/login"):
    """Log in over HTTPS (the test client follows PREFERRED_URL_SCHEME) with the Referer a browser sends."""
    client = Client(production_app.test_client())
    headers = {"Referer": referrer} if referrer else {}
    return client.post_form("/login", {"email": email, "password": PASSWORD}, headers=headers)


def test_production_session_cookie_is_secure(production_app, make_user):
    _, email = make_user(Role.viewer)
    response = production_login(production_app, email)
    assert response.status_code == 302
    (cookie,) = set_cookie_headers(response)
    assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_production_post_from_another_site_is_refused(production_app, make_user):
    """Over HTTPS, Flask-WTF also checks the Referer: the referrer policy must keep sending it on our own site."""
    _, email = make_user(Role.viewer)
    assert production_login(production_app, email, referrer="https://evil.example/login").status_code == 400
    assert production_login(production_app, email, referrer=None).status_code == 400
    response = production_app.test_client().get("/login")
    assert response.headers["Referrer-Policy"] in {"same-origin", "strict-origin-when-cross-origin"}


def test_production_sends_hsts(production_app):
    response = production_app.test_client().get("/health")
    assert response.headers["Strict-Transport-Security"].startswith("max-age=")
    assert int(re.search(r"max-age=(\d+)", response.headers["Strict-Transport-Security"]).group(1)) >= 180 * 24 * 3600


def test_production_uses_the_secret_from_the_environment(production_app):
    assert production_app.config["SECRET_KEY"] == SECRET
    assert production_app.config["SESSION_COOKIE_SECURE"] is True
    assert production_app.config["REMEMBER_COOKIE_SECURE"] is True


def test_production_refuses_demo_accounts(production_app):
    result = production_app.test_cli_runner().invoke(args=["demo", "accounts"])
    assert result.exit_code != 0
    assert "Error:" in result.output and "Traceback" not in result.output


WEAK_KEYS = {
    "unset": None,
    "empty": "",
    "short": "too-short",
    "dev-default": DEV_SECRET_KEY,
    "test-default": TEST_SECRET_KEY,
    "few-characters": "k3y-" + "x" * 40,
    "repeated-chunk": "abcd1234" * 6,
    "sequence": "abcdefghijklmnopqrstuvwxyz0123456789",
    "long-run": "Qm2ZrT5vLx9KbN4sYd7H" + "0" * 20,
}


@pytest.mark.parametrize("secret", WEAK_KEYS.values(), ids=WEAK_KEYS.keys())
def test_production_refuses_a_missing_or_weak_secret_key(monkeypatch, secret):
    monkeypatch.setattr(ProductionConfig, "SECRET_KEY", None)
    monkeypatch.setenv("TRACKER_RATELIMIT_STORAGE_URI", SHARED_STORAGE)
    if secret is None:
        monkeypatch.delenv("TRACKER_SECRET_KEY", raising=False)
    else:
        monkeypatch.setenv("TRACKER_SECRET_KEY", secret)
    with pytest.raises(ConfigError) as exc:
        ProductionConfig.validate()
    message = str(exc.value)
    assert message.startswith("TRACKER_SECRET_KEY")
    assert 'python -c "import secrets; print(secrets.token_urlsafe(48))"' in message
    assert "\n" not in message


@pytest.mark.parametrize("make", [lambda: secrets.token_urlsafe(48), lambda: secrets.token_hex(32), lambda: secrets.token_urlsafe(24)],
                         ids=["token_urlsafe(48)", "token_hex(32)", "token_urlsafe(24)"])
def test_random_keys_are_accepted(make):
    assert all(secret_key_problem(make()) is None for _ in range(200))


@pytest.mark.parametrize("storage", [None, "memory://"], ids=["unset", "memory"])
def test_production_refuses_throttling_counters_each_worker_keeps_alone(monkeypatch, storage):
    monkeypatch.setenv("TRACKER_SECRET_KEY", SECRET)
    monkeypatch.setattr(ProductionConfig, "SECRET_KEY", None)
    monkeypatch.setattr(ProductionConfig, "RATELIMIT_STORAGE_URI", None)
    if storage is None:
        monkeypatch.delenv("TRACKER_RATELIMIT_STORAGE_URI", raising=False)
    else:
        monkeypatch.setenv("TRACKER_RATELIMIT_STORAGE_URI", storage)
    with pytest.raises(ConfigError) as exc:
        ProductionConfig.validate()
    assert "TRACKER_RATELIMIT_STORAGE_URI=redis://" in str(exc.value)


def test_unknown_role_required_to_use_a_second_factor_is_refused(monkeypatch):
    monkeypatch.setattr(Config, "REQUIRE_2FA_ROLES", frozenset({"committee", "reviewers"}))
    with pytest.raises(ConfigError) as exc:
        Config.validate()
    assert "TRACKER_REQUIRE_2FA_ROLES" in str(exc.value) and "reviewers" in str(exc.value)


def test_production_cli_starts_with_a_strong_key_set_before_import(tmp_path):
    """The environment is set before Python starts, as on a server: the first-wave bug refused every key."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("TRACKER_")}
    env.update(TRACKER_ENV="production", TRACKER_SECRET_KEY=secrets.token_urlsafe(48),
               TRACKER_RATELIMIT_STORAGE_URI=SHARED_STORAGE, TRACKER_INSTANCE_PATH=str(tmp_path),
               TRACKER_DATABASE_URL=f"sqlite:///{tmp_path / 'prod.sqlite3'}")
    tracker = Path(sys.executable).parent / "tracker"
    result = subprocess.run([str(tracker), "db", "upgrade"], env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert "Database upgraded to" in result.stdout


def test_create_app_refuses_production_without_a_secret_before_touching_anything(monkeypatch):
    monkeypatch.setattr(ProductionConfig, "SECRET_KEY", None)
    monkeypatch.delenv("TRACKER_SECRET_KEY", raising=False)
    engine = db.engine
    with pytest.raises(ConfigError):
        create_app(ProductionConfig)
    assert db.engine is engine


def test_tracker_command_prints_one_line_without_a_secret(monkeypatch):
    from tracker.cli import main

    monkeypatch.setattr(ProductionConfig, "SECRET_KEY", None)
    monkeypatch.delenv("TRACKER_SECRET_KEY", raising=False)
    result = CliRunner().invoke(main, ["users", "list"], env={"TRACKER_ENV": "production"})
    assert result.exit_code == 2
    assert "Traceback" not in result.output
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("Error: TRACKER_SECRET_KEY")


# -- CSRF -----------------------------------------------------------------------------------------


def dummy_url(app, rule) -> str:
    """Any URL the rule matches: CSRF is checked before the view runs."""
    from werkzeug.routing import IntegerConverter

    values = {}
    for name in set(rule.arguments) - set(rule.defaults or {}):
        converter = rule._converters[name]
        if isinstance(converter, IntegerConverter):  # the app's own bounded int converter is one too
            values[name] = 1
        elif type(converter).__name__ == "AnyConverter":
            values[name] = sorted(converter.items)[0] if hasattr(converter, "items") else "on"
        else:
            values[name] = "x"
    return app.url_map.bind("localhost").build(rule.endpoint, values)


def post_rules(app):
    return sorted((r for r in app.url_map.iter_rules() if "POST" in r.methods), key=lambda r: r.endpoint)


def csrf_message(app) -> str:
    """The message of the app's CSRF error page, as the handler words it (the wording may change)."""
    from unittest import mock

    from tracker import errors

    captured: list[str] = []
    with mock.patch.object(errors, "render_error", lambda code, message=None: captured.append(str(message))):
        with app.test_request_context():
            errors.handle_csrf_error(None)
    assert captured and captured[0] != "None"
    return captured[0]


@pytest.mark.parametrize("role", [None, Role.reporter, Role.committee, Role.viewer, Role.admin],
                         ids=["anonymous", "reporter", "committee", "viewer", "admin"])
def test_every_post_without_csrf_token_is_refused(app, client, login_as, role):
    c = login_as(role) if role else client
    refused = {}
    for rule in post_rules(app):
        response = c.post(dummy_url(app, rule), data={"email": "x@example.org", "password": PASSWORD})
        refused[rule.endpoint] = response.status_code
    assert refused and set(refused.values()) == {400}, {e: s for e, s in refused.items() if s != 400}


def test_csrf_refusal_says_why(app, client, peru):
    response = client.post("/login", data={"email": "x@example.org", "password": PASSWORD})
    assert response.status_code == 400
    assert html.unescape(csrf_message(app)) in html.unescape(response.get_data(as_text=True))


def test_csrf_token_of_another_session_is_refused(app, login_as):
    victim, attacker = login_as(Role.admin), Client(app.test_client())
    stolen_from_attackers_own_session = attacker.csrf_token("/login")
    response = victim.post("/admin/users/new", data={"csrf_token": stolen_from_attackers_own_session, "email": "x@example.org"})
    assert response.status_code == 400


def test_csrf_refusal_does_not_log_in(client, make_user):
    _, email = make_user(Role.viewer)
    assert client.post("/login", data={"email": email, "password": PASSWORD}).status_code == 400
    with client.session_transaction() as sess:
        assert "_user_id" not in sess


# -- redirects ------------------------------------------------------------------------------------

OFF_SITE = ["https://evil.example", "https://evil.example/login", "//evil.example", "///evil.example",
            "/\\evil.example", "\\\\evil.example", "javascript:alert(1)", "http:/evil.example", " //evil.example",
            "/\t/evil.example"]


def is_local(location: str) -> bool:
    """A path on this site: browsers read a leading '//' or '/\\' as another host."""
    return location.startswith("/") and not location.startswith("//") and "\\" not in location and "\t" not in location


@pytest.mark.parametrize("target", OFF_SITE)
def test_login_never_redirects_off_site(client, make_user, target):
    _, email = make_user(Role.viewer)
    response = client.post_form("/login", {"email": email, "password": PASSWORD}, token_from="/login",
                                query_string={"next": target})
    assert response.status_code == 302
    assert is_local(response.headers["Location"])


def test_login_follows_a_local_next(client, make_user):
    _, email = make_user(Role.viewer)
    response = client.post_form("/login", {"email": email, "password": PASSWORD}, token_from="/login",
                                query_string={"next": "/plans/PE-2021?tab=actors"})
    assert response.headers["Location"] == "/plans/PE-2021?tab=actors"


@pytest.mark.parametrize("target", OFF_SITE)
def test_language_switch_never_redirects_off_site(client, peru, target):
    response = client.post_form("/language/en", {"next": target})
    assert response.status_code == 302
    assert is_local(response.headers["Location"])


# -- session lifetime -----------------------------------------------------------------------------


class FakeClock:
    def __init__(self):
        self.offset = 0.0

    def time(self) -> float:
        return time.time() + self.offset

    def advance(self, minutes: float) -> None:
        self.offset += minutes * 60


@pytest.fixture
def clock(monkeypatch):
    """The clock the signed session cookie is checked against."""
    fake = FakeClock()
    monkeypatch.setattr(itsdangerous.timed, "time", fake)
    return fake


def lifetime_minutes(app) -> float:
    return app.config["PERMANENT_SESSION_LIFETIME"].total_seconds() / 60


def test_login_makes_the_session_permanent(client, make_user):
    _, email = make_user(Role.viewer)
    client.login(email)
    with client.session_transaction() as sess:
        assert sess.permanent is True


def test_session_cookie_expires_after_the_configured_lifetime(app, client, make_user):
    _, email = make_user(Role.viewer)
    (cookie,) = set_cookie_headers(client.login(email))
    expires = parsedate_to_datetime(re.search(r"Expires=([^;]+)", cookie).group(1))
    expected = datetime.now(timezone.utc) + app.config["PERMANENT_SESSION_LIFETIME"]
    assert abs(expires - expected) < timedelta(seconds=60)


def test_default_session_lifetime_is_an_hour():
    assert Config.PERMANENT_SESSION_LIFETIME == timedelta(minutes=60)


def test_session_ends_after_the_lifetime_without_activity(app, client, make_user, clock):
    _, email = make_user(Role.viewer)
    client.login(email)
    clock.advance(lifetime_minutes(app) + 1)
    response = client.get("/plans/")
    assert response.status_code == 302 and response.headers["Location"].startswith("/login")


def test_activity_keeps_the_session_alive(app, client, make_user, clock):
    _, email = make_user(Role.viewer)
    client.login(email)
    for _ in range(3):
        clock.advance(lifetime_minutes(app) * 0.8)
        assert client.get("/plans/").status_code == 200
