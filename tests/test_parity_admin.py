"""The UN parity strategy's yearly targets, kept by admins (issue 15): /admin/parity.

Only 2020, 2021 and 2028 come from a source (`tracker seed`); the other years stay empty until an admin
enters them from the UN's published strategy, with the source. Percentages are typed (8 for 8 %) and stored
as shares (0.08); both empty removes a year. Every change is in the audit log; only admins get the page.
"""

from __future__ import annotations

import html
import json
import re
from decimal import Decimal

import pytest
import sqlalchemy as sa

from conftest import Client
from tracker.audit import AuditEvent
from tracker.auth.models import Role
from tracker.dashboard.reference import SEEDED_BY, STRATEGY_YEARS
from tracker.db import db
from tracker.plan.models import UnParityTarget

URL = "/admin/parity"
EN = {"Accept-Language": "en"}
ADMIN_EMAIL = "admin-none@example.org"
SOURCE_2024 = "UN Uniformed Gender Parity Strategy 2018-2028, table of yearly targets"


@pytest.fixture
def admin(login_as) -> Client:
    return login_as(Role.admin)


def _stored(app) -> dict[int, tuple[Decimal | None, Decimal | None, str, str]]:
    with app.app_context():
        rows = db.session.scalars(sa.select(UnParityTarget)).all()
        return {r.year: (r.contingents, r.observers_staff, r.source, r.changed_by) for r in rows}


def _form_of(app) -> dict[str, str]:
    """What the page posts back when nothing is changed: every year's stored values, as percentages."""
    data = {}
    for year, (contingents, observers, source, _by) in _stored(app).items():
        data |= {f"y{year}-contingents": format((contingents * 100).normalize(), "f"),
                 f"y{year}-observers_staff": format((observers * 100).normalize(), "f"), f"y{year}-source": source}
    return data


def _post(client: Client, app, **changes: str):
    """Post the whole form: the stored years as they are, then `changes` (keys y2024_contingents -> y2024-contingents)."""
    data = _form_of(app) | {key.replace("_", "-", 1): value for key, value in changes.items()}
    return client.post_form(URL, data, headers=EN)


def _events(app) -> list[dict]:
    with app.app_context():
        rows = db.session.scalars(sa.select(AuditEvent).filter_by(action="parity.changed").order_by(AuditEvent.id)).all()
        return [json.loads(e.details) | {"actor": e.actor_email} for e in rows]


def _page(client: Client, url: str) -> str:
    response = client.get(url, headers=EN)
    assert response.status_code == 200
    return html.unescape(response.get_data(as_text=True))


def _input_value(page: str, name: str) -> str | None:
    match = re.search(rf'<input[^>]*name="{re.escape(name)}"[^>]*>', page)
    assert match, f"no input {name}"
    value = re.search(r'value="([^"]*)"', match.group(0))
    return value.group(1) if value else None


# -- the page -------------------------------------------------------------------------------------


def test_the_page_lists_every_strategy_year_with_the_seeded_ones_filled(app, admin, peru):
    page = _page(admin, URL)
    for year in STRATEGY_YEARS:
        assert f'name="y{year}-contingents"' in page and f'name="y{year}-source"' in page
    assert _input_value(page, "y2021-contingents") == "8" and _input_value(page, "y2020-contingents") == "6.5"
    assert _input_value(page, "y2028-observers_staff") == "25"
    assert _input_value(page, "y2024-contingents") in (None, "")  # not in any source we hold: left empty
    assert SEEDED_BY in page  # who set the seeded years


@pytest.mark.parametrize("path", [URL])
@pytest.mark.parametrize("role", [Role.reporter, Role.committee, Role.viewer])
def test_non_admins_get_403(app, login_as, peru, role, path):
    client = login_as(role)
    assert client.get(path).status_code == 403
    token = client.csrf_token("/account")
    response = client.post(path, data={"csrf_token": token, "y2024-contingents": "10", "y2024-observers_staff": "20",
                                       "y2024-source": "x"})
    assert response.status_code == 403
    assert 2024 not in _stored(app)


def test_the_admin_pages_link_to_it(app, admin, peru):
    for path in ("/admin/institutions", "/admin/countries"):
        assert f'href="{URL}"' in _page(admin, path)


# -- setting, changing, removing ------------------------------------------------------------------


def test_admin_sets_2024_stored_as_shares_and_audited(app, admin, peru):
    response = _post(admin, app, y2024_contingents="10", y2024_observers_staff="20.5", y2024_source=SOURCE_2024)
    assert response.status_code == 302 and response.headers["Location"].endswith(URL)
    assert _stored(app)[2024] == (Decimal("0.1"), Decimal("0.205"), SOURCE_2024, ADMIN_EMAIL)
    assert _events(app) == [{"year": 2024, "old": None, "new": ["0.1", "0.205", SOURCE_2024], "actor": ADMIN_EMAIL}]
    page = _page(admin, URL)
    assert _input_value(page, "y2024-contingents") == "10" and _input_value(page, "y2024-observers_staff") == "20.5"


def test_the_dashboard_of_2024_shows_the_target_once_entered(app, admin, peru):
    before = _page(admin, "/dashboard?plan=PE-2021&year=2024")
    assert "No UN parity target is recorded for 2024." in before
    assert "An administrator can enter it from the UN Uniformed Gender Parity Strategy 2018–2028." in before
    assert f'href="{URL}"' in before  # the admin is offered the page
    _post(admin, app, y2024_contingents="10", y2024_observers_staff="20.5", y2024_source=SOURCE_2024)
    after = _page(admin, "/dashboard?plan=PE-2021&year=2024")
    assert "UN target for 2024: 10% of military contingents and 20.5% of military observers and staff officers are women." in after
    assert f"Source: {SOURCE_2024}." in after
    assert "No UN parity target is recorded for 2024." not in after


def test_a_committee_member_sees_no_link_and_a_year_outside_the_strategy_says_so(app, login_as, peru):
    committee = login_as(Role.committee)
    page = _page(committee, "/dashboard?plan=PE-2021&year=2024")
    assert "An administrator can enter it from the UN Uniformed Gender Parity Strategy 2018–2028." in page
    assert f'href="{URL}"' not in page
    later = _page(committee, "/dashboard?plan=PE-2021&year=2030")
    assert "No UN parity target is recorded for 2030." in later
    assert "sets targets for 2018–2028 only" in later and "An administrator can enter it" not in later


def test_an_unchanged_form_writes_nothing(app, admin, peru):
    before = _stored(app)
    assert _post(admin, app).status_code == 302
    assert _stored(app) == before and _events(app) == []


def test_changing_a_year_keeps_old_and_new_in_the_audit(app, admin, peru):
    _post(admin, app, y2021_contingents="8.25", y2021_source="UN strategy, corrected table")
    assert _stored(app)[2021][:3] == (Decimal("0.0825"), Decimal("0.18"), "UN strategy, corrected table")
    event = _events(app)[-1]
    assert event["year"] == 2021 and event["old"][:2] == ["0.08", "0.18"] and event["new"] == ["0.0825", "0.18", "UN strategy, corrected table"]


def test_emptying_both_shares_removes_the_year(app, admin, peru):
    response = _post(admin, app, y2020_contingents="", y2020_observers_staff="")
    assert response.status_code == 302
    assert 2020 not in _stored(app) and {2021, 2028} <= set(_stored(app))
    assert _events(app)[-1]["year"] == 2020 and _events(app)[-1]["new"] is None
    assert "No UN parity target is recorded for 2020." in _page(admin, "/dashboard?plan=PE-2021&year=2020")


# -- refused input: 400, what was typed kept, nothing stored --------------------------------------


@pytest.mark.parametrize(("changes", "field", "message"), [
    ({"y2024_contingents": "10", "y2024_observers_staff": "20"}, "y2024-source", "Say where the figures come from"),
    ({"y2024_contingents": "101", "y2024_observers_staff": "20", "y2024_source": "s"}, "y2024-contingents", "between 0 and 100"),
    ({"y2024_contingents": "-1", "y2024_observers_staff": "20", "y2024_source": "s"}, "y2024-contingents", "between 0 and 100"),
    ({"y2024_contingents": "ten", "y2024_observers_staff": "20", "y2024_source": "s"}, "y2024-contingents", "Not a valid decimal"),
    ({"y2024_contingents": "NaN", "y2024_observers_staff": "20", "y2024_source": "s"}, "y2024-contingents", "Not a valid decimal"),
    ({"y2024_contingents": "Infinity", "y2024_observers_staff": "20", "y2024_source": "s"}, "y2024-contingents", "Not a valid decimal"),
    ({"y2024_contingents": "10.125", "y2024_observers_staff": "20", "y2024_source": "s"}, "y2024-contingents", "At most two decimals"),
    ({"y2024_contingents": "10", "y2024_source": "s"}, "y2024-observers_staff", "Give both shares"),
    ({"y2020_contingents": "", "y2020_observers_staff": "17"}, "y2020-contingents", "Give both shares"),
    ({"y2021_source": ""}, "y2021-source", "Say where the figures come from"),
])
def test_bad_input_is_refused_with_400_and_kept(app, admin, peru, changes, field, message):
    before = _stored(app)
    response = _post(admin, app, y2023_contingents="9", y2023_observers_staff="19", y2023_source="typed", **changes)
    assert response.status_code == 400
    page = html.unescape(response.get_data(as_text=True))
    assert message.lower() in page.lower()
    assert re.search(rf'<input[^>]*is-invalid[^>]*name="{field}"|<input[^>]*name="{field}"[^>]*is-invalid', page), field
    assert f'href="#{field}"' in page  # the error summary links to the field
    assert _input_value(page, "y2023-contingents") == "9" and _input_value(page, "y2023-source") == "typed"  # kept
    for key, value in changes.items():
        assert (_input_value(page, key.replace("_", "-", 1)) or "") == value
    assert _stored(app) == before and _events(app) == []  # no year saved, not even the good rows


def test_decimals_with_a_point_are_accepted(app, admin, peru):
    assert _post(admin, app, y2019_contingents="4.75", y2019_observers_staff="15", y2019_source="s").status_code == 302
    assert _stored(app)[2019][:2] == (Decimal("0.0475"), Decimal("0.15"))


def test_decimals_with_a_comma_are_accepted(app, admin, peru):
    assert _post(admin, app, y2019_contingents="4,75", y2019_observers_staff="15", y2019_source="s").status_code == 302
    assert _stored(app)[2019][:2] == (Decimal("0.0475"), Decimal("0.15"))


def test_a_year_missing_from_the_request_is_left_as_it_is(app, admin, peru):
    """Only a row sent with both shares empty removes a year: a request without the row changes nothing."""
    before = _stored(app)
    response = admin.post_form(URL, {"y2024-contingents": "10", "y2024-observers_staff": "20", "y2024-source": "s"})
    assert response.status_code == 302
    assert {year: row for year, row in _stored(app).items() if year != 2024} == before
