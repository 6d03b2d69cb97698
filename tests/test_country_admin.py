"""Two countries in one instance, as the admin keeps them (issue 14): accounts pick an institution within its country
and the plans they review or read; institutions are kept per country; the countries' profiles and the plans' budget
profiles and monitoring bodies are edited with the plan file's checks, and every change is audited."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa

from conftest import Client, import_chile_without_a_body
from test_admin import ADMIN_EMAIL, admin, checked_plans, create_user, events, peru, text, translated  # noqa: F401
from test_admin import user_by_email, user_form
from tracker.auth.models import BodyMember, Role, User, ViewerPlan
from tracker.db import db
from tracker.plan import models as m

# Chile's plan is the tests' own file, tests/plans/chile-2022.yaml (conftest's `chile`): Chile's time zone, currency and
# locale, its own monitoring body (Mesa Intersectorial 1325) and an institution whose code (MINDEF) Peru's list also has.
CL = "CL-2022"
CL_TITLE = "Plan de prueba 1325 (modelado en Chile)"


def country(app, iso: str) -> m.Country:
    with app.app_context():
        return db.session.scalars(sa.select(m.Country).filter_by(iso_code=iso)).one()


def plan_row(app, code: str) -> m.Plan:
    with app.app_context():
        plan = db.session.scalars(sa.select(m.Plan).filter_by(code=code)).one()
        _ = plan.profile, plan.bodies
        return plan


def memberships(app, email: str) -> list[tuple[str, str]]:
    """(plan code, body code) of each body the account sits on."""
    with app.app_context():
        query = (sa.select(m.Plan.code, m.MonitoringBody.code).join(m.MonitoringBody.plan)
                 .join(BodyMember, BodyMember.body_id == m.MonitoringBody.id).join(User, User.id == BodyMember.user_id)
                 .where(User.email == email).order_by(m.Plan.code))
        return [tuple(row) for row in db.session.execute(query)]


def viewer_limits(app, email: str) -> list[str]:
    with app.app_context():
        query = (sa.select(m.Plan.code).join(ViewerPlan, ViewerPlan.plan_id == m.Plan.id)
                 .join(User, User.id == ViewerPlan.user_id).where(User.email == email).order_by(m.Plan.code))
        return list(db.session.scalars(query))


# -- accounts: institution within its country, plans ----------------------------------------------


def test_user_form_groups_the_institutions_by_country(admin, chile):
    page = text(admin.get("/admin/users/new"))
    chile_group = page.split('<optgroup label="Chile">')[1].split("</optgroup>")[0]
    peru_group = page.split('<optgroup label="Perú">')[1].split("</optgroup>")[0]
    assert '<option value="CL:MINDEF">CL · MINDEF — Ministerio de Defensa Nacional</option>' in chile_group
    assert 'value="PE:MINDEF"' in peru_group and "CL:" not in peru_group


def test_admin_attaches_a_reporter_to_the_institution_of_the_chosen_country(app, admin, chile):
    assert create_user(admin, email="emco@example.cl", institution="CL:EMCO").status_code == 302
    assert create_user(admin, email="mindef@example.cl", institution="CL:MINDEF").status_code == 302
    user = user_by_email(app, "mindef@example.cl")
    assert (user.institution.country.iso_code, user.institution.code) == ("CL", "MINDEF")


def test_a_code_two_countries_have_must_name_its_country(app, admin, chile):
    response = create_user(admin, institution="MINDEF")
    assert response.status_code == 400
    assert translated(app, "%(code)s exists in several countries (%(countries)s): write it as %(example)s.",
                      code="MINDEF", countries="CL, PE", example="CL:MINDEF") in text(response)
    assert user_by_email(app, "nueva@example.org") is None


def test_the_form_offers_every_plan_with_its_monitoring_body(admin, chile):
    page = text(admin.get("/admin/users/new"))
    assert f"{CL} · {CL_TITLE} — Mesa Intersectorial 1325" in page
    assert "PE-2021 · Plan (es) — Comité (es)" in page


def test_a_committee_member_sits_on_the_bodies_of_the_plans_ticked(app, admin, chile):
    response = create_user(admin, email="mesa@example.cl", role="committee", institution="CL:MINREL", plans=[CL])
    assert response.status_code == 302
    assert memberships(app, "mesa@example.cl") == [(CL, "MESA-1325")]
    (event,) = events(app, "user.created")[-1:]
    assert event.details_dict["plans"] == [CL] and event.details_dict["institution"] == "CL:MINREL"


def test_a_committee_member_without_a_plan_is_refused_on_the_field_and_nothing_is_lost(app, admin, chile):
    response = create_user(admin, email="mesa@example.cl", name="Mesa Chile", role="committee", institution="CL:MINREL")
    assert response.status_code == 400
    page = text(response)
    error = translated(app, "A committee member must sit on the monitoring body of at least one plan.")
    assert re.search(r'<fieldset[^>]*id="plans".*?' + re.escape(error) + r".*?</fieldset>", page, re.S)
    assert 'value="mesa@example.cl"' in page and 'value="Mesa Chile"' in page
    assert '<option selected value="committee">' in page and '<option selected value="CL:MINREL">' in page
    assert user_by_email(app, "mesa@example.cl") is None


def test_a_reporter_with_a_plan_ticked_is_refused(app, admin, chile):
    response = create_user(admin, institution="PE:MGP", plans=[CL])
    assert response.status_code == 400
    assert translated(app, "Only committee members and viewers are tied to plans: choose none for this role.") in text(response)
    assert checked_plans(response) == [CL]
    assert user_by_email(app, "nueva@example.org") is None


@pytest.mark.parametrize("plans", [["NOPE-1"], [CL, "<b>x</b>"]])
def test_an_unknown_plan_is_refused_not_a_server_error(app, admin, chile, plans):
    response = create_user(admin, role="viewer", institution="", plans=plans)
    assert response.status_code == 400
    assert translated(app, "Unknown plan %(code)s.", code=plans[-1]) in text(response)
    assert user_by_email(app, "nueva@example.org") is None


def test_a_viewer_is_limited_to_the_plans_ticked(app, admin, chile):
    assert create_user(admin, role="viewer", institution="", plans=[CL]).status_code == 302
    assert viewer_limits(app, "nueva@example.org") == [CL]
    viewer = Client(app.test_client())
    assert viewer.login("nueva@example.org", "Amber-Canyon-Whistle-Ledger-31").status_code == 302


def test_editing_the_plans_moves_the_member_and_audits_old_and_new(app, admin, make_user, chile):
    user_id, email = make_user(Role.committee)  # on Peru's body
    response = admin.post_form(f"/admin/users/{user_id}", user_form(user_by_email(app, email), plans=[CL]))
    assert response.status_code == 302
    assert memberships(app, email) == [(CL, "MESA-1325")]
    (event,) = events(app, "user.updated")
    assert event.actor_email == ADMIN_EMAIL
    assert event.details_dict == {"changes": {"plans": [["PE-2021"], [CL]]}}
    joined = events(app, "user.committee_role_granted")[-1]
    assert joined.details_dict["plans"] == [CL]


def test_the_edit_form_ticks_the_accounts_plans(app, admin, make_user, chile):
    user_id, _ = make_user(Role.committee, plans=(CL, "PE-2021"))
    assert checked_plans(admin.get(f"/admin/users/{user_id}")) == [CL, "PE-2021"]


def test_the_users_list_shows_country_institution_and_plans(app, admin, make_user, chile):
    make_user(Role.committee, email="mesa@example.cl", institution="CL:MINREL", plans=(CL,))
    make_user(Role.viewer, email="visor@example.org")
    page = text(admin.get("/admin/users"))
    mesa = page.split("mesa@example.cl")[1].split("</tr>")[0]
    visor = page.split("visor@example.org")[1].split("</tr>")[0]
    assert ">CL:MINREL</span>" in mesa and f'<td class="users-plans">{CL}</td>' in mesa
    assert f'<td class="users-plans">{translated(app, "every plan")}</td>' in visor


# -- institutions per country ---------------------------------------------------------------------


CHILE_INSTITUTIONS = ["CECOPAC", "EMCO", "MINDEF", "MININTER", "MINREL", "MMEG"]  # the plan file's, by code


def institution_form(app, iso: str, **overrides) -> dict:
    data = {"code": "FAP", "name_es": "Fuerza Aérea de Chile", "name_en": "Chilean Air Force", "kind": "armed_forces",
            "country": str(country(app, iso).id), "parent": ""}
    return data | overrides


def institutions_of(app, iso: str) -> list[str]:
    with app.app_context():
        query = sa.select(m.Institution.code).join(m.Country).where(m.Country.iso_code == iso).order_by(m.Institution.code)
        return list(db.session.scalars(query))


def test_institutions_page_lists_them_per_country(app, admin, chile):
    page = text(admin.get("/admin/institutions"))
    chile_part = page.split('id="country-CL"')[1].split("</section>")[0]
    assert "EMCO" in chile_part and "CIG-MINDEF" not in chile_part
    assert f'href="/admin/institutions/new?country={country(app, "CL").id}"' in page
    assert 'href="/admin/countries"' in page


def test_new_institution_of_a_country_starts_with_that_country_chosen(app, admin, chile):
    page = admin.get(f"/admin/institutions/new?country={country(app, 'CL').id}").get_data(as_text=True)
    assert f'<option selected value="{country(app, "CL").id}">' in page


def test_a_code_another_country_uses_is_free_in_this_one(app, admin, chile):
    assert admin.post_form("/admin/institutions/new", institution_form(app, "CL")).status_code == 302
    assert institutions_of(app, "CL") == [*CHILE_INSTITUTIONS[:2], "FAP", *CHILE_INSTITUTIONS[2:]]
    assert "FAP" in institutions_of(app, "PE")


def test_a_code_of_the_same_country_is_refused(app, admin, chile):
    response = admin.post_form("/admin/institutions/new", institution_form(app, "CL", code="MINDEF"))
    assert response.status_code == 200
    assert translated(app, "Another institution of this country uses this code.") in text(response)
    assert institutions_of(app, "CL") == CHILE_INSTITUTIONS


def test_an_institution_cannot_be_part_of_another_countrys(app, admin, chile):
    with app.app_context():
        peru_mindef = db.session.scalars(sa.select(m.Institution.id).join(m.Country)
                                         .where(m.Country.iso_code == "PE", m.Institution.code == "MINDEF")).one()
    response = admin.post_form("/admin/institutions/new", institution_form(app, "CL", parent=str(peru_mindef)))
    assert response.status_code == 200
    assert translated(app, "Choose an institution of the same country.") in text(response)
    assert "FAP" not in institutions_of(app, "CL")


# -- countries' profiles ----------------------------------------------------------------------------


def profile_form(**overrides) -> dict:
    return {"timezone": "America/Santiago", "currency": "CLP", "locale": "es_CL"} | overrides


def test_countries_page_lists_profiles_and_the_plans_budget_and_body(app, admin, chile):
    page = text(admin.get("/admin/countries"))
    chile_part = page.split('id="country-CL"')[1].split("</section>")[0]
    for shown in ("America/Santiago", "CLP", "es_CL", CL, "Mesa Intersectorial 1325",
                  translated(app, "Generic: budget line, allocated, executed, source")):
        assert shown in chile_part
    peru_part = page.split('id="country-PE"')[1].split("</section>")[0]
    assert "America/Lima" in peru_part and "Comité (es)" in peru_part


def test_admin_edits_a_country_profile_and_it_is_audited(app, admin, chile):
    chile_id = country(app, "CL").id
    response = admin.post_form(f"/admin/countries/{chile_id}", profile_form(timezone="America/Punta_Arenas", currency="usd",
                                                                            locale="en_GB"))
    assert response.status_code == 302
    saved = country(app, "CL")
    assert (saved.timezone, saved.currency, saved.locale) == ("America/Punta_Arenas", "USD", "en_GB")
    (event,) = events(app, "country.profile_updated")
    assert (event.actor_email, event.target_id) == (ADMIN_EMAIL, str(chile_id))
    assert event.details_dict["changes"] == {"timezone": ["America/Santiago", "America/Punta_Arenas"],
                                             "currency": ["CLP", "USD"], "locale": ["es_CL", "en_GB"]}


def test_an_empty_currency_is_none(app, admin, chile):
    assert admin.post_form(f"/admin/countries/{country(app, 'CL').id}", profile_form(currency="")).status_code == 302
    assert country(app, "CL").currency is None


def test_saving_an_unchanged_profile_writes_no_audit_event(app, admin, chile):
    assert admin.post_form(f"/admin/countries/{country(app, 'CL').id}", profile_form()).status_code == 302
    assert events(app, "country.profile_updated") == []


@pytest.mark.parametrize(("field", "value", "message"), [
    ("timezone", "Mars/Olympus_Mons", "%(value)s is not a time zone: use an IANA name such as America/Lima."),
    ("timezone", "../../etc/passwd", "%(value)s is not a time zone: use an IANA name such as America/Lima."),
    ("currency", "XYZ", "%(value)s is not an ISO 4217 currency code (such as PEN, CLP or USD)."),
    ("locale", "klingon_KX", "%(value)s is not a known locale (such as es_PE, es_CL or en_GB)."),
])
def test_a_bad_profile_value_is_refused_on_its_field(app, admin, chile, field, value, message):
    response = admin.post_form(f"/admin/countries/{country(app, 'CL').id}", profile_form(**{field: value}))
    assert response.status_code == 400
    page = text(response)
    assert translated(app, message, value=value) in page
    assert f'value="{value}"' in page  # the input is kept
    saved = country(app, "CL")
    assert (saved.timezone, saved.currency, saved.locale) == ("America/Santiago", "CLP", "es_CL")
    assert events(app, "country.profile_updated") == []


def test_a_missing_timezone_is_refused(app, admin, chile):
    response = admin.post_form(f"/admin/countries/{country(app, 'CL').id}", profile_form(timezone=""))
    assert response.status_code == 400
    assert country(app, "CL").timezone == "America/Santiago"


# -- plans' profiles --------------------------------------------------------------------------------


def test_admin_changes_the_budget_profile_and_the_body_name(app, admin, chile):
    form = {"budget_profile": "pe_mef", "body_name_es": "Mesa 1325 renovada", "body_name_en": "Renewed 1325 Table"}
    response = admin.post_form(f"/admin/plans/{CL}/profile", form)
    assert response.status_code == 302
    plan = plan_row(app, CL)
    (body,) = plan.bodies
    assert plan.profile.budget_profile == m.BudgetProfile.pe_mef
    assert (body.code, body.name_es, body.name_en, body.active) == ("MESA-1325", "Mesa 1325 renovada", "Renewed 1325 Table", True)
    (event,) = events(app, "plan.profile_updated")
    assert event.actor_email == ADMIN_EMAIL and event.details_dict["plan"] == CL
    assert event.details_dict["changes"] == {"budget_profile": ["generic", "pe_mef"],
                                             "body_name_es": ["Mesa Intersectorial 1325", "Mesa 1325 renovada"],
                                             "body_name_en": ["Intersectoral Roundtable 1325", "Renewed 1325 Table"]}


def test_the_plan_profile_form_shows_the_current_values(admin, chile):
    page = admin.get(f"/admin/plans/{CL}/profile").get_data(as_text=True)
    assert '<option selected value="generic">' in page
    assert 'value="Mesa Intersectorial 1325"' in page
    assert 'name="body_code"' not in page  # the active body keeps its code


def test_a_plan_without_a_body_gets_one_and_then_a_committee(app, admin, peru):
    import_chile_without_a_body(app)
    assert 'name="body_code"' in admin.get(f"/admin/plans/{CL}/profile").get_data(as_text=True)
    refused = create_user(admin, email="mesa@example.cl", role="committee", institution="CL:MINREL", plans=[CL])
    assert refused.status_code == 400
    assert translated(app, "Plan %(code)s has no monitoring body: name one in its plan file.", code=CL) in text(refused)
    form = {"budget_profile": "generic", "body_code": "mesa-1325", "body_name_es": "Mesa 1325", "body_name_en": "1325 Table"}
    assert admin.post_form(f"/admin/plans/{CL}/profile", form).status_code == 302
    assert [(b.code, b.active) for b in plan_row(app, CL).bodies] == [("MESA-1325", True)]
    created = create_user(admin, email="mesa@example.cl", role="committee", institution="CL:MINREL", plans=[CL])
    assert created.status_code == 302
    assert memberships(app, "mesa@example.cl") == [(CL, "MESA-1325")]


def test_a_bad_plan_profile_is_refused_on_its_field(app, admin, chile):
    form = {"budget_profile": "soles", "body_name_es": "", "body_name_en": "Table"}
    response = admin.post_form(f"/admin/plans/{CL}/profile", form)
    assert response.status_code == 400
    assert plan_row(app, CL).profile.budget_profile == m.BudgetProfile.generic
    assert 'value="Table"' in text(response)


def test_an_unknown_plan_profile_is_404(admin, chile):
    assert admin.get("/admin/plans/NOPE/profile").status_code == 404
    assert admin.get("/admin/countries/999999").status_code == 404


# -- who may -------------------------------------------------------------------------------------

COUNTRY_PAGES = ["/admin/countries", "/admin/plans/PE-2021/profile"]


@pytest.mark.parametrize("role", [Role.reporter, Role.committee, Role.viewer])
@pytest.mark.parametrize("path", COUNTRY_PAGES)
def test_non_admins_get_403_on_the_country_pages(login_as, role, path):
    assert login_as(role).get(path).status_code == 403


@pytest.mark.parametrize("role", [Role.reporter, Role.committee, Role.viewer])
def test_non_admins_cannot_edit_a_country_profile(app, login_as, role):
    c = login_as(role)
    token = c.csrf_token("/account/password")
    peru_id = country(app, "PE").id
    response = c.post(f"/admin/countries/{peru_id}", data={**profile_form(), "csrf_token": token})
    assert response.status_code == 403
    assert country(app, "PE").timezone == "America/Lima"


# -- the audit log names the command line -----------------------------------------------------------


def test_the_audit_log_says_command_line_for_what_the_cli_did(app, admin, cli):
    cli("users", "create", "visor@example.org", "--role", "viewer", input="Quartz-Meadow-Lantern-Ferry-58\n")
    page = text(admin.get("/admin/audit?action=user.created"))
    row = page.split("<tbody>")[1].split("</tr>")[0]
    assert f"<td>{translated(app, 'command line')}</td>" in row
