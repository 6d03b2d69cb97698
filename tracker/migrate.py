"""Alembic, driven from the app: the migrations in migrations/ are the only way the schema changes."""

from __future__ import annotations

from contextlib import contextmanager

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


@contextmanager
def _migrating():
    """A connection in one transaction for migrations. On SQLite, foreign keys are off meanwhile: a migration that
    rebuilds a table (Alembic's batch mode) drops the old one, and ON DELETE CASCADE would empty the tables that
    refer to it. That is SQLite's own procedure for schema changes: keys off, change, check the keys, keys on."""
    with db.engine.connect() as connection:
        sqlite = connection.dialect.name == "sqlite"
        if sqlite:
            _pragma(connection, "foreign_keys=OFF")  # no effect inside a transaction: before it begins
        try:
            with connection.begin():
                yield connection
                broken = connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall() if sqlite else []
                if broken:
                    raise RuntimeError(f"the migration left rows pointing at nothing: {broken[:5]}")
        finally:
            if sqlite:
                _pragma(connection, "foreign_keys=ON")


def _pragma(connection, pragma: str) -> None:
    """Straight to the driver: through SQLAlchemy the statement would open a transaction first (db._sqlite_begin)."""
    cursor = connection.connection.dbapi_connection.cursor()
    cursor.execute(f"PRAGMA {pragma}")
    cursor.close()


def upgrade(revision: str = "head") -> None:
    """Apply migrations up to `revision`."""
    with _migrating() as connection:
        command.upgrade(alembic_config(connection), revision)


def downgrade(revision: str) -> None:
    """Revert migrations down to `revision`."""
    with _migrating() as connection:
        command.downgrade(alembic_config(connection), revision)


def current() -> str | None:
    """The revision the database is at (None when empty)."""
    with db.engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def heads() -> list[str]:
    return list(ScriptDirectory.from_config(alembic_config()).get_heads())
