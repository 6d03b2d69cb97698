"""Bad input never gives a 500 (issue 12): ids beyond the database's integers in paths and query strings.

Every route with an `<int:...>` argument is visited as every role with each such argument set to a number no
id column can hold (ids are INTEGER: 32 bits on PostgreSQL); the URL converter refuses it, so the answer is 404
before any query runs.
Filter pages read their integer parameters with one helper: a value that is not a usable number is ignored.
"""

from __future__ import annotations

import io
import re
from decimal import Decimal

import pytest
import sqlalchemy as sa

from test_budget import GOOD, URL, _item, _save
from test_progress import cycle, navy  # noqa: F401 - fixtures
from test_routes import WHO, Visitor, app_routes, build_url, world  # noqa: F401 - `world` is a fixture
from tracker.auth.models import Role
from tracker.urls import MAX_INT, parse_int

HUGE = 99999999999999999999  # above 2**64
INT_ARGUMENT = re.compile(r"<int(?:\([^)]*\))?:(\w+)>")


def int_arguments(rule) -> list[str]:
    """The arguments a rule declares with the int converter."""
    return INT_ARGUMENT.findall(rule.rule)


def huge_urls(app, world, value: int) -> list[tuple[str, str]]:
    """(method, url) for every route and method, once per int argument, that argument set to `value`."""
    urls = []
    for rule, method in app_routes(app):
        for name in int_arguments(rule):
            samples = world.samples_for(rule.endpoint) | {name: value}
            urls.append((method, build_url(app, rule, samples)))
    return urls


# -- the converter ----------------------------------------------------------------------------------


def test_some_routes_take_int_arguments(app):
    assert len([rule for rule, _ in app_routes(app) if int_arguments(rule)]) >= 20


@pytest.mark.parametrize("value", [HUGE, MAX_INT + 1], ids=["above-64-bits", "above-32-bits"])
@pytest.mark.parametrize("who", WHO)
def test_huge_ids_in_paths_are_not_found(app, world, who, value):
    visitor = Visitor(app, who, world)
    answers = {f"{method} {url}": visitor.request(method, url).status_code for method, url in huge_urls(app, world, value)}
    assert answers and {url: status for url, status in answers.items() if status != 404} == {}


@pytest.mark.parametrize("value", [str(MAX_INT + 1), "1" + "0" * 40])
def test_int_converter_refuses_numbers_above_the_id_columns(app, value):
    adapter = app.url_map.bind("localhost")
    with pytest.raises(Exception) as refused:
        adapter.match(f"/admin/users/{value}")
    assert getattr(refused.value, "code", None) == 404


def test_int_converter_still_accepts_the_largest_id(app):
    endpoint, args = app.url_map.bind("localhost").match(f"/admin/users/{MAX_INT}")
    assert (endpoint, args) == ("admin.edit_user", {"user_id": MAX_INT})


def test_largest_id_is_just_not_found(login_as):
    assert login_as(Role.admin).get(f"/admin/users/{MAX_INT}").status_code == 404


# -- the query-string helper --------------------------------------------------------------------------


@pytest.mark.parametrize("text, expected", [
    ("12", 12), (" 7 ", 7), ("0", 0), (str(MAX_INT), MAX_INT),
    (str(HUGE), None), ("-1", None), ("abc", None), ("", None), (None, None), ("1e3", None), ("１２", None), ("12.5", None),
])
def test_parse_int_accepts_only_plain_numbers_in_range(text, expected):
    assert parse_int(text) == expected


def test_parse_int_applies_the_given_range():
    assert (parse_int("1899", 1900, 2200), parse_int("2025", 1900, 2200), parse_int("2201", 1900, 2200)) == (None, 2025, None)


BAD_NUMBERS = [str(HUGE), str(MAX_INT + 1), str(2**63), "-1", "abc", "0", str(MAX_INT), "1e9"]
FILTER_PAGES = [
    (Role.committee, "/dashboard?year={}"),
    (Role.viewer, "/dashboard?plan=PE-2021&year={}"),
    (Role.committee, "/review?year={}"),
    (Role.admin, "/admin/audit?page={}"),
    (Role.viewer, "/reports?year={}"),
    (Role.committee, "/reports?plan=PE-2021&year={}"),
    (Role.committee, "/dashboard/PE-2021/pillars/PAR?year={}"),
]


@pytest.mark.parametrize("role, page", FILTER_PAGES)
@pytest.mark.parametrize("value", BAD_NUMBERS)
def test_filter_pages_ignore_numbers_they_cannot_use(login_as, role, page, value):
    assert login_as(role).get(page.format(value)).status_code == 200


def heading(response) -> str:
    return re.search(r"<h1[^>]*>(.*?)</h1>", response.get_data(as_text=True), re.S).group(1).strip()


def test_dashboard_with_a_huge_year_shows_the_default_year(login_as):
    c = login_as(Role.committee)
    assert heading(c.get(f"/dashboard?year={HUGE}")) == heading(c.get("/dashboard"))


def test_audit_log_with_a_huge_page_shows_the_first_page(login_as):
    page = login_as(Role.admin).get(f"/admin/audit?page={HUGE}").get_data(as_text=True)
    assert "login.succeeded" in page and set(re.findall(r'href="/admin/audit\?[^"]*page=(\d+)', page)) <= {"2"}


def test_review_queue_with_a_huge_year_lists_every_year(app, world):
    page = Visitor(app, Role.committee.value, world).request("GET", f"/review?year={HUGE}").get_data(as_text=True)
    year_box = re.search(r'<input[^>]*name="year"[^>]*>', page).group(0)
    assert page.count('name="entry_ids"') == 3 and str(HUGE) not in year_box


@pytest.mark.parametrize("value", [str(HUGE), str(MAX_INT + 1), "-1", "abc"])
def test_huge_entry_ids_in_a_bulk_review_are_ignored(app, world, value):
    visitor = Visitor(app, Role.committee.value, world)
    response = visitor.request("POST", "/review", {"decision": "approve", "entry_ids": value, f"seen-{value}": value})
    assert response.status_code == 302


@pytest.mark.parametrize("field", ["country", "parent"])
def test_huge_ids_chosen_in_the_institution_form_are_refused_on_the_form(app, login_as, field):
    from tracker.db import db
    from tracker.plan.models import Country, Institution

    with app.app_context():
        country_id = db.session.scalars(sa.select(Country.id)).first()
    c = login_as(Role.admin)
    data = {"code": "NEW-1", "name_es": "Nueva", "name_en": "New", "kind": "ministry", "country": str(country_id), "parent": ""}
    response = c.post_form("/admin/institutions/new", data | {field: str(HUGE)})
    with app.app_context():
        stored = db.session.scalars(sa.select(Institution).filter_by(code="NEW-1")).all()
    assert (response.status_code, stored) == (200, [])


# -- the spending-portal CSV ----------------------------------------------------------------------------

HEADER = "Pliego,Unidad Ejecutora,Meta,PIA,PIM,Certificación,Compromiso Anual,Devengado,Girado\n"
MATCHING_LINE = '026,001,0012,"150,000","200,000.00",0,0,"90,000.25",0\n'
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89"
STORED_PIM = Decimal("180000.50")  # GOOD's PIM, which a refused file leaves as it is
BAD_FILES = {
    "huge-cell": ((HEADER + MATCHING_LINE).encode() + b'026,001,0012,1,"' + b"9" * 200_000 + b'",0,0,0,0\n',
                  "cannot be read: a cell is too long"),
    "long-cell": ((HEADER + "026,001,0012,1,2,0,0,1,0," + "x" * 5000 + "\n").encode(), "longer than 1000 characters"),
    "png": (PNG, "not a CSV text file"),
    "nul-bytes": ((HEADER + MATCHING_LINE).encode().replace(b"\n", b"\x00\n"), "not a CSV text file"),
    "control-bytes": ((HEADER + MATCHING_LINE).encode() + b"\x01\x02\x03\x1b\n", "not a CSV text file"),
    "utf-16": ((HEADER + MATCHING_LINE).encode("utf-16"), "UTF-16"),
    "not-an-encoding": ((HEADER + MATCHING_LINE).encode() + "Meta año".encode("utf-8")[:-2] + b"\x81\x8d\n",
                        "characters of the file cannot be read"),
    "too-many-lines": ((HEADER + "027,001,0012,1,2,0,0,1,0\n" * 5001 + MATCHING_LINE).encode(), "more than 5000 lines"),
    "nan-amount": ((HEADER + '026,001,0012,1,NaN,0,0,1,0\n').encode(), "PIM is not a number"),
    "infinite-amount": ((HEADER + '026,001,0012,1,2,0,0,Infinity,0\n').encode(), "DEVENGADO is not a number"),
    "empty": (b"   \n", "The file is empty"),
}


def post_csv(client, data: bytes):
    return client.post_form(f"{URL}/import", {"file": (io.BytesIO(data), "consulta.csv")}, token_from=URL,
                            content_type="multipart/form-data", headers={"Accept-Language": "en"})


@pytest.mark.parametrize("name", BAD_FILES)
def test_unreadable_portal_files_are_refused_on_the_form(app, navy, name):
    _save(navy, GOOD)
    data, message = BAD_FILES[name]
    response = post_csv(navy, data)
    page = response.get_data(as_text=True)
    assert (response.status_code, message.lower() in page.lower()) == (400, True)
    assert 'id="import-errors"' in page and 'name="pim"' in page  # the item's form and the import form again


@pytest.mark.parametrize("name", BAD_FILES)
def test_unreadable_portal_files_change_nothing(app, navy, name):
    _save(navy, GOOD)
    post_csv(navy, BAD_FILES[name][0])
    assert _item(app).pim == STORED_PIM


def test_a_portal_file_above_the_upload_limit_is_refused(app, navy, monkeypatch):
    _save(navy, GOOD)
    monkeypatch.setitem(app.config, "MAX_UPLOAD_MB", 1)
    response = post_csv(navy, (HEADER + MATCHING_LINE * 20_000).encode())
    assert (response.status_code, "larger than 1 MB" in response.get_data(as_text=True), _item(app).pim) == (400, True, STORED_PIM)


def test_a_windows_1252_portal_file_is_read(app, navy):
    _save(navy, GOOD)
    response = post_csv(navy, (HEADER + MATCHING_LINE).encode("cp1252"))
    assert (response.status_code, _item(app).pim) == (302, Decimal("200000.00"))


def test_a_file_wrong_on_every_line_shows_the_first_errors_only(app, navy):
    _save(navy, GOOD)
    page = post_csv(navy, (HEADER + "026,001,0012,1,abc,0,0,1,0\n" * 50).encode()).get_data(as_text=True)
    assert page.count("is not a number") == 20 and "30 more lines with errors" in page


def test_an_import_without_a_budget_item_says_so_on_the_page(app, navy):
    response = post_csv(navy, (HEADER + MATCHING_LINE).encode())
    assert response.status_code == 400 and "First save the budget item" in response.get_data(as_text=True)


@pytest.mark.parametrize("who", WHO)
def test_the_largest_id_in_paths_never_fails(app, world, who):
    """MAX_INT passes the converter: every view then answers it as any unknown id or year, never with a 5xx."""
    visitor = Visitor(app, who, world)
    answers = {f"{method} {url}": visitor.request(method, url).status_code for method, url in huge_urls(app, world, MAX_INT)}
    assert answers and {url: status for url, status in answers.items() if status >= 500} == {}
