"""Alembic, driven from the app: the migrations in migrations/ are the only way the schema changes."""

from __future__ import annotations

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

from tracker import PROJECT_ROOT
from tracker.db import db

MIGRATIONS = PROJECT_ROOT / "migrations"


def alembic_config(connection=None) -> Config:
    """An Alembic Config for the migrations folder, bound to a connection of the app's engine."""
    cfg = Config(str(MIGRATIONS / "alembic.ini"))
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.attributes["connection"] = connection
    return cfg


def upgrade(revision: str = "head") -> None:
    """Apply migrations up to `revision`."""
    with db.engine.begin() as connection:
        command.upgrade(alembic_config(connection), revision)


def downgrade(revision: str) -> None:
    """Revert migrations down to `revision`."""
    with db.engine.begin() as connection:
        command.downgrade(alembic_config(connection), revision)


def current() -> str | None:
    """The revision the database is at (None when empty)."""
    with db.engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def heads() -> list[str]:
    return list(ScriptDirectory.from_config(alembic_config()).get_heads())
