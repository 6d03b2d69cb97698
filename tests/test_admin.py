"""Admin pages (issue 3): users, institutions, the audit log."""

from __future__ import annotations

import html
import re

import pytest
import sqlalchemy as sa
from flask_babel import force_locale
from flask_babel import lazy_gettext as _l

from conftest import PASSWORD, Client
from test_auth import seed_light_peru
from tracker.audit import AuditEvent
from tracker.auth import services as accounts
from tracker.auth.models import Role, User
from tracker.db import db
from tracker.plan.models import Country, Institution

@pytest.fixture
def peru(app):
    """Overrides conftest's `peru` (and so make_user and login_as): institutions only, not the whole plan."""
    seed_light_peru(app)


TEMP_PASSWORD = "Amber-Canyon-Whistle-Ledger-31"
ADMIN_EMAIL = "admin-none@example.org"
NON_ADMINS = [Role.reporter, Role.committee, Role.viewer]


# -- helpers ------------------------------------------------------------------------------------


def text(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def checked_plans(response) -> list[str]:
    """The plans ticked in a user form."""
    return re.findall(r'<input checked[^>]*name="plans" type="checkbox" value="([^"]+)"', response.get_data(as_text=True))


def translated(app, message, **kw) -> str:
    with app.test_request_context(), force_locale("es"):
        return str(_l(message, **kw))


def user_by_email(app, email: str) -> User | None:
    """The account, its institution and country loaded; `plan_codes` (a plain attribute) holds its plans."""
    with app.app_context():
        user = db.session.scalars(sa.select(User).filter_by(email=email)).one_or_none()
        if user is not None:
            _ = user.institution and user.institution.country  # loaded while the session is open
            user.plan_codes = accounts.user_plan_codes(user)
        return user


def institution(app, code: str) -> Institution | None:
    with app.app_context():
        inst = db.session.scalars(sa.select(Institution).filter_by(code=code)).one_or_none()
        if inst is not None:
            _ = inst.parent
        return inst


def peru_id(app) -> int:
    with app.app_context():
        return db.session.scalars(sa.select(Country.id).filter_by(iso_code="PE")).one()


def events(app, action: str) -> list[AuditEvent]:
    with app.app_context():
        return list(db.session.scalars(sa.select(AuditEvent).filter_by(action=action).order_by(AuditEvent.id)))


@pytest.fixture
def admin(login_as) -> Client:
    return login_as(Role.admin)


def new_user_form(**overrides) -> dict:
    data = {"email": "nueva@example.org", "name": "Nueva Usuaria", "role": "reporter", "institution": "PE:MGP",
            "plans": [], "password": TEMP_PASSWORD}
    return data | overrides


def create_user(admin: Client, **overrides):
    return admin.post_form("/admin/users/new", new_user_form(**overrides))


def user_form(user: User, **overrides) -> dict:
    """What the edit form posts when saved unchanged (see user_by_email), with the overrides."""
    institution = f"{user.institution.country.iso_code}:{user.institution.code}" if user.institution else ""
    data = {"email": user.email, "name": user.name, "role": user.role.value, "institution": institution,
            "plans": user.plan_codes}
    return data | overrides


def institution_form(app, **overrides) -> dict:
    data = {"code": "DIGEDOC", "name_es": "Dirección de Doctrina", "name_en": "Doctrine Directorate",
            "kind": "armed_forces", "country": str(peru_id(app)), "parent": ""}
    return data | overrides


# -- users: create --------------------------------------------------------------------------------


def test_users_page_lists_every_account(admin, make_user):
    make_user(Role.reporter)
    page = text(admin.get("/admin/users"))
    assert "reporter-mgp@example.org" in page and ADMIN_EMAIL in page


def test_new_user_form_offers_the_institutions_by_country(admin):
    page = admin.get("/admin/users/new")
    assert page.status_code == 200
    html_text = text(page)
    assert '<optgroup label="Perú">' in html_text
    assert '<option value="PE:MGP">PE · MGP — MGP (es)</option>' in html_text


def test_new_user_form_offers_the_plans_with_their_monitoring_body(admin):
    page = text(admin.get("/admin/users/new"))
    assert 'name="plans" type="checkbox" value="PE-2021"' in page
    assert "PE-2021 · Plan (es) — Comité (es)" in page


@pytest.mark.parametrize(("role", "code"), [(Role.reporter, "MGP"), (Role.committee, "CIG-MINDEF"), (Role.viewer, ""), (Role.admin, "")])
def test_admin_creates_a_user(app, admin, role, code):
    plans = ["PE-2021"] if role == Role.committee else []
    response = create_user(admin, role=role.value, institution=f"PE:{code}" if code else "", plans=plans)
    assert response.status_code == 302
    assert response.headers["Location"] == "/admin/users"
    user = user_by_email(app, "nueva@example.org")
    assert (user.role, user.institution.code if user.institution else "") == (role, code)
    assert user.name == "Nueva Usuaria" and user.active
    assert user.plan_codes == plans


def test_created_user_has_an_argon2_hash_not_the_password(app, admin):
    create_user(admin)
    user = user_by_email(app, "nueva@example.org")
    assert user.password_hash.startswith("$argon2")
    assert TEMP_PASSWORD not in user.password_hash


def test_created_user_must_change_the_password_at_first_login(app, admin):
    create_user(admin)
    assert user_by_email(app, "nueva@example.org").must_change_password is True
    response = Client(app.test_client()).login("nueva@example.org", TEMP_PASSWORD)
    assert response.status_code == 302 and response.headers["Location"] == "/account/password"


def test_created_email_is_stored_in_lowercase(app, admin):
    create_user(admin, email="  Nueva.Persona@Example.ORG ")
    assert user_by_email(app, "nueva.persona@example.org") is not None


def test_user_creation_is_audited_with_the_admin(app, admin):
    create_user(admin)
    (event,) = [e for e in events(app, "user.created") if e.details_dict["email"] == "nueva@example.org"]
    assert event.actor_email == ADMIN_EMAIL
    assert event.details_dict == {"email": "nueva@example.org", "role": "reporter", "institution": "PE:MGP", "plans": [], "focal_point": False}


def test_duplicate_email_is_refused_and_the_input_kept(app, admin, make_user):
    make_user(Role.viewer, email="nueva@example.org")
    response = create_user(admin, name="Otra Persona", role="committee", institution="PE:CIG-MINDEF", plans=["PE-2021"])
    assert response.status_code == 400
    page = text(response)
    assert translated(app, "Another account already uses this e-mail address.") in page
    assert 'value="nueva@example.org"' in page and 'value="Otra Persona"' in page
    assert '<option selected value="committee">' in response.get_data(as_text=True)
    assert checked_plans(response) == ["PE-2021"]
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(User).filter_by(email="nueva@example.org")) == 1


def test_reporter_without_institution_is_refused_and_the_input_kept(app, admin):
    response = create_user(admin, institution="")
    assert response.status_code == 400
    page = text(response)
    assert translated(app, "A reporter must belong to an institution.") in page
    assert 'value="nueva@example.org"' in page and 'value="Nueva Usuaria"' in page
    assert user_by_email(app, "nueva@example.org") is None


def test_unknown_institution_is_refused(app, admin):
    response = create_user(admin, institution="NOPE")
    assert response.status_code == 400
    assert translated(app, "Unknown institution %(code)s.", code="NOPE") in text(response)
    assert user_by_email(app, "nueva@example.org") is None


def test_short_temporary_password_is_refused_and_not_echoed(app, admin):
    response = create_user(admin, password="Short-pw-9")
    assert response.status_code == 400
    page = text(response)
    assert translated(app, "Use at least %(n)d characters.", n=12) in page
    assert 'value="nueva@example.org"' in page
    assert "Short-pw-9" not in page  # passwords are never sent back
    assert user_by_email(app, "nueva@example.org") is None


def test_common_temporary_password_is_refused(app, admin):
    response = create_user(admin, password="password1234")
    assert response.status_code == 400
    assert translated(app, "This password is on the list of common passwords. Choose another.") in text(response)
    assert user_by_email(app, "nueva@example.org") is None


def test_invalid_email_is_refused(app, admin):
    response = create_user(admin, email="not-an-address")
    assert response.status_code == 400
    assert translated(app, "Enter a valid e-mail address.") in text(response)
    assert user_by_email(app, "not-an-address") is None


# -- users: edit ----------------------------------------------------------------------------------


def test_edit_page_shows_the_current_role_and_institution(admin, make_user):
    user_id, _ = make_user(Role.reporter)
    page = admin.get(f"/admin/users/{user_id}").get_data(as_text=True)
    assert '<option selected value="reporter">' in page
    assert '<option selected value="PE:MGP">' in page


def test_admin_changes_role_and_institution(app, admin, make_user):
    user_id, email = make_user(Role.reporter)
    user = user_by_email(app, email)
    response = admin.post_form(f"/admin/users/{user_id}", user_form(user, role="committee", institution="PE:CIG-MINDEF",
                                                                    plans=["PE-2021"]))
    assert response.status_code == 302
    changed = user_by_email(app, email)
    assert (changed.role, changed.institution.code, changed.plan_codes) == (Role.committee, "CIG-MINDEF", ["PE-2021"])


def test_role_change_is_audited_with_the_changes(app, admin, make_user):
    user_id, email = make_user(Role.reporter)
    user = user_by_email(app, email)
    admin.post_form(f"/admin/users/{user_id}", user_form(user, role="committee", institution="PE:CIG-MINDEF", plans=["PE-2021"]))
    (event,) = events(app, "user.updated")
    assert event.actor_email == ADMIN_EMAIL and event.target_id == str(user_id)
    assert event.details_dict == {"changes": {"role": ["reporter", "committee"], "institution": ["PE:MGP", "PE:CIG-MINDEF"],
                                              "plans": [[], ["PE-2021"]]}}


def test_saving_without_changes_writes_no_audit_event(app, admin, make_user):
    user_id, email = make_user(Role.reporter)
    response = admin.post_form(f"/admin/users/{user_id}", user_form(user_by_email(app, email)))
    assert response.status_code == 302
    assert events(app, "user.updated") == []


def test_role_change_applies_to_the_open_session(app, admin, login_as):
    reporter = login_as(Role.reporter)
    user = user_by_email(app, "reporter-mgp@example.org")
    assert reporter.get("/admin/users").status_code == 403
    admin.post_form(f"/admin/users/{user.id}", user_form(user, role="admin", institution=""))
    assert reporter.get("/admin/users").status_code == 200


def test_edit_to_reporter_without_institution_is_refused_and_input_kept(app, admin, make_user):
    user_id, email = make_user(Role.viewer)
    user = user_by_email(app, email)
    response = admin.post_form(f"/admin/users/{user_id}", user_form(user, role="reporter", name="Nombre Nuevo"))
    assert response.status_code == 400
    assert translated(app, "A reporter must belong to an institution.") in text(response)
    assert 'value="Nombre Nuevo"' in text(response)
    assert user_by_email(app, email).role == Role.viewer


def test_edit_to_an_email_already_used_is_refused(app, admin, make_user):
    user_id, email = make_user(Role.viewer)
    response = admin.post_form(f"/admin/users/{user_id}", user_form(user_by_email(app, email), email=ADMIN_EMAIL))
    assert response.status_code == 400
    assert translated(app, "Another account already uses this e-mail address.") in text(response)
    assert user_by_email(app, email) is not None


def test_admin_cannot_remove_their_own_admin_role(app, admin):
    me = user_by_email(app, ADMIN_EMAIL)
    response = admin.post_form(f"/admin/users/{me.id}", user_form(me, role="viewer"))
    assert response.status_code == 400
    assert translated(app, "You cannot remove your own administrator role.") in text(response)
    assert user_by_email(app, ADMIN_EMAIL).role == Role.admin


def test_admin_can_rename_themselves(app, admin):
    me = user_by_email(app, ADMIN_EMAIL)
    assert admin.post_form(f"/admin/users/{me.id}", user_form(me, name="Jefa de Sistemas")).status_code == 302
    assert user_by_email(app, ADMIN_EMAIL).name == "Jefa de Sistemas"


# -- users: deactivate, reactivate ----------------------------------------------------------------


def set_active(admin: Client, user_id: int, state: str):
    return admin.post_form(f"/admin/users/{user_id}/active/{state}", token_from="/admin/users")


def test_admin_deactivates_a_user(app, admin, make_user):
    user_id, email = make_user(Role.reporter)
    response = set_active(admin, user_id, "off")
    assert response.status_code == 302
    assert user_by_email(app, email).active is False
    assert [e.target_id for e in events(app, "user.deactivated")] == [str(user_id)]


def test_deactivated_user_keeps_history_and_stays_listed(app, admin, make_user):
    user_id, email = make_user(Role.reporter)
    Client(app.test_client()).login(email)  # some history: a login
    set_active(admin, user_id, "off")
    assert [e.actor_id for e in events(app, "login.succeeded") if e.actor_email == email] == [user_id]
    page = text(admin.get("/admin/users"))
    assert email in page
    assert translated(app, "Deactivated") in page


def test_deactivated_user_cannot_log_in(app, admin, make_user):
    user_id, email = make_user(Role.reporter)
    set_active(admin, user_id, "off")
    assert Client(app.test_client()).login(email).status_code == 401


def test_admin_reactivates_a_user(app, admin, make_user):
    user_id, email = make_user(Role.reporter)
    set_active(admin, user_id, "off")
    assert set_active(admin, user_id, "on").status_code == 302
    assert user_by_email(app, email).active is True
    assert Client(app.test_client()).login(email).status_code == 302
    assert [e.target_id for e in events(app, "user.activated")] == [str(user_id)]


def test_admin_cannot_deactivate_themselves(app, admin):
    me = user_by_email(app, ADMIN_EMAIL)
    response = set_active(admin, me.id, "off")
    assert response.status_code == 302
    assert user_by_email(app, ADMIN_EMAIL).active is True
    assert translated(app, "You cannot deactivate your own account.") in text(admin.get(response.headers["Location"]))
    assert admin.get("/admin/users").status_code == 200  # still logged in


def test_users_page_offers_no_deactivate_button_for_oneself(app, admin):
    me = user_by_email(app, ADMIN_EMAIL)
    assert f"/admin/users/{me.id}/active/off" not in admin.get("/admin/users").get_data(as_text=True)


def test_deactivation_needs_a_csrf_token(app, admin, make_user):
    user_id, email = make_user(Role.reporter)
    assert admin.post(f"/admin/users/{user_id}/active/off").status_code == 400
    assert user_by_email(app, email).active is True


# -- users: reset password ------------------------------------------------------------------------


def test_admin_resets_a_password_and_the_user_must_change_it(app, admin, make_user):
    user_id, email = make_user(Role.reporter)
    response = admin.post_form(f"/admin/users/{user_id}/password", {"password": TEMP_PASSWORD}, token_from=f"/admin/users/{user_id}")
    assert response.status_code == 302
    user = user_by_email(app, email)
    assert user.must_change_password is True
    assert Client(app.test_client()).login(email, PASSWORD).status_code == 401
    login = Client(app.test_client()).login(email, TEMP_PASSWORD)
    assert login.status_code == 302 and login.headers["Location"] == "/account/password"


def test_password_reset_is_audited(app, admin, make_user):
    user_id, _ = make_user(Role.reporter)
    admin.post_form(f"/admin/users/{user_id}/password", {"password": TEMP_PASSWORD}, token_from=f"/admin/users/{user_id}")
    (event,) = events(app, "user.password_reset")
    assert (event.actor_email, event.target_id) == (ADMIN_EMAIL, str(user_id))
    assert TEMP_PASSWORD not in event.details


def test_weak_reset_password_is_refused(app, admin, make_user):
    user_id, email = make_user(Role.reporter)
    before = user_by_email(app, email).password_hash
    response = admin.post_form(f"/admin/users/{user_id}/password", {"password": "123qweasdzxc"}, token_from=f"/admin/users/{user_id}")
    assert response.status_code == 400
    page = text(response)
    assert translated(app, "This password is on the list of common passwords. Choose another.") in page
    assert f'value="{email}"' in page  # the edit form is shown again with the user's data
    assert user_by_email(app, email).password_hash == before


# -- institutions ---------------------------------------------------------------------------------


def test_institutions_page_lists_them(admin):
    page = text(admin.get("/admin/institutions"))
    assert "MGP" in page and "CIG-MINDEF" in page


def test_admin_creates_an_institution(app, admin):
    response = admin.post_form("/admin/institutions/new", institution_form(app, code="digedoc", parent=str(institution(app, "MGP").id)))
    assert response.status_code == 302
    inst = institution(app, "DIGEDOC")
    assert (inst.name_es, inst.name_en, inst.kind.value, inst.parent.code) == (
        "Dirección de Doctrina", "Doctrine Directorate", "armed_forces", "MGP")
    assert [e.details_dict["code"] for e in events(app, "institution.created")] == ["DIGEDOC"]


def test_duplicate_institution_code_is_refused_and_the_input_kept(app, admin):
    response = admin.post_form("/admin/institutions/new", institution_form(app, code="mgp", name_es="Otra Marina"))
    assert response.status_code == 200
    page = text(response)
    assert translated(app, "Another institution of this country uses this code.") in page
    assert 'value="Otra Marina"' in page and 'value="mgp"' in page
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Institution).filter_by(code="MGP")) == 1


def test_institution_code_with_spaces_is_refused(app, admin):
    response = admin.post_form("/admin/institutions/new", institution_form(app, code="DIR DOC"))
    assert response.status_code == 200
    assert translated(app, "Letters, digits, dots, dashes and underscores only.") in text(response)
    assert institution(app, "DIR DOC") is None


def test_admin_edits_an_institution(app, admin):
    mgp = institution(app, "MGP")
    form = institution_form(app, code="MGP", name_es="Marina de Guerra del Perú (editado)", name_en="Peruvian Navy", kind="armed_forces")
    response = admin.post_form(f"/admin/institutions/{mgp.id}", form)
    assert response.status_code == 302
    assert institution(app, "MGP").name_es == "Marina de Guerra del Perú (editado)"
    assert [e.target_id for e in events(app, "institution.updated")] == [str(mgp.id)]


def test_edit_page_shows_the_current_values(app, admin):
    mgp = institution(app, "MGP")
    page = admin.get(f"/admin/institutions/{mgp.id}").get_data(as_text=True)
    assert f'value="{mgp.code}"' in page
    assert '<option selected value="armed_forces">' in page or f'<option selected value="{mgp.kind.value}">' in page


def test_editing_to_another_institutions_code_is_refused(app, admin):
    mgp = institution(app, "MGP")
    response = admin.post_form(f"/admin/institutions/{mgp.id}", institution_form(app, code="FAP"))
    assert response.status_code == 200
    assert translated(app, "Another institution of this country uses this code.") in text(response)
    assert institution(app, "MGP") is not None


def test_institution_cannot_be_part_of_itself(app, admin):
    mgp = institution(app, "MGP")
    response = admin.post_form(f"/admin/institutions/{mgp.id}", institution_form(app, code="MGP", parent=str(mgp.id)))
    assert response.status_code == 200
    assert translated(app, "An institution cannot be part of itself.") in text(response)
    assert institution(app, "MGP").parent_id != mgp.id


def test_institution_cannot_be_part_of_its_own_part(app, admin):
    """MGP is made part of MINDEF; making MINDEF part of MGP then would be a loop."""
    mgp, mindef = institution(app, "MGP"), institution(app, "MINDEF")
    form = institution_form(app, code="MGP", name_es=mgp.name_es, kind=mgp.kind.value, parent=str(mindef.id))
    assert admin.post_form(f"/admin/institutions/{mgp.id}", form).status_code == 302
    assert institution(app, "MGP").parent_id == mindef.id
    form = institution_form(app, code="MINDEF", name_es=mindef.name_es, kind=mindef.kind.value, parent=str(mgp.id))
    response = admin.post_form(f"/admin/institutions/{mindef.id}", form)
    assert response.status_code == 200
    assert translated(app, "An institution cannot be part of itself.") in text(response)
    assert institution(app, "MINDEF").parent_id != mgp.id


@pytest.mark.parametrize("parent", ["999999", "abc"])
def test_unknown_parent_is_refused_not_a_server_error(app, admin, parent):
    response = admin.post_form("/admin/institutions/new", institution_form(app, parent=parent))
    assert response.status_code == 200
    assert translated(app, "Choose an institution from the list.") in text(response)
    assert institution(app, "DIGEDOC") is None


@pytest.mark.parametrize("country", ["999999", "abc", ""])
def test_unknown_country_is_refused_not_a_server_error(app, admin, country):
    response = admin.post_form("/admin/institutions/new", institution_form(app, country=country))
    assert response.status_code == 200
    assert translated(app, "Choose a country.") in text(response)
    assert institution(app, "DIGEDOC") is None


# -- audit log ------------------------------------------------------------------------------------


def test_audit_log_lists_events_with_who_and_from_where(app, admin, make_user):
    _, email = make_user(Role.viewer)
    Client(app.test_client()).login(email, "Wrong-password-xyz-1")
    page = text(admin.get("/admin/audit"))
    assert "login.failed" in page and email in page and "127.0.0.1" in page
    assert "login.succeeded" in page and ADMIN_EMAIL in page


def test_audit_log_filters_by_action(app, admin, make_user):
    _, email = make_user(Role.viewer)
    Client(app.test_client()).login(email, "Wrong-password-xyz-1")
    page = text(admin.get("/admin/audit?action=login.failed"))
    assert "login.failed" in page
    assert "login.succeeded" not in page


def test_audit_log_filters_by_action_prefix(app, admin, make_user):
    make_user(Role.viewer)  # user.created
    page = text(admin.get("/admin/audit?action=user."))
    assert "user.created" in page and "login.succeeded" not in page


def test_audit_log_filter_takes_underscore_literally(app, admin, make_user):
    user_id, _ = make_user(Role.reporter)
    admin.post_form(f"/admin/users/{user_id}/password", {"password": TEMP_PASSWORD}, token_from=f"/admin/users/{user_id}")
    assert "user.password_reset" in text(admin.get("/admin/audit?action=user.password_reset"))
    assert "user.password_reset" not in text(admin.get("/admin/audit?action=user.password%reset"))
    assert "user.password_reset" not in text(admin.get("/admin/audit?action=user_password"))


def test_audit_log_filters_by_actor(app, admin, make_user):
    _, email = make_user(Role.viewer)
    Client(app.test_client()).login(email)
    page = text(admin.get(f"/admin/audit?actor={email}"))
    assert email in page and ADMIN_EMAIL not in page.split("<tbody>")[1]


def test_audit_log_shows_a_message_when_nothing_matches(app, admin):
    page = text(admin.get("/admin/audit?action=nothing.like.this"))
    assert translated(app, "No events match.") in page


def test_audit_log_pages(app, admin):
    with app.test_request_context():
        from tracker import audit

        for i in range(60):
            audit.record(db.session, "test.event", actor_email=f"n{i:02d}@example.org")
        db.session.commit()
    first = text(admin.get("/admin/audit?action=test."))
    second = text(admin.get("/admin/audit?action=test.&page=2"))
    assert "n59@example.org" in first and "n00@example.org" not in first
    assert "n00@example.org" in second and "n59@example.org" not in second
    assert admin.get("/admin/audit?page=0").status_code == 200


# -- non-admins -----------------------------------------------------------------------------------

ADMIN_PAGES = ["/admin/users", "/admin/users/new", "/admin/institutions", "/admin/institutions/new", "/admin/audit"]


@pytest.mark.parametrize("role", NON_ADMINS)
@pytest.mark.parametrize("path", ADMIN_PAGES)
def test_non_admins_get_403_on_admin_pages(login_as, role, path):
    assert login_as(role).get(path).status_code == 403


@pytest.mark.parametrize("role", NON_ADMINS)
def test_non_admins_cannot_create_users(app, login_as, role):
    c = login_as(role)
    token = c.csrf_token("/account/password")
    response = c.post("/admin/users/new", data={**new_user_form(), "csrf_token": token})
    assert response.status_code == 403
    assert user_by_email(app, "nueva@example.org") is None


@pytest.mark.parametrize("role", NON_ADMINS)
def test_non_admins_cannot_deactivate_users(app, login_as, make_user, role):
    target_id, target = make_user(Role.viewer, email="target@example.org")
    c = login_as(role)
    token = c.csrf_token("/account/password")
    assert c.post(f"/admin/users/{target_id}/active/off", data={"csrf_token": token}).status_code == 403
    assert user_by_email(app, target).active is True


@pytest.mark.parametrize("role", NON_ADMINS)
def test_non_admins_cannot_reset_passwords(app, login_as, make_user, role):
    target_id, target = make_user(Role.viewer, email="target@example.org")
    before = user_by_email(app, target).password_hash
    c = login_as(role)
    token = c.csrf_token("/account/password")
    response = c.post(f"/admin/users/{target_id}/password", data={"csrf_token": token, "password": TEMP_PASSWORD})
    assert response.status_code == 403
    assert user_by_email(app, target).password_hash == before


@pytest.mark.parametrize("role", NON_ADMINS)
def test_non_admins_do_not_see_admin_links(login_as, role):
    page = login_as(role).get("/plans/").get_data(as_text=True)
    assert "/admin/" not in page


def test_admin_sees_admin_links(admin):
    page = admin.get("/plans/").get_data(as_text=True)
    for path in ("/admin/users", "/admin/institutions", "/admin/audit"):
        assert f'href="{path}"' in page
