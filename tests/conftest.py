"""Test fixtures: one migrated database per run, emptied after every test; clients logged in per role."""

from __future__ import annotations

import copy
from datetime import date
import functools
import html
import os
import re
import secrets
import socket
from contextlib import contextmanager
from pathlib import Path

import pytest
import sqlalchemy as sa
import yaml

from config import TestingConfig
from smtp_server import smtp_server
from tracker import create_app, jobs, migrate
from tracker.auth import services as accounts
from tracker.auth.models import Role
from tracker.db import Base, db
from tracker.extensions import limiter
from tracker.models import load_all
from tracker.plan.loader import PERU_SEED, import_plan, read_plan_file, validate_plan_data
from tracker.review import steps

pytest_plugins = ["e2e.browser"]

PASSWORD = "Correct-Horse-Battery-Staple-42"
# The second country's plan of the tests' own (not official): see the file's header for what it exercises.
CHILE_FILE = Path(__file__).parent / "plans" / "chile-2022.yaml"
ROLE_INSTITUTION = {Role.reporter: "MGP", Role.committee: "CIG-MINDEF", Role.viewer: None, Role.admin: None}


def _check_database_reachable(url: str) -> None:
    engine = sa.create_engine(url)
    try:
        with engine.connect():
            pass
    except sa.exc.OperationalError as exc:
        message = f"test database {url} is unreachable: {exc.orig}"
        if os.environ.get("CI") == "true":
            pytest.exit(f"CI error: {message}", returncode=3)
        pytest.exit(message, returncode=3)
    finally:
        engine.dispose()


@pytest.fixture(scope="session")
def app(tmp_path_factory):
    url = TestingConfig.DATABASE_URL
    if url != "sqlite://":
        _check_database_reachable(url)
    TestingConfig.UPLOAD_FOLDER = tmp_path_factory.mktemp("uploads")
    TestingConfig.MAIL_OUTBOX_FOLDER = tmp_path_factory.mktemp("outbox")
    app = create_app(TestingConfig)
    with app.app_context():
        migrate.downgrade("base") if migrate.current() else None
        migrate.upgrade("head")
    yield app
    db.engine.dispose()


@pytest.fixture(autouse=True)
def _clean_database(app):
    """Each test starts with empty tables and fresh throttling counters."""
    yield
    with app.app_context():
        db.session.rollback()
        db.session.close()
        load_all()
        with db.engine.begin() as conn:
            for table in reversed(Base.metadata.sorted_tables):
                conn.execute(table.delete())
    with app.test_request_context():
        limiter.reset()


@pytest.fixture
def ctx(app):
    """An app context with a request, for calling services directly."""
    with app.test_request_context():
        yield
        db.session.rollback()


@pytest.fixture
def session(ctx):
    return db.session


@functools.cache
def _peru_file():
    return read_plan_file(PERU_SEED)  # parsed once per run; the models are immutable


@pytest.fixture
def peru(app):
    """Peru's 2021 plan, seeded from the real seed file, with the UN parity targets `tracker seed` adds."""
    from tracker.dashboard.reference import seed_parity

    with app.app_context():
        result = import_plan(db.session, _peru_file())
        seed_parity(db.session)
        db.session.commit()
    return result


@functools.cache
def chile_plan_file():
    return read_plan_file(CHILE_FILE)  # parsed once per run, like Peru's


def chile_data() -> dict:
    """Chile's test plan file as plain data, a fresh copy to change for a variant (then validate_plan_data it)."""
    return copy.deepcopy(_chile_yaml())


@functools.cache
def _chile_yaml() -> dict:
    return yaml.safe_load(CHILE_FILE.read_text(encoding="utf-8"))


def import_chile_without_a_body(app) -> None:
    """A variant of Chile's plan, derived from its file: no monitoring body."""
    data = chile_data()
    del data["plan"]["monitoring_body"]
    with app.app_context():
        import_plan(db.session, validate_plan_data(data, f"{CHILE_FILE.name} without a monitoring body"))
        db.session.commit()


@pytest.fixture
def chile(app, peru):
    """Chile's test plan (tests/plans/chile-2022.yaml), imported beside Peru's."""
    with app.app_context():
        result = import_plan(db.session, chile_plan_file())
        db.session.commit()
    return result


@pytest.fixture
def make_user(app, peru):
    def make(role: Role = Role.reporter, email: str | None = None, institution: str | None = "default", **kw):
        inst = ROLE_INSTITUTION[role] if institution == "default" else institution
        email = email or f"{role.value}-{inst or 'none'}@example.org".lower()
        with app.test_request_context():
            plans = kw.pop("plans", ("PE-2021",) if role == Role.committee else ())
            data = accounts.UserInput(email=email, name=kw.pop("name", email.split("@")[0]), role=role, institution_code=inst,
                                      plan_codes=tuple(plans), focal_point=kw.pop("focal_point", False))
            user = accounts.create_user(db.session, data, PASSWORD, must_change=kw.pop("must_change", False))
            db.session.commit()
            return user.id, email

    return make


class Client:
    """A test client that can log in and post forms with their CSRF token."""

    def __init__(self, flask_client):
        self.c = flask_client

    def __getattr__(self, name):
        return getattr(self.c, name)

    def csrf_token(self, url: str = "/login") -> str:
        page = self.c.get(url).get_data(as_text=True)
        match = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page) or re.search(
            r'value="([^"]+)"[^>]*name="csrf_token"', page
        )
        assert match, f"no CSRF token on {url}"
        return match.group(1)

    def post_form(self, url: str, data: dict | None = None, token_from: str | None = None, **kw):
        data = dict(data or {})
        data.setdefault("csrf_token", self.csrf_token(token_from or url))
        return self.c.post(url, data=data, **kw)

    def login(self, email: str, password: str = PASSWORD):
        return self.post_form("/login", {"email": email, "password": password})


def page_text(response) -> str:
    """A page's text as a reader sees it: tags out, entities decoded, whitespace collapsed."""
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", response.get_data(as_text=True))).split())


def logged_in(app, email: str) -> Client:
    """A new browser logged in as the account with this e-mail."""
    browser = Client(app.test_client())
    assert browser.login(email).status_code == 302
    return browser


@pytest.fixture
def client(app):
    return Client(app.test_client())


@pytest.fixture
def cli(app):
    """cli("users", "list", input=...) -> the result of running `tracker` in the test app."""
    runner = app.test_cli_runner()

    def invoke(*args: str, input: str | None = None):
        return runner.invoke(args=list(args), input=input)

    return invoke


@pytest.fixture
def login_as(app, make_user):
    """login_as(role) -> a client logged in as a new user of that role."""

    def login(role: Role, **kw) -> Client:
        _, email = make_user(role, **kw)
        c = Client(app.test_client())
        response = c.login(email)
        assert response.status_code == 302, response.get_data(as_text=True)[:500]
        return c

    return login


@contextmanager
def count_queries(engine):
    """Count the SQL statements run inside the block."""
    statements: list[str] = []

    def before(conn, cursor, statement, *args):
        statements.append(statement)

    sa.event.listen(engine, "before_cursor_execute", before)
    try:
        yield statements
    finally:
        sa.event.remove(engine, "before_cursor_execute", before)


# -- an indicator entry to review (issue 16): tests/test_review_context.py, tests/test_entry_comments.py --------

YEAR_NOW = date.today().year


def save_indicator_entry(session, email: str, code: str, institution_code: str, women: int, men: int,
                         approve_by: str | None = None):
    """Submit (and with `approve_by`, approve) an institution's women/men report on a Peru indicator this year."""
    from tracker.auth.models import User
    from tracker.plan import editing
    from tracker.plan import models as pm
    from tracker.progress import services
    from tracker.progress.models import ReportingCycle

    plan = session.scalars(sa.select(pm.Plan).filter_by(code="PE-2021")).one()
    cycle = session.scalars(sa.select(ReportingCycle).filter_by(plan_id=plan.id, year=YEAR_NOW)).one()
    user = session.scalars(sa.select(User).filter_by(email=email)).one()
    institution = session.scalars(sa.select(pm.Institution).filter_by(code=institution_code)).one()
    indicator = editing.find_item(session, plan, pm.PlanItemKind.indicator, code)
    entry = services.save_entry(session, user, cycle, institution, indicator,
                                services.IndicatorInput(women=women, men=men, narrative="Cursos"), submit=True)
    if approve_by:
        steps.take_step(session, session.scalars(sa.select(User).filter_by(email=approve_by)).one(), entry, "approve")
    return entry


@pytest.fixture
def review_world(app, make_user, peru):
    """Navy's approved IND-PAR-1 of 2022-2024 (60, 70, 80), a 2026 target of 200, the Army's approved 20 for the
    year, and the Navy's submitted 140 (+75 % on 2024, no evidence file). 2026 stands for this year."""
    from decimal import Decimal

    from tracker.demo import seed_peru_demo
    from tracker.plan import editing
    from tracker.plan import models as pm

    _, navy = make_user(Role.reporter, institution="MGP")
    _, army = make_user(Role.reporter, email="ejercito@example.org", institution="EP")
    _, committee = make_user(Role.committee)
    with app.test_request_context():
        seed_peru_demo(db.session)
        plan = db.session.scalars(sa.select(pm.Plan).filter_by(code="PE-2021")).one()
        indicator = editing.find_item(db.session, plan, pm.PlanItemKind.indicator, "IND-PAR-1")
        editing.set_targets(db.session, indicator, {YEAR_NOW: Decimal(200)},
                            editing.Editor(committee, "Acta 1", pm.ChangeChannel.web))
        save_indicator_entry(db.session, army, "IND-PAR-1", "EP", 5, 15, approve_by=committee)
        entry = save_indicator_entry(db.session, navy, "IND-PAR-1", "MGP", 40, 100)
        db.session.commit()
        return {"entry": entry.id, "committee": committee, "navy": navy}


# -- a real SMTP server and a queue of its own on Redis (issue 18): tests/test_jobs.py and others --------------

REDIS_URL = os.environ.get("TRACKER_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")


def _redis_answers() -> bool:
    try:
        with socket.create_connection(("127.0.0.1", 6379), timeout=2) as sock:
            sock.sendall(b"PING\r\n")
            return sock.recv(16).startswith(b"+PONG")
    except OSError:
        return False


@pytest.fixture
def smtp(app, monkeypatch):
    """A real SMTP server the app delivers to."""
    with smtp_server() as (inbox, port):
        for key, value in {"SMTP_HOST": "127.0.0.1", "SMTP_PORT": port, "SMTP_STARTTLS": False}.items():
            monkeypatch.setitem(app.config, key, value)
        yield inbox


@pytest.fixture
def queue(app, monkeypatch):
    """A queue of its own on the test Redis, emptied afterwards."""
    if not _redis_answers():
        if os.environ.get("CI") == "true":
            pytest.fail("Redis must answer in CI for the job tests")
        pytest.skip("Redis does not answer on 127.0.0.1:6379")
    monkeypatch.setitem(app.config, "QUEUE_URL", REDIS_URL)
    monkeypatch.setitem(app.config, "QUEUE_NAME", f"tracker-test-{secrets.token_hex(4)}")
    monkeypatch.setitem(app.config, "JOB_RETRY_INTERVALS", "0,0")  # two retries, at once: the test does not wait
    yield
    with app.app_context():
        jobs._queue().delete(delete_jobs=True)


def outbox_to(app, email: str):
    """The e-mails queued to one address, oldest first (detached: read after the app context ends)."""
    from tracker.progress.models import OutboxMessage

    with app.app_context():
        rows = list(db.session.scalars(sa.select(OutboxMessage).filter_by(to_email=email).order_by(OutboxMessage.id)))
        db.session.expunge_all()
        return rows
