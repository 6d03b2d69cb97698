"""Migrations are the only way the schema changes: one head, no drift, down and up again."""

from __future__ import annotations

import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from tracker import migrate
from tracker.db import Base, db
from tracker.models import load_all


def test_one_head():
    assert len(migrate.heads()) == 1


def test_models_and_migrations_agree(app):
    load_all()
    with app.app_context(), db.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        diff = compare_metadata(context, Base.metadata)
    assert diff == []


def test_downgrade_to_base_and_upgrade_again(app):
    with app.app_context():
        head = migrate.heads()[0]
        migrate.downgrade("base")
        assert migrate.current() is None
        tables = set(sa.inspect(db.engine).get_table_names()) - {"alembic_version"}
        assert tables == set()
        migrate.upgrade("head")
        assert migrate.current() == head
        assert {"plan", "indicator", "user_account", "audit_event"} <= set(sa.inspect(db.engine).get_table_names())


def test_constraints_are_named(app):
    with app.app_context():
        inspector = sa.inspect(db.engine)
        unique = inspector.get_unique_constraints("indicator")
    assert any(c["name"] == "uq_indicator_plan_id_code" for c in unique)


def test_cli_db_commands(app):
    runner = app.test_cli_runner()
    head = migrate.heads()[0]
    assert runner.invoke(args=["db", "current"]).output.strip() == head
    assert runner.invoke(args=["db", "upgrade"]).exit_code == 0
