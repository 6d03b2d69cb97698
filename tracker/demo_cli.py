"""`tracker demo ...`: demonstration accounts and data, refused in production."""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import with_appcontext

from tracker.auth import services
from tracker.auth.models import Role
from tracker.db import db
from tracker.domain import ValidationFailed

DEMO_PASSWORD = "Demo-NAP-Tracker-2026"
DEMO_ACCOUNTS = [
    ("admin@demo.example.org", "Administración (demo)", Role.admin, None),
    ("comite@demo.example.org", "Comité de Igualdad de Género (demo)", Role.committee, "CIG-MINDEF"),
    ("visor@demo.example.org", "Auditoría (demo)", Role.viewer, None),
    ("marina@demo.example.org", "Marina de Guerra (demo)", Role.reporter, "MGP"),
    ("ejercito@demo.example.org", "Ejército (demo)", Role.reporter, "EP"),
    ("fap@demo.example.org", "Fuerza Aérea (demo)", Role.reporter, "FAP"),
    ("ccffaa@demo.example.org", "Comando Conjunto (demo)", Role.reporter, "CCFFAA"),
    ("mindef@demo.example.org", "Ministerio de Defensa (demo)", Role.reporter, "MINDEF"),
]

demo_group = click.Group("demo", help="Demonstration data (development only).")


@demo_group.command("accounts")
@with_appcontext
def demo_accounts() -> None:
    """Create one demo account per role and reporters of several institutions (not in production)."""
    if not current_app.config.get("DEMO_ACCOUNTS"):
        raise click.ClickException("demo accounts are disabled in this configuration (TRACKER_ENV=production)")
    created = 0
    for email, name, role, institution in DEMO_ACCOUNTS:
        if services.find_user(db.session, email) is None:
            data = services.UserInput(email=email, name=name, role=role, institution_code=institution)
            try:
                services.create_user(db.session, data, DEMO_PASSWORD, must_change=False)
            except ValidationFailed as exc:
                db.session.rollback()
                hint = " (load the plan first: `tracker seed`)" if exc.errors[0][0] == "institution" else ""
                raise click.ClickException(f"{email}: {exc.errors[0][1]}{hint}") from None
            created += 1
    db.session.commit()
    click.echo(f"Demo accounts ({created} new), password for all: {DEMO_PASSWORD}")
    for email, _name, role, institution in DEMO_ACCOUNTS:
        click.echo(f"  {email:28} {role.value:10} {institution or ''}")


@demo_group.command("entries")
@with_appcontext
def demo_entries() -> None:
    """Add labelled demo years (2022-2024) of Navy entries to Peru's plan and open this year's cycle."""
    from tracker.demo import seed_peru_demo

    if not current_app.config.get("DEMO_ACCOUNTS"):
        raise click.ClickException("demo data is disabled in this configuration (TRACKER_ENV=production)")
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
    """Fill the database with synthetic plans (country ZZ, codes DEMO-NNN) for benchmarks and demos."""
    from tracker.demo import Size, generate

    counts = generate(db.session, Size(plans, institutions, actions_per_pillar, indicators_per_action, years), seed)
    db.session.commit()
    click.echo(f"Generated {counts['plans']} plans, {counts['indicators']} indicators, {counts['entries']} entries.")
