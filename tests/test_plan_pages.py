"""Read-only plan pages render the seeded content in the user's language, with provenance."""

from __future__ import annotations

import pytest

from tracker.auth.models import Role


@pytest.fixture
def viewer(login_as):
    return login_as(Role.viewer)


def _text(response) -> str:
    assert response.status_code == 200
    return response.get_data(as_text=True)


def test_plan_list(viewer):
    page = _text(viewer.get("/plans/"))
    assert "De la Aceptación a la Inclusión" in page
    assert "Sin plazo definido" in page or "No timeframe set" in page


def test_plan_page_shows_tabs_and_country_data(viewer):
    page = _text(viewer.get("/plans/PE-2021", headers={"Accept-Language": "en"}))
    for tab in ("Actors", "Timeframe", "Objectives", "Actions/Activities", "Indicators", "M&amp;E", "Budget", "Disarmament"):
        assert tab in page
    assert "1982" in page and "37 out of 146 (2022)" in page and "2016" in page
    assert "$2,361,000,000.00" in page
    assert "There is no clear timeframe for the implementation of the NAP." in page
    assert "an item destined to the financing of the activities" in page


def test_plan_page_actors_with_representatives(viewer):
    page = _text(viewer.get("/plans/PE-2021"))
    assert "Ministerio de Defensa (MINDEF)" in page
    assert '<td class="text-end">7</td>' in page


def test_pillars_without_actions_say_so_never_zero_percent(viewer):
    page = _text(viewer.get("/plans/PE-2021/pillars/PRO", headers={"Accept-Language": "en"}))
    assert "No actions recorded for this pillar in the plan." in page
    assert "0 %" not in page and "0%" not in page
    plan_page = _text(viewer.get("/plans/PE-2021", headers={"Accept-Language": "en"}))
    assert plan_page.count("No actions recorded") >= 2


def test_pillar_page_lists_actions_and_indicators(viewer):
    page = _text(viewer.get("/plans/PE-2021/pillars/PAR"))
    assert "PAR-1" in page and "PAR-3" in page and "IND-PAR-2" in page
    assert "Promover la presencia y participación de las mujeres" in page
    assert "traducción no oficial" in page  # Spanish texts are our translations of the English source


def test_prevention_pillar_shows_overview_and_its_indicators(viewer):
    page = _text(viewer.get("/plans/PE-2021/pillars/PRE", headers={"Accept-Language": "en"}))
    assert "Women’s Empowerment and Gender Analysis" in page
    assert "PRE-1" in page and "PRE-3" in page


def test_derived_indicator_is_flagged(viewer):
    page = _text(viewer.get("/plans/PE-2021/indicators/IND-PAR-2", headers={"Accept-Language": "en"}))
    assert "Derived" in page
    assert "It is not part of the plan's official indicator matrix" in page
    assert "Yes: values are reported for women and men" in page
    assert "No target set" in page


def test_verbatim_indicator_page(viewer):
    page = _text(viewer.get("/plans/PE-2021/indicators/IND-OE1-1", headers={"Accept-Language": "en"}))
    assert "Verbatim" in page and "NAP database summary page: Peru (2021)" in page
    assert "not part of the plan" not in page


@pytest.mark.parametrize("url", ["/plans/NOPE", "/plans/PE-2021/pillars/XX", "/plans/PE-2021/indicators/XX"])
def test_unknown_items_are_404(viewer, url):
    assert viewer.get(url).status_code == 404


def test_pages_in_english(viewer):
    page = _text(viewer.get("/plans/PE-2021/pillars/PAR", headers={"Accept-Language": "en"}))
    assert '<html lang="en">' in page
    assert "Promote the presence and participation of women" in page
    assert "unofficial translation" not in page.split("PAR-1")[1].split("</article>")[0]
