"""Nothing but static files is cached (issue 12): pages and downloads hold data that must not outlive the session."""

from __future__ import annotations

import pytest

from test_routes import ANONYMOUS, YEAR, Visitor, world  # noqa: F401 - `world` is a fixture
from tracker.auth.models import Role

PAGES = [(Role.reporter.value, "/plans/"), (Role.committee.value, "/review"), (Role.admin.value, "/admin/audit"),
         (Role.viewer.value, "/dashboard"), (Role.viewer.value, "/no-such-page")]
DOWNLOADS = {
    "report": (Role.viewer.value, f"/reports/PE-2021/{YEAR}.xlsx"),
    "report-csv": (Role.committee.value, f"/reports/PE-2021/{YEAR}.csv"),
    "final-report": (Role.viewer.value, "/reports/final/{report_id}"),
    "evidence": (Role.committee.value, "/entries/{entry_id}/evidence/{evidence_id}"),
    "bulk-template": (Role.reporter.value, f"/plans/PE-2021/report/{YEAR}/template.xlsx"),
    "indicator-matrix": (Role.committee.value, "/plans/PE-2021/matrix.xlsx"),
}
STATIC_FILES = ["/static/css/app.css", "/bootstrap/static/css/bootstrap.min.css"]


def get(app, world, who: str, url: str):
    return Visitor(app, who, world).request("GET", url.format(**world.samples))


@pytest.mark.parametrize("who, url", PAGES)
def test_pages_for_logged_in_users_are_not_stored(app, world, who, url):
    response = get(app, world, who, url)
    assert response.status_code in (200, 404) and response.headers["Cache-Control"] == "no-store"


@pytest.mark.parametrize("name", DOWNLOADS)
def test_downloads_are_not_stored(app, world, name):
    response = get(app, world, *DOWNLOADS[name])
    assert response.status_code == 200 and "attachment" in response.headers["Content-Disposition"]
    assert response.headers["Cache-Control"] == "no-store"


def test_login_page_is_not_stored(client):
    response = client.get("/login")
    assert (response.status_code, response.headers["Cache-Control"]) == (200, "no-store")


def test_a_redirect_to_the_login_page_is_not_stored(client, peru):
    response = client.get("/plans/")
    assert (response.status_code, response.headers["Cache-Control"]) == (302, "no-store")


@pytest.mark.parametrize("url", STATIC_FILES)
@pytest.mark.parametrize("who", [ANONYMOUS, Role.reporter.value])
def test_static_files_stay_cacheable(app, world, who, url):
    response = get(app, world, who, url)
    assert response.status_code == 200 and "no-store" not in response.headers.get("Cache-Control", "")
