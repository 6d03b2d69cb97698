"""Accessibility: axe-core on the main pages, keyboard-only forms, labels, phone width."""

from __future__ import annotations

import pytest
from axe_playwright_python.sync_playwright import Axe

from browser import YEAR, login, shot
from tracker.auth.models import Role

pytestmark = pytest.mark.e2e

PAGES = {
    Role.committee: ["/dashboard", "/plans/PE-2021", "/plans/PE-2021/pillars/PAR", "/plans/PE-2021/indicators/IND-PAR-2",
                     "/review", "/plans/PE-2021/cycles", f"/plans/PE-2021/budget/{YEAR}/compliance", "/help/status-rules",
                     f"/dashboard/PE-2021/pillars/PAR?year={YEAR}", "/notifications", "/plans/PE-2021/sign-off", "/plans/PE-2021/reminder-schedule", "/plans/PE-2021/public-page",
                     f"/reports/PE-2021/{YEAR}/preview", f"/reports/PE-2021/{YEAR}/commentary", f"/reports?plan=PE-2021&year={YEAR}"],
    Role.reporter: ["/home", f"/plans/PE-2021/report/{YEAR}", f"/plans/PE-2021/report/{YEAR}/indicators/IND-PAR-2",
                    f"/plans/PE-2021/report/{YEAR}/actions/PAR-1", f"/plans/PE-2021/budget/{YEAR}", "/account/password",
                    "/account", "/account/two-factor", "/account/tokens", "/api/v1/docs"],
    Role.admin: ["/admin/users", "/admin/users/new", "/admin/institutions", "/admin/audit"],
}


def _serious(results) -> list[str]:
    return [f"{v['id']}: {v['help']} {[n['target'] for n in v['nodes']][:6]}" for v in results.response["violations"] if v["impact"] in ("serious", "critical")]


@pytest.mark.parametrize("role", list(PAGES))
def test_no_serious_axe_violations(app, make_user, new_page, open_cycle, role):
    _, email = make_user(role, institution="MGP" if role == Role.reporter else "default")
    axe = Axe()
    for locale in ("es-PE", "en-US"):
        page = new_page(locale=locale)
        login(page, email)
        for url in PAGES[role]:
            page.goto(url)
            assert page.url.endswith(url.split("?")[0]) or "?" in url, f"{url} redirected to {page.url}"
            problems = _serious(axe.run(page))
            assert problems == [], f"{url} ({locale}): {problems}"
            shot(page, f"{role.value}-{url.strip('/').replace('/', '_').replace('?', '_') or 'home'}-{locale[:2]}")


def test_login_page_is_accessible(new_page, peru):
    page = new_page()
    page.goto("/login")
    assert _serious(Axe().run(page)) == []


def test_login_with_the_keyboard_alone(app, make_user, new_page, peru):
    _, email = make_user(Role.viewer)
    page = new_page()
    page.goto("/login")
    page.locator("#email").focus()
    page.keyboard.type(email)
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == "password"
    page.keyboard.type("Correct-Horse-Battery-Staple-42")
    outline = page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
    assert outline != "none"  # visible focus
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert "/login" not in page.url


def test_entry_form_with_the_keyboard_alone(app, make_user, new_page, open_cycle):
    from test_journeys import _entry_state
    from tracker.progress.models import EntryState

    _, email = make_user(Role.reporter, institution="MGP")
    page = new_page()
    login(page, email)
    page.goto(f"/plans/PE-2021/report/{YEAR}/indicators/IND-PAR-2")
    page.locator("#women").focus()
    page.keyboard.type("4")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == "men"
    page.keyboard.type("6")
    for _ in range(10):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.name") == "save":
            break
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert _entry_state(app) == EntryState.draft


def test_every_input_has_a_label(app, make_user, new_page, open_cycle):
    _, email = make_user(Role.reporter, institution="MGP")
    page = new_page()
    login(page, email)
    for url in (f"/plans/PE-2021/report/{YEAR}/indicators/IND-PAR-2", f"/plans/PE-2021/budget/{YEAR}", "/account/password"):
        page.goto(url)
        unlabeled = page.evaluate("""() => [...document.querySelectorAll('input:not([type=hidden]), select, textarea')]
            .filter(el => !(el.labels && el.labels.length) && !el.getAttribute('aria-label')).map(el => el.name)""")
        assert unlabeled == [], f"{url}: {unlabeled}"


@pytest.mark.parametrize("url_role", [("/dashboard", Role.committee), (f"/plans/PE-2021/report/{YEAR}/indicators/IND-PAR-2", Role.reporter)])
def test_phone_width_has_no_horizontal_scroll(app, make_user, new_page, open_cycle, url_role):
    url, role = url_role
    _, email = make_user(role, institution="MGP" if role == Role.reporter else "default")
    page = new_page(width=375, height=800)
    login(page, email)
    page.goto(url)
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
    shot(page, f"phone-{role.value}")


def test_the_public_page_is_accessible_in_both_languages(app, new_page, open_cycle):
    """Issue 19: the public page, read without logging in, at desktop and phone widths."""
    import sqlalchemy as sa

    from tracker.db import db
    from tracker.plan import models as pm

    with app.app_context():
        plan = db.session.scalars(sa.select(pm.Plan).filter_by(code="PE-2021")).one()
        db.session.add(pm.PlanProfile(plan=plan, public=True)) if plan.profile is None else setattr(plan.profile, "public", True)
        db.session.commit()
    axe = Axe()
    for locale, width in (("es-PE", 1280), ("en-US", 375)):
        page = new_page(locale=locale, width=width)
        page.goto("/public/PE-2021")
        assert page.locator("h1").count() == 1
        assert _serious(axe.run(page)) == [], locale
        shot(page, f"public-PE-2021-{locale[:2]}-{width}")
