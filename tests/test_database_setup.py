"""The database engine as production uses it, and migrations that cannot be reverted by accident (issue 13)."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
from pathlib import Path

import sqlalchemy as sa

from tracker.db import SQLITE_BUSY_TIMEOUT_MS, make_engine

TRACKER = Path(sys.executable).parent / "tracker"


def test_sqlite_files_use_wal_and_wait_for_busy_writers(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'wal.sqlite3'}")
    try:
        with engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
            assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() == SQLITE_BUSY_TIMEOUT_MS
            assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
    finally:
        engine.dispose()


def test_server_databases_test_connections_before_use():
    engine = make_engine("postgresql+psycopg://postgres@127.0.0.1:5432/unused")
    assert engine.pool._pre_ping is True  # no connection is made here
    engine.dispose()


def _cli(tmp_path, *args: str, env_name: str = "production") -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TRACKER_")}
    env.update(TRACKER_ENV=env_name, TRACKER_SECRET_KEY=secrets.token_urlsafe(48), TRACKER_INSTANCE_PATH=str(tmp_path),
               TRACKER_RATELIMIT_STORAGE_URI="redis://127.0.0.1:6379/15",
               TRACKER_DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite3'}")
    return subprocess.run([str(TRACKER), *args], env=env, capture_output=True, text=True, stdin=subprocess.DEVNULL, timeout=120)


def _tables(tmp_path) -> set[str]:
    engine = sa.create_engine(f"sqlite:///{tmp_path / 'db.sqlite3'}")
    try:
        return set(sa.inspect(engine).get_table_names())
    finally:
        engine.dispose()


def test_production_downgrade_without_yes_is_refused_and_changes_nothing(tmp_path):
    assert _cli(tmp_path, "db", "upgrade").returncode == 0
    before = _tables(tmp_path)
    result = _cli(tmp_path, "db", "downgrade", "base")
    assert result.returncode == 1
    assert result.stderr.strip() == "Error: downgrading a production database needs --yes (take a backup first)"
    assert _tables(tmp_path) == before and "entry" in before


def test_downgrade_with_yes_reverts(tmp_path):
    assert _cli(tmp_path, "db", "upgrade").returncode == 0
    result = _cli(tmp_path, "db", "downgrade", "base", "--yes")
    assert result.returncode == 0, result.stderr
    assert "Database downgraded to base." in result.stdout
    assert "entry" not in _tables(tmp_path)


def test_downgrade_asks_for_confirmation_and_no_keeps_the_schema(app):
    result = app.test_cli_runner().invoke(args=["db", "downgrade", "base"], input="n\n")
    assert result.exit_code == 1
    assert "Revert the database from" in result.output and "Aborted" in result.output
    with app.app_context():
        from tracker import migrate

        assert migrate.current() in migrate.heads()


def test_an_unforeseen_lost_race_is_a_conflict_page_not_a_500(app):
    from tracker.errors import handle_concurrent_write

    with app.test_request_context("/entries/1/approve", method="POST"):
        body, status = handle_concurrent_write(sa.exc.IntegrityError("INSERT", {}, Exception("duplicate key")))
    assert status == 409 and "Alguien cambió esto en el mismo momento" in body


def test_a_database_that_went_away_is_a_503_page(app):
    from tracker.errors import handle_operational_error

    with app.test_request_context("/review"):
        body, status = handle_operational_error(sa.exc.OperationalError("SELECT 1", {}, Exception("server closed the connection")))
    assert status == 503 and "La base de datos está ocupada o no disponible" in body


def test_an_error_page_never_shows_the_success_message_of_the_failed_request(app):
    from flask import flash, get_flashed_messages

    from tracker.errors import render_error

    with app.test_request_context("/entries/1/approve", method="POST"):
        flash("Registro validado.", "success")  # queued before the commit failed
        body, status = render_error(500)
        assert get_flashed_messages() == []
    assert status == 500 and "Registro validado." not in body


def test_after_commit_work_waits_for_the_outer_transaction(app, session):
    from tracker.db import call_after_commit

    done, undone = [], []
    call_after_commit(session, lambda: done.append(1), on_rollback=lambda: undone.append(1))
    with session.begin_nested():
        session.execute(sa.text("SELECT 1"))
    assert done == [] and undone == []  # a savepoint released is not the commit
    try:
        with session.begin_nested():
            session.execute(sa.text("SELECT 1"))
            raise RuntimeError("savepoint fails")
    except RuntimeError:
        pass
    assert undone == []  # nor is a savepoint rolled back the rollback
    session.rollback()
    assert done == [] and undone == [1]


def test_a_failing_after_commit_step_does_not_fail_the_commit_nor_the_next_step(app, session):
    from tracker.db import call_after_commit

    done = []
    call_after_commit(session, lambda: 1 / 0)
    call_after_commit(session, lambda: done.append(1))
    session.execute(sa.text("SELECT 1"))
    session.commit()
    assert done == [1]
