"""`tracker users ...` and `tracker demo accounts` (issue 3)."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from conftest import Client, import_chile_without_a_body
from test_auth import seed_light_peru
from tracker.audit import AuditEvent
from tracker.demo_cli import DEMO_ACCOUNTS, DEMO_PASSWORD
from tracker.auth.models import Role, User
from tracker.db import db

@pytest.fixture
def peru(app):
    """Overrides conftest's `peru` (and so make_user and login_as): institutions only, not the whole plan."""
    seed_light_peru(app)


CLI_PASSWORD = "Quartz-Meadow-Lantern-Ferry-58"


def user(app, email: str) -> User | None:
    with app.app_context():
        row = db.session.scalars(sa.select(User).filter_by(email=email)).one_or_none()
        if row is not None:
            _ = row.institution
        return row


def user_count(app) -> int:
    with app.app_context():
        return db.session.scalar(sa.select(sa.func.count()).select_from(User))


def assert_one_line_error(result) -> None:
    assert result.exit_code != 0
    assert "Traceback" not in result.output
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("Error: "), result.output


# -- users create ---------------------------------------------------------------------------------


def test_create_reads_the_password_from_standard_input(app, cli, peru):
    result = cli("users", "create", "marina@example.org", "--role", "reporter", "--institution", "MGP", input=CLI_PASSWORD + "\n")
    assert result.exit_code == 0, result.output
    row = user(app, "marina@example.org")
    assert (row.role, row.institution.code, row.active) == (Role.reporter, "MGP", True)
    assert row.password_hash.startswith("$argon2")
    assert "marina@example.org" in result.output


def test_created_account_can_log_in_with_the_piped_password(app, cli, peru):
    cli("users", "create", "marina@example.org", "--role", "reporter", "--institution", "MGP", input=CLI_PASSWORD + "\n")
    response = Client(app.test_client()).login("marina@example.org", CLI_PASSWORD)
    assert response.status_code == 302


def test_created_account_must_change_the_password_by_default(app, cli, peru):
    cli("users", "create", "visor@example.org", "--role", "viewer", input=CLI_PASSWORD + "\n")
    assert user(app, "visor@example.org").must_change_password is True


def test_created_account_may_skip_the_password_change(app, cli, peru):
    cli("users", "create", "visor@example.org", "--role", "viewer", "--no-change-required", input=CLI_PASSWORD + "\n")
    assert user(app, "visor@example.org").must_change_password is False


def test_create_takes_a_name(app, cli, peru):
    cli("users", "create", "visor@example.org", "--role", "viewer", "--name", "Rosa Mamani", input=CLI_PASSWORD + "\n")
    assert user(app, "visor@example.org").name == "Rosa Mamani"


def test_create_is_audited_as_done_from_the_command_line(app, cli, peru):
    cli("users", "create", "visor@example.org", "--role", "viewer", input=CLI_PASSWORD + "\n")
    with app.app_context():
        (event,) = db.session.scalars(sa.select(AuditEvent).filter_by(action="user.created")).all()
    assert (event.address, event.actor_id) == ("cli", None)


@pytest.mark.parametrize("role", [Role.committee, Role.viewer, Role.admin])
def test_create_every_role(app, cli, peru, role):
    plans = ["--plan", "PE-2021"] if role == Role.committee else []
    result = cli("users", "create", f"{role.value}@example.org", "--role", role.value, *plans, input=CLI_PASSWORD + "\n")
    assert result.exit_code == 0, result.output
    assert user(app, f"{role.value}@example.org").role == role


@pytest.fixture
def terminal(monkeypatch):
    """Make the command believe standard input is a terminal, so it prompts (twice) for the password."""
    import sys

    import tracker.auth.cli

    class TerminalStdin:
        def isatty(self) -> bool:
            return True

        def __getattr__(self, name):
            return getattr(sys.stdin, name)

    class FakeSys:
        stdin = TerminalStdin()

    monkeypatch.setattr(tracker.auth.cli, "sys", FakeSys)


def test_create_prompts_for_the_password_on_a_terminal(app, cli, peru, terminal):
    result = cli("users", "create", "visor@example.org", "--role", "viewer", input=f"{CLI_PASSWORD}\n{CLI_PASSWORD}\n")
    assert result.exit_code == 0, result.output
    assert "Password" in result.output and CLI_PASSWORD not in result.output
    assert Client(app.test_client()).login("visor@example.org", CLI_PASSWORD).status_code == 302


def test_create_on_a_terminal_asks_again_when_the_repetition_differs(app, cli, peru, terminal):
    typed = f"{CLI_PASSWORD}\nsomething-else-entirely\n{CLI_PASSWORD}\n{CLI_PASSWORD}\n"
    result = cli("users", "create", "visor@example.org", "--role", "viewer", input=typed)
    assert result.exit_code == 0, result.output
    assert "do not match" in result.output or "match" in result.output
    assert user(app, "visor@example.org") is not None


def test_reporter_without_institution_is_one_line_error(app, cli, peru):
    result = cli("users", "create", "marina@example.org", "--role", "reporter", input=CLI_PASSWORD + "\n")
    assert_one_line_error(result)
    assert "institution" in result.output
    assert user(app, "marina@example.org") is None


def test_unknown_institution_is_one_line_error(app, cli, peru):
    result = cli("users", "create", "x@example.org", "--role", "reporter", "--institution", "NOPE", input=CLI_PASSWORD + "\n")
    assert_one_line_error(result)
    assert "NOPE" in result.output


def test_weak_password_is_one_line_error(app, cli, peru):
    result = cli("users", "create", "visor@example.org", "--role", "viewer", input="password1234\n")
    assert_one_line_error(result)
    assert "password" in result.output
    assert user(app, "visor@example.org") is None


def test_missing_password_is_one_line_error(app, cli, peru):
    result = cli("users", "create", "visor@example.org", "--role", "viewer", input="")
    assert_one_line_error(result)
    assert user(app, "visor@example.org") is None


def test_duplicate_email_is_one_line_error(app, cli, make_user):
    make_user(Role.viewer, email="visor@example.org")
    result = cli("users", "create", "VISOR@example.org", "--role", "viewer", input=CLI_PASSWORD + "\n")
    assert_one_line_error(result)
    assert user_count(app) == 1


def test_invalid_email_is_one_line_error(app, cli, peru):
    result = cli("users", "create", "not-an-email", "--role", "viewer", input=CLI_PASSWORD + "\n")
    assert_one_line_error(result)
    assert user_count(app) == 0


def test_unknown_role_is_refused(app, cli, peru):
    result = cli("users", "create", "x@example.org", "--role", "superuser", input=CLI_PASSWORD + "\n")
    assert result.exit_code != 0
    assert "Traceback" not in result.output
    assert user_count(app) == 0


# -- users list, deactivate -----------------------------------------------------------------------


def test_list_shows_every_account_with_role_institution_and_state(app, cli, make_user):
    make_user(Role.reporter)
    make_user(Role.viewer)
    result = cli("users", "list")
    assert result.exit_code == 0
    lines = result.output.splitlines()
    reporter = next(line for line in lines if line.startswith("reporter-mgp@example.org"))
    viewer = next(line for line in lines if line.startswith("viewer-none@example.org"))
    assert reporter.split("\t")[1:5] == ["reporter", "PE:MGP", "-", "active"]
    assert viewer.split("\t")[1:5] == ["viewer", "-", "all", "active"]


def test_list_shows_deactivated_accounts(app, cli, make_user):
    make_user(Role.viewer)
    cli("users", "deactivate", "viewer-none@example.org")
    line = next(line for line in cli("users", "list").output.splitlines() if line.startswith("viewer-none@example.org"))
    assert line.split("\t")[4] == "deactivated"


def test_deactivate_sets_the_account_inactive(app, cli, make_user):
    make_user(Role.reporter)
    result = cli("users", "deactivate", "reporter-mgp@example.org")
    assert result.exit_code == 0, result.output
    assert user(app, "reporter-mgp@example.org").active is False


def test_deactivated_account_cannot_log_in(app, cli, make_user):
    _, email = make_user(Role.reporter)
    cli("users", "deactivate", email)
    assert Client(app.test_client()).login(email).status_code == 401


def test_deactivate_accepts_any_case(app, cli, make_user):
    make_user(Role.reporter)
    assert cli("users", "deactivate", "Reporter-MGP@Example.org").exit_code == 0
    assert user(app, "reporter-mgp@example.org").active is False


def test_deactivate_unknown_email_fails(app, cli, peru):
    result = cli("users", "deactivate", "nobody@example.org")
    assert_one_line_error(result)
    assert "nobody@example.org" in result.output


def test_deactivate_is_audited(app, cli, make_user):
    user_id, email = make_user(Role.reporter)
    cli("users", "deactivate", email)
    with app.app_context():
        (event,) = db.session.scalars(sa.select(AuditEvent).filter_by(action="user.deactivated")).all()
    assert (event.target_id, event.address) == (str(user_id), "cli")


# -- demo accounts --------------------------------------------------------------------------------


def test_demo_accounts_creates_one_per_role_and_several_reporters(app, cli, peru):
    result = cli("demo", "accounts")
    assert result.exit_code == 0, result.output
    assert user_count(app) == len(DEMO_ACCOUNTS) == 9
    roles = [user(app, email).role for email, *_ in DEMO_ACCOUNTS]
    assert set(roles) == set(Role)
    assert roles.count(Role.reporter) >= 3
    assert "(9 new)" in result.output
    assert user(app, "jefatura.marina@demo.example.org").is_focal_point


def test_demo_accounts_prints_emails_and_password(app, cli, peru):
    result = cli("demo", "accounts")
    assert DEMO_PASSWORD in result.output
    for email, *_ in DEMO_ACCOUNTS:
        assert email in result.output


def test_demo_accounts_can_log_in_without_changing_the_password(app, cli, peru):
    cli("demo", "accounts")
    for email, *_ in DEMO_ACCOUNTS:
        response = Client(app.test_client()).login(email, DEMO_PASSWORD)
        assert response.status_code == 302 and response.headers["Location"] == "/", email


def test_demo_accounts_is_idempotent(app, cli, peru):
    cli("demo", "accounts")
    second = cli("demo", "accounts")
    assert second.exit_code == 0
    assert "(0 new)" in second.output
    assert user_count(app) == len(DEMO_ACCOUNTS)


def test_demo_accounts_without_the_plan_is_one_line_error(app, cli):
    """The demo reporters belong to the seeded institutions: without `tracker seed` nothing is created."""
    result = cli("demo", "accounts")
    assert_one_line_error(result)
    assert "tracker seed" in result.output
    assert user_count(app) == 0


def test_demo_accounts_refused_when_the_configuration_forbids_them(app, cli, peru, monkeypatch):
    monkeypatch.setitem(app.config, "DEMO_ACCOUNTS", False)
    result = cli("demo", "accounts")
    assert_one_line_error(result)
    assert user_count(app) == 0


# -- institutions within their country, plans (issue 14) ---------------------------------------------


# conftest's `chile`: the tests' plan file of Chile, plan CL-2022 with its monitoring body and its own MINDEF (a code
# Peru's list has too).
CL = "CL-2022"


def institution_of(app, email: str) -> str:
    row = user(app, email)
    with app.app_context():
        inst = db.session.merge(row).institution
        return f"{inst.country.iso_code}:{inst.code}"


def plans_of(app, email: str) -> list[str]:
    from tracker.auth.services import user_plan_codes

    with app.app_context():
        return user_plan_codes(db.session.scalars(sa.select(User).filter_by(email=email)).one())


def create(cli, email: str, *options: str):
    return cli("users", "create", email, *options, input=CLI_PASSWORD + "\n")


@pytest.mark.parametrize("ref", ["PE:MGP", "pe:mgp", "MGP"])
def test_create_takes_country_and_code(app, cli, peru, ref):
    result = create(cli, "marina@example.org", "--role", "reporter", "--institution", ref)
    assert result.exit_code == 0, result.output
    assert institution_of(app, "marina@example.org") == "PE:MGP"
    assert "(reporter, PE:MGP)" in result.output


def test_create_picks_the_institution_of_the_country_named(app, cli, chile):
    assert create(cli, "mindef@example.cl", "--role", "reporter", "--institution", "CL:MINDEF").exit_code == 0
    assert institution_of(app, "mindef@example.cl") == "CL:MINDEF"


def test_a_bare_code_two_countries_have_is_one_line_error_asking_for_the_country(app, cli, chile):
    result = create(cli, "mindef@example.org", "--role", "reporter", "--institution", "MINDEF")
    assert_one_line_error(result)
    assert "MINDEF" in result.output and "CL, PE" in result.output and "CL:MINDEF" in result.output
    assert user(app, "mindef@example.org") is None


def test_a_code_of_another_country_is_unknown(app, cli, chile):
    result = create(cli, "x@example.org", "--role", "reporter", "--institution", "CL:CIG-MINDEF")
    assert_one_line_error(result)
    assert "CL:CIG-MINDEF" in result.output
    assert user(app, "x@example.org") is None


def test_committee_sits_on_the_bodies_of_the_plans_given(app, cli, chile):
    result = create(cli, "mesa@example.cl", "--role", "committee", "--institution", "CL:MINREL", "--plan", CL,
                    "--plan", "PE-2021")
    assert result.exit_code == 0, result.output
    assert plans_of(app, "mesa@example.cl") == [CL, "PE-2021"]
    assert f"plans {CL} PE-2021" in result.output


def test_committee_without_a_plan_is_one_line_error(app, cli, chile):
    result = create(cli, "mesa@example.cl", "--role", "committee", "--institution", "CL:MINREL")
    assert_one_line_error(result)
    assert "plans:" in result.output
    assert user(app, "mesa@example.cl") is None


def test_committee_of_a_plan_without_a_body_is_one_line_error(app, cli, peru):
    import_chile_without_a_body(app)
    result = create(cli, "mesa@example.cl", "--role", "committee", "--plan", CL)
    assert_one_line_error(result)
    assert CL in result.output
    assert user(app, "mesa@example.cl") is None


def test_an_unknown_plan_is_one_line_error(app, cli, chile):
    result = create(cli, "visor@example.org", "--role", "viewer", "--plan", "XX-1999")
    assert_one_line_error(result)
    assert "XX-1999" in result.output
    assert user(app, "visor@example.org") is None


def test_a_viewer_is_limited_to_the_plans_given(app, cli, chile):
    assert create(cli, "visor@example.org", "--role", "viewer", "--plan", CL).exit_code == 0
    assert plans_of(app, "visor@example.org") == [CL]
    line = next(line for line in cli("users", "list").output.splitlines() if line.startswith("visor@example.org"))
    assert line.split("\t")[1:4] == ["viewer", "-", CL]


def test_a_reporter_with_a_plan_is_one_line_error(app, cli, chile):
    result = create(cli, "marina@example.org", "--role", "reporter", "--institution", "PE:MGP", "--plan", "PE-2021")
    assert_one_line_error(result)
    assert user(app, "marina@example.org") is None


def test_list_shows_a_committee_members_plans(app, cli, make_user, chile):
    make_user(Role.committee, email="mesa@example.cl", institution="CL:MINREL", plans=(CL, "PE-2021"))
    line = next(line for line in cli("users", "list").output.splitlines() if line.startswith("mesa@example.cl"))
    assert line.split("\t")[1:5] == ["committee", "CL:MINREL", f"{CL},PE-2021", "active"]


def test_the_help_documents_the_syntax(cli):
    for command in ("create", "edit"):
        output = cli("users", command, "--help").output
        assert "COUNTRY:CODE" in output and "PE:MGP" in output and "--plan" in output


# -- users edit -------------------------------------------------------------------------------------


def updated_events(app) -> list[AuditEvent]:
    with app.app_context():
        return list(db.session.scalars(sa.select(AuditEvent).filter_by(action="user.updated").order_by(AuditEvent.id)))


def test_edit_replaces_the_plans_and_audits_old_and_new(app, cli, make_user, chile):
    _, email = make_user(Role.committee)
    result = cli("users", "edit", email, "--plan", CL, "--plan", "PE-2021")
    assert result.exit_code == 0, result.output
    assert plans_of(app, email) == [CL, "PE-2021"]
    (event,) = updated_events(app)
    assert (event.actor_id, event.address) == (None, "cli")
    assert event.details_dict == {"changes": {"plans": [["PE-2021"], [CL, "PE-2021"]]}}


def test_edit_keeps_what_is_not_given(app, cli, make_user, chile):
    _, email = make_user(Role.committee, plans=(CL,))
    assert cli("users", "edit", email, "--name", "Rosa Mamani").exit_code == 0
    row = user(app, email)
    assert (row.name, row.role, institution_of(app, email), plans_of(app, email)) == (
        "Rosa Mamani", Role.committee, "PE:CIG-MINDEF", [CL])


def test_edit_moves_a_reporter_to_another_countrys_institution(app, cli, make_user, chile):
    _, email = make_user(Role.reporter, email="marina@example.org", institution="PE:MGP")
    assert cli("users", "edit", email, "--institution", "CL:EMCO").exit_code == 0
    assert institution_of(app, email) == "CL:EMCO"
    (event,) = updated_events(app)
    assert event.details_dict == {"changes": {"institution": ["PE:MGP", "CL:EMCO"]}}


def test_edit_turns_a_viewer_into_a_committee_member(app, cli, make_user, chile):
    _, email = make_user(Role.viewer)
    result = cli("users", "edit", email, "--role", "committee", "--plan", CL)
    assert result.exit_code == 0, result.output
    assert (user(app, email).role, plans_of(app, email)) == (Role.committee, [CL])


def test_edit_to_a_role_without_plans_drops_the_plans(app, cli, make_user, chile):
    _, email = make_user(Role.committee)
    assert cli("users", "edit", email, "--role", "admin", "--no-institution").exit_code == 0
    assert (user(app, email).role, user(app, email).institution_id, plans_of(app, email)) == (Role.admin, None, [])


def test_edit_no_plans_lets_a_viewer_read_every_plan(app, cli, make_user, chile):
    _, email = make_user(Role.viewer, plans=(CL,))
    assert cli("users", "edit", email, "--no-plans").exit_code == 0
    assert plans_of(app, email) == []


def test_edit_removing_a_committee_members_last_plan_is_one_line_error(app, cli, make_user, chile):
    _, email = make_user(Role.committee)
    result = cli("users", "edit", email, "--no-plans")
    assert_one_line_error(result)
    assert plans_of(app, email) == ["PE-2021"]
    assert updated_events(app) == []


def test_edit_with_an_ambiguous_institution_is_one_line_error(app, cli, make_user, chile):
    _, email = make_user(Role.reporter, email="marina@example.org", institution="PE:MGP")
    result = cli("users", "edit", email, "--institution", "MINDEF")
    assert_one_line_error(result)
    assert institution_of(app, email) == "PE:MGP"


def test_edit_unknown_email_is_one_line_error(app, cli, peru):
    result = cli("users", "edit", "nobody@example.org", "--name", "X")
    assert_one_line_error(result)
    assert "nobody@example.org" in result.output


def test_edit_with_contradicting_options_is_one_line_error(app, cli, make_user, chile):
    _, email = make_user(Role.viewer)
    assert_one_line_error(cli("users", "edit", email, "--plan", CL, "--no-plans"))
    assert plans_of(app, email) == []
