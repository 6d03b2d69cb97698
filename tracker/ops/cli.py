"""`tracker backup`, `tracker restore` and `tracker check`: parse, call one service, report in one place."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import click
import sqlalchemy as sa
from flask import current_app
from flask.cli import with_appcontext

from tracker.db import db
from tracker.ops import OpsError, backup, check, move, restore
from tracker.ops.files import human_size, upload_folder


def _run(service, *args):
    """Call a service; whatever fails becomes one `Error: ...` line (exit 1), never a traceback."""
    try:
        return service(*args)
    except OpsError as exc:
        raise click.ClickException(str(exc)) from None
    except OSError as exc:
        where = f"{exc.filename}: " if exc.filename else ""
        raise click.ClickException(f"{where}{exc.strerror or exc}") from None
    except (sa.exc.SQLAlchemyError, sqlite3.Error) as exc:
        reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
        raise click.ClickException(f"database: {reason}") from None


@click.command("backup")
@click.option("-o", "--output", required=True, type=click.Path(path_type=Path),
              help="Archive to write, e.g. nap-tracker-2026-12-01.tar.gz.")
@click.option("--force", is_flag=True, help="Overwrite OUTPUT if it exists.")
@with_appcontext
def backup_command(output: Path, force: bool) -> None:
    """Write the database and every stored file to one .tar.gz archive.

    The archive holds database/ (a SQLite copy, or pg_dump's SQL for PostgreSQL), files/ (everything
    under the upload folder: evidence, final reports in reports/) and manifest.json (format version,
    date, migration revision, database kind, rows per table, sha256 and size of every member).
    The app may keep running: the dump is one consistent snapshot. pg_dump is taken from PATH or
    TRACKER_PG_DUMP.
    """
    manifest = _run(backup.create_backup, db.engine, upload_folder(), output, force)
    totals = manifest["totals"]
    click.echo(f"Backup written to {output}: {len(manifest['tables'])} tables, {totals['rows']} rows, "
               f"{totals['files']} files ({human_size(totals['bytes'])}); revision {manifest['alembic_revision'] or 'base'}.")


@click.command("restore")
@click.argument("archive", type=click.Path(path_type=Path))
@click.option("--force", is_flag=True, help="Replace the database and files of an instance that is not empty.")
@with_appcontext
def restore_command(archive: Path, force: bool) -> None:
    """Restore ARCHIVE, made by `tracker backup`, into this instance.

    The instance must be empty (no rows, no stored files) unless --force, which replaces its data:
    its tables are dropped and its upload folder emptied (take a backup of it first).
    Every checksum is verified before anything is touched. The backup must come from the same kind
    of database (SQLite or PostgreSQL, which needs psql on PATH or TRACKER_PSQL). A backup older
    than the code is brought to the latest revision by running the migrations after the restore.
    Stop the app while restoring.
    """
    result = _run(restore.restore_backup, db.engine, upload_folder(), archive, force)
    restore.record_restore(db.session, archive, result)
    db.session.commit()
    _report_restore(archive, result)


def _report_restore(archive: Path, result: restore.RestoreResult) -> None:
    manifest = result.manifest
    click.echo(f"Restored {archive} (backup of {manifest['created_at']}, {manifest['database']['dialect']}, "
               f"revision {manifest['alembic_revision'] or 'base'}):")
    click.echo(f"  database: {result.tables} tables, {result.rows} rows, as in the manifest")
    size = f" ({human_size(result.bytes)})" if result.bytes >= 1024 else ""
    click.echo(f"  files: {result.files} files, {result.bytes} bytes{size}")
    if result.migrated:
        click.echo(f"  migrated from {result.migrated[0] or 'base'} to {result.migrated[1]}")
    for v in result.versions_lost:
        click.echo(f"Warning: {v['plan']} {v['year']} had final report version {v['version']} before this restore; "
                   "the backup has fewer files, and the next final version will be numbered after it.", err=True)


@click.command("check")
@click.option("--fix", is_flag=True, help="Move complete files of committed rows into place, remove orphan files (never rows), and say which.")
@with_appcontext
def check_command(fix: bool) -> None:
    """Compare stored files with the rows that describe them (evidence, final reports).

    Lists orphan files (no row names them), rows whose file is missing or whose size or sha256
    differ, and complete files a crash left waiting under their partial name. Exit status: 0 when
    everything agrees, 1 when problems are found (with --fix: when problems remain once the orphans
    are removed and the waiting files moved into place).
    """
    if current_app.config.get("STORAGE") == "database":
        return _check_database(fix)
    report = _run(check.check_files, db.session, upload_folder())
    for partial, place in report.unpublished:
        click.echo(f"Not moved into place after its commit: {partial} (for {place})")
    for path in report.orphans:
        click.echo(f"Orphan file (no row): {path}")
    for problem in report.problems:
        click.echo(problem)
    if fix:
        for path in _run(check.publish_unpublished, report):
            click.echo(f"Moved into place {path}")
        for path in _run(check.remove_orphans, report):
            click.echo(f"Removed orphan file {path}")
    found = len(report.orphans) + len(report.problems) + len(report.unpublished)
    click.echo(f"Checked {report.checked} files: " + ("everything agrees." if report.clean else f"{found} problems."))
    click.get_current_context().exit(0 if report.clean else 1)


def _check_database(fix: bool) -> None:
    """`tracker check` with TRACKER_STORAGE=database: rows against stored_file; --fix removes orphan files."""
    from tracker.storage import StoredFile

    checked, problems, orphans = _run(move.check_database_files, db.session)
    for key in orphans:
        click.echo(f"Orphan file (no row): {key} (database store)")
    for problem in problems:
        click.echo(problem)
    if fix and orphans:
        db.session.execute(sa.delete(StoredFile).where(StoredFile.key.in_(orphans)))
        db.session.commit()
        for key in orphans:
            click.echo(f"Removed orphan file {key}")
        orphans = []
    found = len(problems) + len(orphans)
    click.echo(f"Checked {checked} files: " + ("everything agrees." if not found else f"{found} problems."))
    click.get_current_context().exit(0 if not found else 1)


@click.group("storage")
def storage_group() -> None:
    """Where stored files live (TRACKER_STORAGE: folder or database)."""


@storage_group.command("migrate")
@click.option("--to", "to", required=True, type=click.Choice(["database", "folder"]),
              help="The store to move the files into.")
@with_appcontext
def storage_migrate(to: str) -> None:
    """Copy every evidence file and final report into the other store, each checked against its row's sha256.

    \b
    Example, before giving several app servers TRACKER_STORAGE=database:
      tracker storage migrate --to database
      TRACKER_STORAGE=database tracker check

    All or nothing: a missing or changed file stops it and nothing is written. The source keeps its files;
    running it again moves only what is not in the target yet.
    """
    report = _run(move.migrate_files, db.session, to)
    _run(db.session.commit)
    click.echo(f"Moved {report.moved} files to the {to} store ({report.already} already there, checked).")


ops_commands = (backup_command, restore_command, check_command, storage_group)
