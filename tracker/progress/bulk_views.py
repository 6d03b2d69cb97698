"""Bulk entry pages: download the Excel template, upload it, preview the rows, confirm the import.

The upload is checked by content and size, kept under UPLOAD_FOLDER/imports with a random name, and
remembered in the user's session under a token: only the user who uploaded it can confirm it.
"""

from __future__ import annotations

import io
import re
import secrets
import time
from datetime import timedelta
from pathlib import Path

import filetype
from flask import abort, current_app, flash, redirect, render_template, request, send_file, session, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from flask_login import current_user
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from werkzeug.utils import secure_filename
from wtforms import SubmitField

from tracker import permissions, storage
from tracker.db import db
from tracker.domain import PermissionDenied, ValidationFailed, WorkflowError
from tracker.forms import EmptyForm, apply_errors
from tracker.permissions import cycle_or_404, plan_or_404, require
from tracker.progress import bulk, bulk_tasks, services
from tracker.progress.models import ReportingCycle
from tracker.progress.views import bp
from tracker.tasks import services as tasks

SESSION_KEY = "bulk_imports"
TOKEN = re.compile(r"[0-9a-f]{32}")
MAX_PENDING = 5  # uploads awaiting confirmation per session
STALE_SECONDS = 24 * 3600  # abandoned uploads are removed after a day
ACCEPTED_TYPES = {bulk.XLSX_MIME, "application/zip"}  # some writers' .xlsx look like a plain zip; openpyxl decides


class ImportForm(FlaskForm):
    file = FileField(_l("Filled-in Excel template (.xlsx)"), validators=[FileRequired(message=_l("Choose the file to upload."))])
    submit = SubmitField(_l("Upload and preview"))


# -- helpers ------------------------------------------------------------------------------------


def _open_cycle(code: str, year: int) -> ReportingCycle:
    """The cycle if it is open; a closed one sends the user back to the worklist, saying why."""
    cycle = cycle_or_404(plan_or_404(code), year)
    if not cycle.is_open:
        flash(_("The reporting cycle %(year)s is closed; entries cannot be changed.", year=cycle.year), "danger")
        abort(redirect(url_for("progress.worklist", code=code, year=year)))
    return cycle


IMPORTS = bulk_tasks.IMPORTS  # pending uploads' keys in the store (tracker.storage): every app server finds them


def _read_xlsx(upload) -> bytes:
    """The upload's bytes, within the size limit and an .xlsx by content (not by name)."""
    limit = int(current_app.config["MAX_UPLOAD_MB"]) * 1024 * 1024
    data = upload.stream.read(limit + 1)
    name = secure_filename(Path((upload.filename or "").replace("\\", "/")).name) or "file"
    if len(data) > limit:
        raise ValidationFailed([("file", _("%(name)s is larger than %(mb)d MB.", name=name, mb=current_app.config["MAX_UPLOAD_MB"]))])
    if not data:
        raise ValidationFailed([("file", _("%(name)s is empty.", name=name))])
    kind = filetype.guess(data)
    if kind is None or kind.mime not in ACCEPTED_TYPES:
        raise ValidationFailed([("file", _("%(name)s is not an Excel workbook (.xlsx).", name=name))])
    return data


def _store(data: bytes, cycle: ReportingCycle, rows: int) -> str:
    """Keep the upload under a random name; remember in the session who may confirm it (and how many rows it has:
    a large one is imported in the background)."""
    _sweep_stale()
    token = secrets.token_hex(16)
    storage.store().keep(IMPORTS + token, data)
    pending = dict(session.get(SESSION_KEY, {}))
    pending[token] = {"user": current_user.id, "cycle": cycle.id, "institution": current_user.institution_id, "at": int(time.time()),
                      "rows": rows}
    for old in sorted(pending, key=lambda t: pending[t]["at"])[:-MAX_PENDING]:
        _forget(pending, old)
    session[SESSION_KEY] = pending
    return token


def _pending_upload(token: str, cycle: ReportingCycle) -> bytes:
    """The stored upload of this token if it is this user's, for this cycle and institution; 404 otherwise."""
    pending = session.get(SESSION_KEY, {})
    owner = pending.get(token) if TOKEN.fullmatch(token) else None
    expected = {"user": current_user.id, "cycle": cycle.id, "institution": current_user.institution_id}
    if not owner or any(owner.get(k) != v for k, v in expected.items()):
        abort(404)
    try:
        return storage.store().read(IMPORTS + token)
    except storage.Missing:
        abort(404)


def _forget(pending: dict, token: str) -> None:
    pending.pop(token, None)
    if TOKEN.fullmatch(token):
        storage.store().forget(IMPORTS + token)


def _drop(token: str) -> None:
    pending = dict(session.get(SESSION_KEY, {}))
    _forget(pending, token)
    session[SESSION_KEY] = pending


def _reason(exc: Exception) -> str:
    if isinstance(exc, ValidationFailed):
        return exc.errors[0][1]
    if isinstance(exc, WorkflowError):
        return str(exc)
    if isinstance(exc, services.ConflictError):
        return _("an entry was saved by someone else meanwhile.")
    return _("you may not change these entries.")


def _sweep_stale() -> None:
    """Remove uploads nobody confirmed within a day."""
    storage.store().sweep(IMPORTS, timedelta(seconds=STALE_SECONDS))


# -- routes -------------------------------------------------------------------------------------


@bp.get("/plans/<code>/report/<int:year>/template.xlsx")
@require(permissions.can_report)
def bulk_template(code: str, year: int):
    """The institution's template; beyond TRACKER_BACKGROUND_ROWS items it is made in the background (a task whose
    page offers the file when it is ready)."""
    cycle = _open_cycle(code, year)
    institution = current_user.institution
    if len(services.worklist(db.session, cycle, institution.id)) > tasks.background_rows():
        task = tasks.start(db.session, "bulk_template", current_user, cycle_id=cycle.id, institution_id=institution.id)
        db.session.commit()
        return redirect(url_for("tasks.show", task_id=task.id))
    data = bulk.build_template(db.session, cycle, institution)
    name = secure_filename(f"{cycle.plan.code}-{cycle.year}-{institution.code}.xlsx")
    return send_file(io.BytesIO(data), mimetype=bulk.XLSX_MIME, as_attachment=True, download_name=name)


@bp.route("/plans/<code>/report/<int:year>/import", methods=["GET", "POST"])
@require(permissions.can_report)
def bulk_import(code: str, year: int):
    cycle = _open_cycle(code, year)
    form, preview, token = ImportForm(), None, None
    if form.validate_on_submit():
        try:
            data = _read_xlsx(form.file.data)
            preview = bulk.parse_upload(db.session, cycle, current_user.institution, data)
        except ValidationFailed as exc:
            apply_errors(form, exc)
        else:
            token = _store(data, cycle, len(preview.good)) if preview.good else None
            db.session.commit()  # the pending upload (kept in the database store, where several servers find it)
    status = 400 if request.method == "POST" and preview is None else 200
    return render_template("progress/import.html", plan=cycle.plan, cycle=cycle, form=form, preview=preview, token=token), status


@bp.post("/plans/<code>/report/<int:year>/import/<token>")
@require(permissions.can_report)
def bulk_import_confirm(code: str, year: int, token: str):
    cycle = _open_cycle(code, year)
    if not EmptyForm().validate_on_submit():
        abort(400)
    upload = _pending_upload(token, cycle)
    if session[SESSION_KEY][token].get("rows", 0) > tasks.background_rows():
        return _import_in_background(cycle, token)
    try:
        preview = bulk.parse_upload(db.session, cycle, current_user.institution, upload)
        count = bulk.import_rows(db.session, current_user, cycle, current_user.institution, preview)
    except (ValidationFailed, WorkflowError, PermissionDenied, services.ConflictError) as exc:
        db.session.rollback()  # all or nothing
        _drop(token)
        db.session.commit()
        flash(_("The import could not be saved, so nothing was changed: %(reason)s Upload the file again.", reason=_reason(exc)), "danger")
        return redirect(url_for("progress.bulk_import", code=code, year=year))
    _drop(token)
    db.session.commit()
    flash(ngettext("%(num)d row imported as a draft.", "%(num)d rows imported as drafts.", count), "success")
    if preview.bad:
        flash(ngettext("%(num)d row with errors was not imported.", "%(num)d rows with errors were not imported.", len(preview.bad)), "warning")
    return redirect(url_for("progress.worklist", code=code, year=year))


def _import_in_background(cycle: ReportingCycle, token: str):
    """A large upload is imported by a task (its page shows the progress and the outcome); the upload stays in the
    store for the task, which removes it, and leaves the user's session."""
    task = tasks.start(db.session, "bulk_import", current_user, cycle_id=cycle.id,
                       institution_id=current_user.institution_id, token=token)
    pending = dict(session.get(SESSION_KEY, {}))
    pending.pop(token, None)
    session[SESSION_KEY] = pending
    db.session.commit()
    return redirect(url_for("tasks.show", task_id=task.id))
