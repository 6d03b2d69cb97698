"""`tracker demo ...`: demonstration accounts and data (refused in production), and their removal."""

from __future__ import annotations


import click
import sqlalchemy as sa
from flask import current_app
from flask.cli import with_appcontext

from tracker.auth import services
from tracker.db import db
from tracker.demo import DEMO_ACCOUNTS, DEMO_FOCAL_POINTS, DEMO_PASSWORD, DEMO_PLANS
from tracker.domain import ValidationFailed

demo_group = click.Group("demo", help="Demonstration data: create it (development only) or purge it (anywhere).")


def _refuse_in_production(what: str) -> None:
    """Demo data must never be written where real data lives."""
    if not current_app.config.get("DEMO_ACCOUNTS") or current_app.config.get("ENV_NAME") == "production":
        raise click.ClickException(f"{what}: refused in this configuration (TRACKER_ENV=production)")


@demo_group.command("accounts")
@with_appcontext
def demo_accounts() -> None:
    """Create one demo account per role and reporters of several institutions (not in production)."""
    _refuse_in_production("demo accounts")
    created = 0
    for email, name, role, institution in DEMO_ACCOUNTS:
        if services.find_user(db.session, email) is None:
            data = services.UserInput(email=email, name=name, role=role, institution_code=institution,
                                      plan_codes=DEMO_PLANS.get(role, ()), focal_point=email in DEMO_FOCAL_POINTS)
            try:
                services.create_user(db.session, data, DEMO_PASSWORD, must_change=False)
            except ValidationFailed as exc:
                db.session.rollback()
                hint = " (load the plan first: `tracker seed`)" if exc.errors[0][0] in ("institution", "plans") else ""
                raise click.ClickException(f"{email}: {exc.errors[0][1]}{hint}") from None
            created += 1
    db.session.commit()
    click.echo(f"Demo accounts ({created} new), password for all: {DEMO_PASSWORD}")
    for email, _name, role, institution in DEMO_ACCOUNTS:
        plans = " ".join(DEMO_PLANS.get(role, ()))
        focal = "focal point" if email in DEMO_FOCAL_POINTS else ""
        click.echo(f"  {email:33} {role.value:10} {institution or '':16} {plans}{focal}".rstrip())


@demo_group.command("entries")
@with_appcontext
def demo_entries() -> None:
    """Add labelled demo years (2022-2024) of Navy entries to Peru's plan and open this year's cycle."""
    from tracker.demo import seed_peru_demo

    _refuse_in_production("demo data")
    created = seed_peru_demo(db.session)
    db.session.commit()
    click.echo(f"{created} demo entries created." if created else "Peru's plan already has reporting cycles; nothing added.")


@demo_group.command("generate")
@click.option("--plans", default=1, show_default=True, type=click.IntRange(1, 1000), help="Synthetic plans to add.")
@click.option("--institutions", default=8, show_default=True, type=click.IntRange(1, 500))
@click.option("--actions", "actions_per_pillar", default=5, show_default=True, type=click.IntRange(1, 500), help="Actions per pillar.")
@click.option("--indicators", "indicators_per_action", default=2, show_default=True, type=click.IntRange(0, 50), help="Indicators per action.")
@click.option("--years", default=3, show_default=True, type=click.IntRange(1, 30), help="Reporting years per plan.")
@click.option("--seed", default=1325, show_default=True, help="Random seed (same seed, same data).")
@with_appcontext
def demo_generate(plans: int, institutions: int, actions_per_pillar: int, indicators_per_action: int, years: int, seed: int) -> None:
    """Fill the database with synthetic plans (country ZZ, codes DEMO-NNN) for benchmarks and demos (not in production)."""
    from tracker.demo import Size, generate

    _refuse_in_production("synthetic plans")
    counts = generate(db.session, Size(plans, institutions, actions_per_pillar, indicators_per_action, years), seed)
    db.session.commit()
    click.echo(f"Generated {counts['plans']} plans, {counts['indicators']} indicators, {counts['entries']} entries.")


@demo_group.command("purge")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation (required without a terminal).")
@with_appcontext
def demo_purge(yes: bool) -> None:
    """Remove all demonstration data, in any environment (production included).

    Removes the demo accounts, the demo entries with their versions, evidence files and notifications,
    the reporting cycles of the demo seed left empty, and the synthetic plans of `tracker demo generate`.
    Real accounts, entries and cycles are kept; the audit log is kept (events keep the e-mail they name).
    """
    from tracker.demo import demo_leftovers, describe, purge_demo_data

    leftovers = _database_step(demo_leftovers)
    if leftovers and not yes:
        click.confirm(f"Remove {describe(leftovers)} and everything attached to them from {_database_name()}?", abort=True)
    result = _database_step(purge_demo_data)
    if result.empty:
        click.echo("Nothing to purge: the database holds no demonstration data.")
        return
    click.echo("Removed:")
    for kind, n in result.counts.items():
        click.echo(f"  {describe({kind: n})}")
    _delete_files(result.files)


def _database_step(step):
    """Run a demo service and commit; any database error is one line, and nothing is removed.

    Committing after the count too means no transaction stays open while the operator reads the question.
    """
    try:
        outcome = step(db.session)
        db.session.commit()
    except sa.exc.SQLAlchemyError as exc:
        db.session.rollback()
        reason = str(exc.orig).strip().splitlines()[0] if getattr(exc, "orig", None) else type(exc).__name__
        raise click.ClickException(f"nothing was removed: {reason}{_migration_hint(reason)}") from None
    return outcome


def _migration_hint(reason: str) -> str:
    missing = "no such table" in reason or ("relation" in reason and "does not exist" in reason)
    return " (is the database migrated? `tracker db upgrade`)" if missing else ""


def _database_name() -> str:
    return sa.engine.make_url(current_app.config["DATABASE_URL"]).render_as_string(hide_password=True)


def _delete_files(keys: list[str]) -> None:
    """Delete the purged evidence and report files from the store; only ever after the commit, so a failed purge
    keeps them."""
    from tracker import storage

    store, deleted, failed = storage.store(), 0, []
    for key in keys:
        try:
            if store.exists(key):
                store.forget(key)
                deleted += 1
        except OSError as exc:
            failed.append(f"{key}: {exc.strerror}")
    db.session.commit()  # the database store forgets with the session
    click.echo(f"Deleted {deleted} stored file{'' if deleted == 1 else 's'}.")
    if failed:
        raise click.ClickException(f"{len(failed)} purged file(s) could not be deleted, delete them by hand; first: {failed[0]}")
