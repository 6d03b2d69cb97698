"""Migrations are the only way the schema changes: one head, no drift, down and up again."""

from __future__ import annotations

import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from tracker import migrate
from tracker.auth.models import Role
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


def _counts(*tables: str) -> dict[str, int]:
    counts = {t: db.session.execute(sa.text(f"SELECT count(*) FROM {t}")).scalar_one() for t in tables}
    db.session.close()  # migrations run on their own transaction
    return counts


def test_downgrade_past_country_profiles_keeps_a_seeded_plan(app, peru):
    """Dropping the profile columns happens in place: no table under foreign keys is rebuilt."""
    with app.app_context():
        before = _counts("country", "institution", "indicator", "indicator_institution")
        migrate.downgrade("0008")
        assert _counts(*before) == before
        migrate.upgrade("head")
        assert _counts(*before) == before


def test_committee_members_still_review_after_the_upgrade_and_the_next_seed(app, peru, make_user):
    """The upgrade gives Peru's plan the body its plan file names: re-seeding keeps it, and its members, active."""
    from tracker.auth.models import User
    from tracker.plan.loader import PERU_SEED, import_plan, read_plan_file
    from tracker.plan.models import Plan

    user_id, _ = make_user(Role.committee)
    with app.app_context():
        migrate.downgrade("0008")
        migrate.upgrade("head")
        import_plan(db.session, read_plan_file(PERU_SEED))
        db.session.commit()
        plan_id = db.session.scalars(sa.select(Plan.id).filter_by(code="PE-2021")).one()
        assert db.session.get(User, user_id).reviewed_plan_ids == {plan_id}


def test_the_sign_off_migration_rebuilds_entries_without_losing_what_refers_to_them(app, review_world):
    """0014 rebuilds entry, entry_version and indicator on SQLite (new CHECKs): with foreign keys off meanwhile,
    the versions, notifications and targets that refer to them stay, both ways."""
    with app.app_context():
        before = _counts("entry", "entry_version", "notification", "indicator_target", "indicator_institution",
                         "user_account", "body_member")
        migrate.downgrade("0013")
        assert _counts(*before) == before
        migrate.upgrade("head")
        assert _counts(*before) == before
        assert db.session.execute(sa.text("PRAGMA foreign_keys" if db.engine.dialect.name == "sqlite"
                                          else "SELECT 1")).scalar_one() == 1
