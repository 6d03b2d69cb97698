"""Alembic environment: the metadata comes from the tracker's models."""

from __future__ import annotations

from alembic import context

from tracker.db import Base, make_engine
from tracker.models import load_all

load_all()
config = context.config
target_metadata = Base.metadata


def _configure(connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _configure(connection)
        with context.begin_transaction():
            context.run_migrations()
        return
    from config import config_from_env

    engine = make_engine(config_from_env().DATABASE_URL)
    with engine.begin() as connection:
        _configure(connection)
        context.run_migrations()


if context.is_offline_mode():
    raise SystemExit("Offline (SQL script) migrations are not supported; run `tracker db upgrade`.")
run_migrations_online()
