"""Account changes are told to the people they concern: the committee hears of every new reviewer and of
reviewers' password resets; users hear of lockouts, resets, role changes and password changes (issue 12)."""

from __future__ import annotations

import html

import pytest
import sqlalchemy as sa

from conftest import PASSWORD
from test_admin import TEMP_PASSWORD, admin, create_user, events, peru, user_by_email, user_form  # noqa: F401
from tracker.auth.models import Role
from tracker.db import db
from tracker.progress.models import Notification, OutboxMessage


def spanish_label(app, value) -> str:
    from flask_babel import force_locale

    from tracker.labels import label

    with app.test_request_context(), force_locale("es"):
        return label(value)


def notification_title(app, event: str) -> str:
    """The title the notifications page gives an event, in Spanish (the users' language here)."""
    from flask_babel import force_locale

    from tracker.labels import event_label

    with app.test_request_context(), force_locale("es"):
        return event_label(event)


def mails(app, to: str | None = None) -> list[OutboxMessage]:
    with app.app_context():
        query = sa.select(OutboxMessage).order_by(OutboxMessage.id)
        if to:
            query = query.filter_by(to_email=to)
        return list(db.session.scalars(query))


def notices(app, event: str) -> list[Notification]:
    with app.app_context():
        return list(db.session.scalars(sa.select(Notification).filter_by(event=event).order_by(Notification.user_id)))


@pytest.fixture
def committee_members(app, make_user):
    """Two committee members already in office (what their own creation sent is cleared)."""
    ids = [make_user(Role.committee, email=f"miembro{n}@example.org")[0] for n in (1, 2)]
    with app.app_context():
        db.session.execute(sa.delete(Notification))
        db.session.execute(sa.delete(OutboxMessage))
        db.session.commit()
    return ids


def test_new_committee_account_is_told_to_every_committee_member(app, admin, committee_members):
    assert create_user(admin, email="nuevo@example.org", role="committee", institution="PE:CIG-MINDEF",
                       plans=["PE-2021"]).status_code == 302
    told = notices(app, "committee_role_granted")
    assert sorted(n.user_id for n in told) == sorted(committee_members)
    assert all("nuevo@example.org" in n.note and "admin-none@example.org" in n.note for n in told)
    sent = [m for m in mails(app) if "nuevo@example.org" in m.subject]
    assert sorted(m.to_email for m in sent) == ["miembro1@example.org", "miembro2@example.org"]
    assert all(m.sent_at is not None for m in sent), "delivered after the commit"
    assert "admin-none@example.org" in sent[0].body
    assert events(app, "user.committee_role_granted")[-1].details_dict["email"] == "nuevo@example.org"


def test_turning_an_account_into_a_reviewer_is_told_to_the_committee_and_the_user(app, admin, make_user, committee_members):
    user_id, email = make_user(Role.viewer, email="auditora@example.org")
    user = user_by_email(app, email)
    response = admin.post_form(f"/admin/users/{user_id}", user_form(user, role="committee", institution="PE:CIG-MINDEF",
                                                                    plans=["PE-2021"]))
    assert response.status_code == 302
    assert len(notices(app, "committee_role_granted")) == 2
    (role_mail,) = [m for m in mails(app, email) if m.subject == "Su rol en NAP Tracker cambió"]
    assert f"de {spanish_label(app, Role.viewer)} a {spanish_label(app, Role.committee)}." in role_mail.body


def test_other_role_changes_tell_only_the_user(app, admin, make_user, committee_members):
    user_id, email = make_user(Role.viewer, email="auditora@example.org")
    user = user_by_email(app, email)
    admin.post_form(f"/admin/users/{user_id}", user_form(user, role="reporter", institution="MGP"))
    assert notices(app, "committee_role_granted") == []
    assert [m.to_email for m in mails(app)] == [email]


def test_resetting_a_reviewers_password_is_told_to_the_committee(app, admin, committee_members):
    target = committee_members[0]
    response = admin.post_form(f"/admin/users/{target}/password", {"password": TEMP_PASSWORD}, token_from=f"/admin/users/{target}")
    assert response.status_code == 302
    assert [n.user_id for n in notices(app, "committee_password_reset")] == [committee_members[1]]
    (own,) = [m for m in mails(app, "miembro1@example.org") if m.subject == "Se restableció su contraseña de NAP Tracker"]
    assert TEMP_PASSWORD not in own.body
    assert len(events(app, "user.password_reset")) == 1


def test_resetting_a_reporters_password_tells_only_the_reporter(app, admin, make_user, committee_members):
    user_id, email = make_user(Role.reporter)
    admin.post_form(f"/admin/users/{user_id}/password", {"password": TEMP_PASSWORD}, token_from=f"/admin/users/{user_id}")
    assert notices(app, "committee_password_reset") == []
    assert [m.to_email for m in mails(app)] == [email]


def test_committee_account_created_from_the_command_line_is_told(app, committee_members):
    result = app.test_cli_runner().invoke(args=["users", "create", "cli@example.org", "--role", "committee",
                                                "--institution", "PE:CIG-MINDEF", "--plan", "PE-2021"],
                                          input=TEMP_PASSWORD + "\n")
    assert result.exit_code == 0, result.output
    told = notices(app, "committee_role_granted")
    assert len(told) == 2 and all("CLI" in n.note for n in told)


def test_committee_notice_reads_in_the_notifications_page(app, admin, committee_members, client):
    create_user(admin, email="nuevo@example.org", role="committee", institution="PE:CIG-MINDEF", plans=["PE-2021"])
    client.login("miembro1@example.org")
    page = client.get("/notifications").get_data(as_text=True)
    assert html.unescape(notification_title(app, "committee_role_granted")) in html.unescape(page) and "nuevo@example.org" in page


def test_the_failure_that_locks_an_account_mails_its_owner_once(app, make_user, client):
    _, email = make_user(Role.reporter)
    statuses = [client.login(email, "wrong-password-xyz").status_code for _ in range(7)]
    assert statuses == [401] * 5 + [429] * 2
    (locked,) = mails(app, email)
    assert locked.subject == "Su cuenta de NAP Tracker está bloqueada por un tiempo"
    assert "15 minutos" in locked.body
    assert len(events(app, "login.locked")) == 1


def test_failures_on_unknown_accounts_send_nothing(app, client, peru):
    for _ in range(6):
        client.login("nadie@example.org", "wrong-password-xyz")
    assert mails(app) == []


def test_changing_ones_password_mails_the_user(app, login_as):
    viewer = login_as(Role.viewer)
    response = viewer.post_form("/account/password", {"current_password": PASSWORD, "password": "Orchid-Basalt-Compass-88",
                                                      "confirm": "Orchid-Basalt-Compass-88"})
    assert response.status_code == 302
    (changed,) = mails(app, "viewer-none@example.org")
    assert changed.subject == "Su contraseña de NAP Tracker fue cambiada"


@pytest.mark.parametrize("role", [Role.reporter, Role.admin])
def test_password_built_from_the_country_is_refused(app, admin, role):
    institution = "MGP" if role == Role.reporter else ""
    response = create_user(admin, email="peru@example.org", role=role.value, institution=institution, password="Peru2026Peru2026")
    assert response.status_code == 400
    assert user_by_email(app, "peru@example.org") is None


def test_password_built_from_the_institution_is_refused(app, ctx, peru):
    from tracker.auth.services import context_words
    from tracker.plan.models import Institution

    navy = db.session.scalars(sa.select(Institution).filter_by(code="MGP")).one()
    words = context_words(db.session, "ana@example.org", "Ana", navy)
    assert {"MGP", "Perú", "Peru", "PE", "nap", "tracker"} <= set(words)


def test_the_published_demo_password_is_refused_outside_development(app, ctx, monkeypatch):
    from tracker.auth.passwords import password_problems
    from tracker.demo import DEMO_PASSWORD

    assert password_problems(DEMO_PASSWORD) == []  # development and tests create the demo accounts with it
    monkeypatch.setitem(app.config, "DEMO_ACCOUNTS", False)
    assert password_problems(DEMO_PASSWORD) != []
