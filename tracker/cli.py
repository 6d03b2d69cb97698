"""The `tracker` command: the Flask CLI with the app loaded, plus the project's own groups."""

from __future__ import annotations

import sys
from pathlib import Path

import click
from flask import Flask
from flask.cli import FlaskGroup, with_appcontext

from tracker.db import db


def _create_app() -> Flask:
    from config import ConfigError

    from tracker import create_app

    try:
        return create_app()
    except ConfigError as exc:
        click.echo(f"Error: {exc}", err=True)
        sys.exit(2)


@click.group(cls=FlaskGroup, create_app=_create_app, add_version_option=False)
def main() -> None:
    """NAP Tracker: monitoring of National Action Plans on Women, Peace and Security."""


# -- database -----------------------------------------------------------------------------------

db_group = click.Group("db", help="Apply or inspect database migrations.")


@db_group.command("upgrade")
@click.argument("revision", default="head")
@with_appcontext
def db_upgrade(revision: str) -> None:
    """Apply migrations up to REVISION (default: head)."""
    from tracker import migrate

    _migration_step(migrate.upgrade, revision)
    click.echo(f"Database upgraded to {migrate.current() or 'base'}.")


@db_group.command("downgrade")
@click.argument("revision")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation (required in production without a terminal).")
@with_appcontext
def db_downgrade(revision: str, yes: bool) -> None:
    """Revert migrations down to REVISION ('base' empties the database). Data in what is reverted is lost."""
    from flask import current_app

    from tracker import migrate

    if not yes:
        if current_app.config["ENV_NAME"] == "production" and not sys.stdin.isatty():
            raise click.ClickException("downgrading a production database needs --yes (take a backup first)")
        click.confirm(f"Revert the database from {migrate.current() or 'base'} to {revision}? Data may be lost",
                      abort=True)
    _migration_step(migrate.downgrade, revision)
    click.echo(f"Database downgraded to {migrate.current() or 'base'}.")


def _migration_step(step, revision: str) -> None:
    from alembic.util import CommandError

    try:
        step(revision)
    except CommandError as exc:
        raise click.ClickException(f"migration {revision!r}: {exc}") from None


@db_group.command("current")
@with_appcontext
def db_current() -> None:
    """Show the revision the database is at."""
    from tracker import migrate

    click.echo(migrate.current() or "base")


# -- seed and plans -----------------------------------------------------------------------------


@click.command("seed")
@with_appcontext
def seed() -> None:
    """Load Peru's 2021 plan (seed/peru-2021.yaml) and the UN parity targets of seed/reference/ that are not
    stored yet; running it again changes nothing (nor what an admin entered)."""
    from tracker.dashboard.reference import seed_parity
    from tracker.plan.loader import PERU_SEED

    _import_file(PERU_SEED)
    added = seed_parity(db.session)
    db.session.commit()
    click.echo(f"UN parity targets: {added} years added.")


plan_group = click.Group("plan", help="List, import and export plans.")


@plan_group.command("import")
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--as", "operator_email", metavar="EMAIL",
              help="The account doing the import, named in the audit log and the target history "
                   "(default: recorded as done from the command line).")
@click.option("--reason", metavar="TEXT",
              help="Why the plan changes, kept with every changed field and target "
                   "(default: \"Plan file import (version N)\").")
@with_appcontext
def plan_import(path: Path, operator_email: str | None, reason: str | None) -> None:
    """Import (or update) a plan from a plan file in the seed format; the import is audit-logged, and every
    changed item and target keeps old -> new, who and why in the plan's history.

    \b
    Example:
      tracker plan import seed/peru-2021.yaml --as admin@mindef.gob.pe --reason "Minute 4/2026: targets adopted"
    """
    _import_file(path, _operator(operator_email) if operator_email else None, reason)


def _operator(email: str):
    """The active account named by --as; a one-line error otherwise (before anything is imported)."""
    from tracker.auth.services import find_user

    user = find_user(db.session, email)
    if user is None:
        raise click.ClickException(f"--as: no account has the e-mail {email!r} (see `tracker users list`)")
    if not user.active:
        raise click.ClickException(f"--as: the account {user.email} is deactivated")
    return user


@plan_group.command("export")
@click.argument("plan_code")
@click.option("-o", "--output", type=click.Path(dir_okay=False, writable=True, path_type=Path), help="File to write (default: standard output).")
@with_appcontext
def plan_export(plan_code: str, output: Path | None) -> None:
    """Write PLAN_CODE in the plan file format (import it elsewhere with `tracker plan import`)."""
    from tracker.plan.export import PlanNotFound, export_plan

    try:
        text = export_plan(db.session, plan_code)
    except PlanNotFound:
        raise click.ClickException(f"no plan has the code {plan_code!r} (see `tracker plan list`)") from None
    if output is None:
        click.echo(text, nl=False)
    else:
        try:
            output.write_text(text, encoding="utf-8")
        except OSError as exc:
            raise click.ClickException(f"cannot write {output}: {exc.strerror}") from None
        click.echo(f"Plan {plan_code} written to {output}.", err=True)


@plan_group.command("list")
@with_appcontext
def plan_list() -> None:
    """List the plans in the database."""
    from tracker.plan.services import list_plans

    plans = list_plans(db.session)
    if not plans:
        click.echo("No plans yet: run `tracker seed` or `tracker plan import PATH`.")
    for p in plans:
        years = f"{p.start_year or '…'}-{p.end_year or '…'}" if (p.start_year or p.end_year) else "no timeframe"
        click.echo(f"{p.code}\t{p.country.iso_code}\tv{p.version}\t{p.adoption_year or ''}\t{years}\t{p.title_en or p.title_es}")


def _import_file(path: Path, operator=None, reason: str | None = None) -> None:
    """Import a plan file and write the audit event; `operator` is the account given with --as, if any."""
    from tracker import audit
    from tracker.plan.loader import PlanFileError, PlanImportRefused, import_plan, read_plan_file

    try:
        parsed = read_plan_file(path)
    except PlanFileError as exc:
        raise click.ClickException(exc.one_line()) from None
    try:
        result = import_plan(db.session, parsed, operator=operator.email if operator else None, reason=reason)
    except PlanImportRefused as exc:
        db.session.rollback()
        raise click.ClickException(f"{path}: {exc}") from None
    audit.record(db.session, "plan.imported", actor=operator, via="command line", plan=result.plan_code,
                 file=path.name, created=result.created, updated=result.updated,
                 **({"revised_from": result.revised_from} if result.revised_from else {}))
    db.session.commit()
    counts = ", ".join(f"{n} {k}" for k, n in result.counts.items())
    click.echo(f"Plan {result.plan_code}: {counts}; {result.created} rows created, {result.updated} updated.")
    if result.revised_from is not None:
        retired = sum("retired" in o.fields for o in result.outcomes)
        click.echo(f"Revision: version {result.revised_from} is kept (readable on the plan's versions page); "
                   f"{retired} items it had and this version has not are retired.")


def register(app: Flask) -> None:
    """Attach the project's command groups to the app's CLI."""
    from tracker.api.cli import tokens_group
    from tracker.auth.cli import users_group
    from tracker.demo_cli import demo_group
    from tracker.ops.cli import ops_commands
    from tracker.progress.cli import mail_group, notify_group, remind, worker
    from tracker.reports.cli import export_group, report_group

    for command in (db_group, seed, plan_group, users_group, tokens_group, demo_group, remind, mail_group, notify_group, report_group, export_group, worker,
                    *ops_commands):
        app.cli.add_command(command)
