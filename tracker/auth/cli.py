"""`tracker users ...` and `tracker demo accounts`."""

from __future__ import annotations

import sys

import click
from flask.cli import with_appcontext

from tracker.auth import services
from tracker.auth.models import Role, User
from tracker.db import db
from tracker.domain import ValidationFailed

users_group = click.Group("users", help="Create, edit, list and deactivate user accounts.")


def _read_password() -> str:
    if sys.stdin.isatty():
        return click.prompt("Password", hide_input=True, confirmation_prompt=True)
    line = sys.stdin.readline().rstrip("\r\n")
    if not line:
        raise click.ClickException("no password on standard input")
    return line


def _fail(exc: ValidationFailed) -> click.ClickException:
    field, message = exc.errors[0]
    return click.ClickException(f"{field + ': ' if field else ''}{message}")


INSTITUTION_HELP = ("The account's institution as COUNTRY:CODE, e.g. PE:MGP (required for reporters); the code alone "
                    "(MGP) works while only one country has it.")
PLAN_HELP = ("A plan's code, e.g. PE-2021; repeat for several. Committee: it sits on the plan's monitoring body "
             "(at least one). Viewer: it reads only these plans (none: every plan). Other roles take none.")


FOCAL_POINT_HELP = ("The reporter is the institution's focal point: endorses its entries where a plan asks for a "
                    "sign-off (see the plan's Institution sign-off page).")


def _describe(user: User, plans: list[str]) -> str:
    """role, PE:MGP, plans PE-2021 (what `users list` shows, in one phrase)."""
    parts = [user.role.value, services.institution_ref(user.institution) or ""]
    parts.append(_plans_text(user.role, plans) if user.role in (Role.committee, Role.viewer) else "")
    parts.append("focal point" if user.is_focal_point else "")
    return ", ".join(p for p in parts if p)


def _plans_text(role: Role, plans: list[str]) -> str:
    if plans:
        return "plans " + " ".join(plans)
    return "every plan" if role == Role.viewer else "no plan"


@users_group.command("create")
@click.argument("email")
@click.option("--role", type=click.Choice([r.value for r in Role]), required=True, help="reporter, committee, viewer or admin.")
@click.option("--institution", "institution_ref", metavar="COUNTRY:CODE", help=INSTITUTION_HELP)
@click.option("--plan", "plan_codes", metavar="CODE", multiple=True, help=PLAN_HELP)
@click.option("--name", default="", help="Full name (default: the e-mail's local part).")
@click.option("--no-change-required", is_flag=True, help="Do not force a password change at first login.")
@click.option("--focal-point", is_flag=True, help=FOCAL_POINT_HELP)
@with_appcontext
def create_user(email: str, role: str, institution_ref: str | None, plan_codes: tuple[str, ...], name: str,
                no_change_required: bool, focal_point: bool) -> None:
    """Create an account. The password is read from standard input when piped, otherwise prompted.

    \b
    Examples:
      tracker users create ana@mindef.gob.pe --role reporter --institution PE:MGP
      tracker users create jefa@mindef.gob.pe --role reporter --institution PE:MGP --focal-point
      tracker users create luis@mindef.gob.pe --role committee --institution PE:CIG-MINDEF --plan PE-2021
      tracker users create eva@example.org --role viewer --plan PE-2021 --plan CL-2023
    """
    password = _read_password()
    data = services.UserInput(email=email, name=name, role=Role(role), institution_code=institution_ref,
                              plan_codes=plan_codes, focal_point=focal_point)
    try:
        user = services.create_user(db.session, data, password, must_change=not no_change_required)
    except ValidationFailed as exc:
        raise _fail(exc) from None
    db.session.commit()
    click.echo(f"Created {user.email} ({_describe(user, services.user_plan_codes(user))}).")


@users_group.command("edit")
@click.argument("email")
@click.option("--role", type=click.Choice([r.value for r in Role]), help="A new role.")
@click.option("--institution", "institution_ref", metavar="COUNTRY:CODE", help=INSTITUTION_HELP)
@click.option("--no-institution", is_flag=True, help="Detach the account from its institution (not for reporters).")
@click.option("--plan", "plan_codes", metavar="CODE", multiple=True, help=PLAN_HELP + " Replaces the account's plans.")
@click.option("--no-plans", is_flag=True, help="Remove every plan (a viewer then reads every plan).")
@click.option("--name", help="A new full name.")
@click.option("--focal-point/--no-focal-point", default=None, help=FOCAL_POINT_HELP)
@with_appcontext
def edit_user(email: str, role: str | None, institution_ref: str | None, no_institution: bool,
              plan_codes: tuple[str, ...], no_plans: bool, name: str | None, focal_point: bool | None) -> None:
    """Change an account's role, institution, plans or name; what is not given stays. It is audit-logged.

    \b
    Examples:
      tracker users edit luis@mindef.gob.pe --plan PE-2021 --plan CL-2023
      tracker users edit ana@mindef.gob.pe --role committee --institution PE:CIG-MINDEF --plan PE-2021
      tracker users edit eva@example.org --no-plans
      tracker users edit jefa@mindef.gob.pe --focal-point
    """
    user = _user_or_fail(email)
    if (institution_ref and no_institution) or (plan_codes and no_plans):
        raise click.ClickException("give either --institution or --no-institution, and either --plan or --no-plans")
    new_role = Role(role) if role else user.role
    institution = None if no_institution else institution_ref or services.institution_ref(user.institution)
    data = services.UserInput(email=user.email, name=name or user.name, role=new_role, institution_code=institution,
                              plan_codes=_kept_plans(user, new_role, plan_codes, no_plans),
                              # Kept while the account stays a reporter; a new role ends it unless asked otherwise.
                              focal_point=focal_point if focal_point is not None
                              else user.is_focal_point and new_role == Role.reporter)
    try:
        services.update_user(db.session, user, data, actor=None)
    except ValidationFailed as exc:
        db.session.rollback()
        raise _fail(exc) from None
    db.session.commit()
    click.echo(f"Saved {user.email} ({_describe(user, services.user_plan_codes(user))}).")


def _kept_plans(user: User, role: Role, given: tuple[str, ...], none: bool) -> tuple[str, ...]:
    """The plans given, or the account's own while its new role still takes plans."""
    if given or none:
        return given
    return tuple(services.user_plan_codes(user)) if role in (Role.committee, Role.viewer) else ()


def _user_or_fail(email: str) -> User:
    user = services.find_user(db.session, email)
    if user is None:
        raise click.ClickException(f"no account has the e-mail {email!r}")
    return user


@users_group.command("list")
@with_appcontext
def list_users() -> None:
    """List every account: e-mail, role, institution (PE:MGP), plans, state and name, separated by tabs.
    Plans are a committee member's bodies' plans or a viewer's limits ("all": every plan); "-": none."""
    users = services.list_users(db.session)
    plans = services.plan_codes_of(db.session, users)
    for u in users:
        state = "active" if u.active else "deactivated"
        shown = ",".join(plans[u.id]) or ("all" if u.role == Role.viewer else "-")
        click.echo(f"{u.email}\t{u.role.value}\t{services.institution_ref(u.institution) or '-'}\t{shown}\t{state}\t{u.name}")


@users_group.command("deactivate")
@click.argument("email")
@with_appcontext
def deactivate_user(email: str) -> None:
    """Deactivate an account; it keeps its history and can no longer log in."""
    user = _user_or_fail(email)
    services.set_active(db.session, user, False, actor=None)
    db.session.commit()
    click.echo(f"Deactivated {user.email}.")


@users_group.command("reset-2fa")
@click.argument("email")
@with_appcontext
def reset_two_factor(email: str) -> None:
    """Remove an account's second factor (a lost phone and lost recovery codes); it is audit-logged.
    A role that requires a second factor enrols again at the next login."""
    from tracker.auth import two_factor

    user = _user_or_fail(email)
    if not user.two_factor_enabled:
        raise click.ClickException(f"{user.email} has no second factor")
    two_factor.reset_for(db.session, user, actor=None)
    db.session.commit()
    click.echo(f"Second factor removed for {user.email}; recovery codes deleted.")
