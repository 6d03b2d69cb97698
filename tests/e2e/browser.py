"""Browser tests: the app served on a free port of 127.0.0.1, driven by Playwright in Debian's Chromium."""

from __future__ import annotations

import os
import threading
from datetime import date, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from werkzeug.serving import make_server

from conftest import PASSWORD
from tracker.db import db
from tracker.plan.models import Plan
from tracker.progress.models import CycleState, ReportingCycle

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"
YEAR = date.today().year


@pytest.fixture(scope="session")
def browser():
    if not Path(CHROMIUM).exists():
        if os.environ.get("CI") == "true":
            pytest.fail(f"{CHROMIUM} is missing: CI must install Debian's chromium (apt-get install -y chromium)")
        pytest.skip("Debian's chromium is not installed (apt-get install -y chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture(scope="session")
def server(app):
    """The test app on a free port; one request at a time (the test database has one connection)."""
    http = make_server("127.0.0.1", 0, app, threaded=False)
    thread = threading.Thread(target=http.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{http.server_port}"
    http.shutdown()


@pytest.fixture
def open_cycle(app, peru):
    with app.app_context():
        plan = db.session.scalars(sa.select(Plan).filter_by(code="PE-2021")).one()
        db.session.add(ReportingCycle(plan_id=plan.id, year=YEAR, deadline=date.today() + timedelta(days=45), state=CycleState.open))
        db.session.commit()
    return YEAR


@pytest.fixture
def new_page(browser, server):
    """new_page(locale="es-PE", width=1280) -> a page in a fresh browser context."""
    contexts = []

    def make(locale: str = "es-PE", width: int = 1280, height: int = 900):
        context = browser.new_context(locale=locale, viewport={"width": width, "height": height}, base_url=server,
                                      accept_downloads=True)
        contexts.append(context)
        return context.new_page()

    yield make
    for context in contexts:
        context.close()


def login(page, email: str, password: str = PASSWORD) -> None:
    page.goto("/login")
    page.fill("#email", email)
    page.fill("#password", password)
    page.locator("main form").get_by_role("button").click()
    page.wait_for_load_state()


def shot(page, name: str) -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path
