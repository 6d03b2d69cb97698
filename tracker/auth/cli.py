"""`tracker users ...` and `tracker demo accounts`."""

from __future__ import annotations

import sys

import click
from flask.cli import with_appcontext

from tracker.auth import services
from tracker.auth.models import Role
from tracker.db import db
from tracker.domain import ValidationFailed

users_group = click.Group("users", help="Create, list and deactivate user accounts.")


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


@users_group.command("create")
@click.argument("email")
@click.option("--role", type=click.Choice([r.value for r in Role]), required=True, help="reporter, committee, viewer or admin.")
@click.option("--institution", "institution_code", help="Institution code (required for reporters), e.g. MGP.")
@click.option("--name", default="", help="Full name (default: the e-mail's local part).")
@click.option("--no-change-required", is_flag=True, help="Do not force a password change at first login.")
@with_appcontext
def create_user(email: str, role: str, institution_code: str | None, name: str, no_change_required: bool) -> None:
    """Create an account. The password is read from standard input when piped, otherwise prompted."""
    password = _read_password()
    data = services.UserInput(email=email, name=name, role=Role(role), institution_code=institution_code)
    try:
        user = services.create_user(db.session, data, password, must_change=not no_change_required)
    except ValidationFailed as exc:
        raise _fail(exc) from None
    db.session.commit()
    click.echo(f"Created {user.email} ({user.role.value}{', ' + user.institution.code if user.institution else ''}).")


@users_group.command("list")
@with_appcontext
def list_users() -> None:
    """List every account with its role, institution and state."""
    for u in services.list_users(db.session):
        state = "active" if u.active else "deactivated"
        click.echo(f"{u.email}\t{u.role.value}\t{u.institution.code if u.institution else '-'}\t{state}\t{u.name}")


@users_group.command("deactivate")
@click.argument("email")
@with_appcontext
def deactivate_user(email: str) -> None:
    """Deactivate an account; it keeps its history and can no longer log in."""
    user = services.find_user(db.session, email)
    if user is None:
        raise click.ClickException(f"no account has the e-mail {email!r}")
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

    user = services.find_user(db.session, email)
    if user is None:
        raise click.ClickException(f"no account has the e-mail {email!r}")
    if not user.two_factor_enabled:
        raise click.ClickException(f"{user.email} has no second factor")
    two_factor.reset_for(db.session, user, actor=None)
    db.session.commit()
    click.echo(f"Second factor removed for {user.email}; recovery codes deleted.")
