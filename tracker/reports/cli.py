"""`tracker report annual`: write a plan's annual report for a year in any format and language."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import click
from flask.cli import with_appcontext

from tracker.db import db

report_group = click.Group("report", help="Annual implementation reports.")


def _check_arguments(year: str | None, fmt: str, lang: str, output: str | None) -> tuple[int, Path]:
    """Parse the arguments; a ClickException (one `Error: ...` line, exit 1) for anything wrong."""
    from tracker.reports.exporters import FORMATS
    from tracker.reports.services import LANGUAGES

    if not year or not year.isdigit() or not 1900 <= int(year) <= 2200:
        raise click.ClickException(f"--year must be a year such as 2025 (got {year!r})")
    if fmt not in FORMATS:
        raise click.ClickException(f"--format must be one of {', '.join(FORMATS)} (got {fmt!r})")
    if lang not in LANGUAGES:
        raise click.ClickException(f"--lang must be one of {', '.join(LANGUAGES)} (got {lang!r})")
    if not output:
        raise click.ClickException("--output PATH is required")
    path = Path(output)
    folder = path.parent if str(path.parent) else Path(".")
    if path.is_dir() or not folder.is_dir() or not os.access(folder, os.W_OK) or (path.exists() and not os.access(path, os.W_OK)):
        raise click.ClickException(f"cannot write {output}: not a writable file path")
    return int(year), path


@report_group.command("annual")
@click.option("--plan", "plan_code", default="PE-2021", show_default=True, help="Plan code.")
@click.option("--year", help="Reporting year, e.g. 2025.")
@click.option("--format", "fmt", default="pdf", show_default=True, help="pdf, docx, xlsx, csv (a zip of CSV files) or json.")
@click.option("--lang", default="es", show_default=True, help="Language of the report: es or en.")
@click.option("--output", "-o", help="File to write.")
@click.option("--pending", is_flag=True, help="Also count data submitted but not yet approved (marked PROVISIONAL).")
@with_appcontext
def annual(plan_code: str, year: str | None, fmt: str, lang: str, output: str | None, pending: bool) -> None:
    """Write the annual implementation report of PLAN for YEAR (approved data only unless --pending)."""
    from tracker.plan.services import NotFound, get_plan
    from tracker.reports import services
    from tracker.reports.exporters import export

    number, path = _check_arguments(year, fmt, lang, output)
    try:
        plan = get_plan(db.session, plan_code)
    except NotFound:
        raise click.ClickException(f"no plan has the code {plan_code!r} (see `tracker plan list`)") from None
    steps = ["build", "write", "save"]
    data = b""
    with click.progressbar(steps, label=f"{plan.code} {number} ({fmt}, {lang})", file=sys.stderr) as bar:
        for step in bar:
            if step == "build":
                dataset = services.annual_report(db.session, plan, number, lang, include_pending=pending)
            elif step == "write":
                data = export(dataset, fmt)
            else:
                _save(path, data)
    click.echo(f"Report written to {path} ({len(data):,} bytes){' — PROVISIONAL' if pending else ''}.")


def _save(path: Path, data: bytes) -> None:
    try:
        path.write_bytes(data)
    except OSError as exc:
        raise click.ClickException(f"cannot write {path}: {exc.strerror or exc}") from None


export_group = click.Group("export", help="Open data exports.")


@export_group.command("opendata")
@click.option("--plan", "plan_code", required=True, help="Plan code, e.g. PE-2021.")
@click.option("--output", "output", required=True, help="Folder to write data.csv and datapackage.json into.")
@click.option("--national", is_flag=True, help="The public page's figures: national, small cells suppressed "
                                               "(below the plan's threshold).")
@with_appcontext
def opendata(plan_code: str, output: str, national: bool) -> None:
    """Write a plan's approved indicator values in the Open SDG layout (data.csv) with its Frictionless Data Package
    descriptor (datapackage.json).

    \b
    Example:
      tracker export opendata --plan PE-2021 --output datos-pe-2021
    """
    from tracker import opendata as od
    from tracker.plan.services import NotFound, get_plan

    try:
        plan = get_plan(db.session, plan_code)
    except NotFound:
        raise click.ClickException(f"no plan has the code {plan_code!r}") from None
    folder = Path(output)
    if folder.exists() and not folder.is_dir():
        raise click.ClickException(f"cannot write into {output}: not a folder")
    try:
        paths = od.write_package(db.session, plan, folder, public=national, threshold=od.threshold(plan))
    except OSError as exc:
        raise click.ClickException(f"cannot write into {output}: {exc.strerror}") from None
    click.echo("\n".join(str(p) for p in paths))
