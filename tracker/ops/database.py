"""The database half of a backup: a consistent dump, its row counts, and loading it back.

SQLite is copied with the online backup API (a page-level copy that readers and writers do not
disturb). PostgreSQL is dumped with `pg_dump` as plain SQL inside an exported snapshot, so the dump,
the row counts and the revision in the manifest describe the same instant; it is loaded back with
`psql` in one transaction that also drops the tables it replaces, so a failed load changes nothing.
Plain SQL rather than `-Fc`: the archive is gzipped anyway, the dump stays readable, and loading it
needs only psql. Set TRACKER_PG_DUMP / TRACKER_PSQL when the tools are not on PATH.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

import sqlalchemy as sa
from alembic.runtime.migration import MigrationContext
from flask import current_app

from tracker.ops import OpsError

DUMP_NAMES = {"sqlite": "database/tracker.sqlite3", "postgresql": "database/tracker.sql"}
DUMP_FORMATS = {"sqlite": "sqlite3 database file", "postgresql": "pg_dump plain SQL"}
TOOL_SETTINGS = {"pg_dump": "PG_DUMP", "psql": "PSQL"}
# Alembic's bookkeeping row is there even in an instance that holds no data yet.
BOOKKEEPING = frozenset({"alembic_version"})


@dataclass
class Snapshot:
    """What the manifest says about a database: revision, rows per table, last final-report versions."""

    dialect: str
    revision: str | None
    tables: dict[str, int]
    final_versions: list[dict] = field(default_factory=list)


def supported(engine: sa.Engine) -> str:
    """The engine's dialect name, or OpsError when backups do not know it."""
    if engine.dialect.name not in DUMP_NAMES:
        raise OpsError(f"backups support SQLite and PostgreSQL, not {engine.dialect.name}")
    return engine.dialect.name


def dump(engine: sa.Engine, path: Path) -> Snapshot:
    """Write a consistent dump of the database to `path` and describe it."""
    dialect = supported(engine)
    return _dump_sqlite(engine, path) if dialect == "sqlite" else _dump_postgresql(engine, path)


def _dump_sqlite(engine: sa.Engine, path: Path) -> Snapshot:
    raw = engine.raw_connection()
    try:
        with sqlite3.connect(path) as target:
            raw.driver_connection.backup(target)
        target.close()
    finally:
        raw.close()
    copy = sa.create_engine(f"sqlite:///{path}")
    try:
        with copy.connect() as connection:
            return describe(connection, "sqlite")
    finally:
        copy.dispose()


def _dump_postgresql(engine: sa.Engine, path: Path) -> Snapshot:
    uri, env = libpq_target(engine.url)
    with engine.connect() as connection:
        connection = connection.execution_options(isolation_level="REPEATABLE READ")
        with connection.begin():
            snapshot_id = connection.execute(sa.text("SELECT pg_export_snapshot()")).scalar_one()
            run_tool("pg_dump", ["--format=plain", "--no-owner", "--no-privileges", f"--snapshot={snapshot_id}",
                                 "--file", str(path), "--dbname", uri], env)
            return describe(connection, "postgresql")


def describe(connection: sa.Connection, dialect: str) -> Snapshot:
    """Revision, row counts and final-report versions as `connection` sees them."""
    tables = table_counts(connection)
    revision = MigrationContext.configure(connection).get_current_revision() if "alembic_version" in tables else None
    return Snapshot(dialect, revision, tables, final_versions(connection) if "final_report" in tables else [])


def table_counts(connection: sa.Connection) -> dict[str, int]:
    """Rows per table, by table name."""
    names = sorted(sa.inspect(connection).get_table_names())
    return {name: connection.scalar(sa.select(sa.func.count()).select_from(sa.table(name))) for name in names}


def final_versions(connection: sa.Connection) -> list[dict]:
    """The highest final-report version of every plan and year: numbers already published."""
    # The marks also hold numbers given before an earlier restore (tracker.reports.models.FinalReportMark).
    marks = ("UNION ALL SELECT plan_id, year, last_version FROM final_report_mark "
             if "final_report_mark" in sa.inspect(connection).get_table_names() else "")
    rows = connection.execute(sa.text(
        "SELECT p.code, v.plan_id, v.year, MAX(v.version) FROM "
        f"(SELECT plan_id, year, version FROM final_report {marks}) v JOIN plan p ON p.id = v.plan_id "
        "GROUP BY p.code, v.plan_id, v.year ORDER BY p.code, v.year"
    ))
    return [{"plan": code, "plan_id": plan_id, "year": year, "version": version} for code, plan_id, year, version in rows]


def current(engine: sa.Engine) -> Snapshot:
    """The configured database as it is now."""
    with engine.connect() as connection:
        return describe(connection, engine.dialect.name)


def data_tables(snapshot: Snapshot) -> dict[str, int]:
    """Tables holding rows, bookkeeping aside: an instance without any is empty."""
    return {name: n for name, n in snapshot.tables.items() if n and name not in BOOKKEEPING}


def load(engine: sa.Engine, path: Path) -> None:
    """Replace the configured database's content with the dump at `path` (same dialect)."""
    if supported(engine) == "sqlite":
        _load_sqlite(engine, path)
    else:
        _load_postgresql(engine, path)
    engine.dispose()  # pooled connections must not keep a view of the replaced database


def _load_sqlite(engine: sa.Engine, path: Path) -> None:
    # The backup API replaces every page of the target in one step: tables of the old content do not survive.
    source = sqlite3.connect(path)
    raw = engine.raw_connection()
    try:
        source.backup(raw.driver_connection)
    finally:
        raw.close()
        source.close()


def _load_postgresql(engine: sa.Engine, path: Path) -> None:
    uri, env = libpq_target(engine.url)
    with engine.connect() as connection:
        preparer = connection.dialect.identifier_preparer
        existing = [preparer.quote(name) for name in sa.inspect(connection).get_table_names()]
    engine.dispose()  # our own idle connections must not hold locks on the tables being dropped
    args = ["--no-psqlrc", "--quiet", "--set", "ON_ERROR_STOP=1", "--single-transaction", "--dbname", uri]
    if existing:
        args += ["--command", f"DROP TABLE IF EXISTS {', '.join(existing)} CASCADE"]
    run_tool("psql", [*args, "--file", str(path)], env)


def libpq_target(url: sa.URL) -> tuple[str, dict[str, str]]:
    """A libpq URI for a SQLAlchemy URL and the environment to run a tool with.

    The password goes in PGPASSWORD rather than on the command line, where `ps` would show it.
    """
    env = dict(os.environ)
    if url.password:
        env["PGPASSWORD"] = str(url.password)
    return url.set(drivername="postgresql", password=None).render_as_string(hide_password=False), env


def tool_path(name: str) -> str:
    """The program to run for `name`: the TRACKER_PG_DUMP / TRACKER_PSQL setting, else the one on PATH."""
    setting = TOOL_SETTINGS[name]
    chosen = current_app.config.get(setting) or os.environ.get(f"TRACKER_{setting}")
    found = shutil.which(chosen or name)
    if found is None:
        where = f"TRACKER_{setting}={chosen}" if chosen else "PATH"
        raise OpsError(f"{name} not found ({where}): install the PostgreSQL client or set TRACKER_{setting}")
    return found


def run_tool(name: str, args: list[str], env: dict[str, str]) -> None:
    """Run a PostgreSQL client program; its first error line becomes the OpsError."""
    program = tool_path(name)
    try:
        done = subprocess.run([program, *args], env=env, capture_output=True, text=True, check=False)
    except OSError as exc:
        raise OpsError(f"cannot run {program}: {exc.strerror}") from None
    if done.returncode != 0:
        raise OpsError(f"{name} failed (exit {done.returncode}): {_first_error(done.stderr)}")


def _first_error(stderr: str) -> str:
    lines = [line.strip() for line in stderr.splitlines() if line.strip()]
    errors = [line for line in lines if "ERROR" in line or "error" in line or "FATAL" in line]
    return (errors or lines or ["no message"])[0]
