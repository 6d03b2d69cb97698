"""Uploading a plan file or an indicator matrix from the browser: preview what would change, then apply.

The preview runs the import exactly as applying it would, inside a SAVEPOINT that is rolled back, so what it shows
is what the editing service decides. The upload is kept under UPLOAD_FOLDER/plan-imports with a random name and
remembered in the user's session under a token: only the user who uploaded it can apply it, to the plan it was
uploaded for. Apply runs the import again on the plan as it is then, and commits once.
"""

from __future__ import annotations

import hashlib
import io
import json
import re
import secrets
import time
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import sqlalchemy as sa
import yaml
from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, send_file, session, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from werkzeug.utils import secure_filename
from wtforms import HiddenField, SubmitField, TextAreaField
from wtforms.validators import DataRequired, Length

from tracker import audit, permissions, storage
from tracker.db import db
from tracker.domain import ValidationFailed
from tracker.forms import apply_errors
from tracker.labels import PLAN_FIELD_LABELS
from tracker.permissions import ensure, plan_or_404, require
from tracker.plan import editing, matrix
from tracker.plan import models as m
from tracker.plan import schema as s
from tracker.plan.loader import ImportResult, PlanFileError, PlanImportRefused, import_plan, validate_plan_data
from tracker.progress import uploads

bp = Blueprint("plan_import", __name__, url_prefix="/plans")

PLAN_FILE, MATRIX = "plan_file", "matrix"
SUFFIXES = {".yaml": PLAN_FILE, ".yml": PLAN_FILE, ".xlsx": MATRIX}
SESSION_KEY = "plan_imports"
TOKEN = re.compile(r"[0-9a-f]{32}")
MAX_PENDING = 5  # uploads awaiting Apply per session
STALE_SECONDS = 24 * 3600  # abandoned uploads are removed after a day
MAX_ALIASES = 500  # a plan file shares a few sources by alias; thousands are an alias bomb


class ImportForm(FlaskForm):
    file = FileField(_l("Plan file (.yaml) or indicator matrix (.xlsx)"),
                     validators=[FileRequired(message=_l("Choose the file to upload."))])
    reason = TextAreaField(_l("Reason for the change"),
                           validators=[DataRequired(message=_l("Say why: every change of the plan keeps its reason.")),
                                       Length(max=2000)],
                           description=_l("Kept in the plan's history with every item and target the file changes, "
                                          "e.g. \"Session of 12 March 2026, minute 4: indicator matrix adopted\"."))
    submit = SubmitField(_l("Preview"))


class ApplyForm(FlaskForm):
    """Apply the upload previewed (the token names it in the user's session)."""

    token = HiddenField()


@dataclass
class Upload:
    """A file read from the form: a plan file or a matrix (by its extension), its safe name and its bytes."""

    kind: str
    name: str
    data: bytes


class FileRefused(Exception):
    """The whole file is refused (invalid, another plan's, against a rule of the plan): nothing applies."""

    def __init__(self, message: str, problems: list[tuple[str, str]] | None = None):
        self.message = message
        self.problems = problems or []  # (where in the file, what is wrong)
        super().__init__(message)

    def one_line(self) -> str:
        return " ".join([self.message, *(f"{where}: {what}" if where else what for where, what in self.problems)])


@dataclass
class ImportOutcome:
    """What an import did, or would do: a plan file's ImportResult, or the matrix's rows."""

    kind: str
    result: ImportResult | None = None
    rows: list[matrix.RowResult] | None = None

    @property
    def counts(self) -> dict[str, int]:
        """Matrix rows per status; plan file items created and changed, and the other rows it touched."""
        if self.rows is not None:
            return {status: sum(r.status == status for r in self.rows)
                    for status in (matrix.ADDED, matrix.CHANGED, matrix.UNCHANGED, matrix.REFUSED)}
        created = sum(o.created for o in self.result.outcomes)
        changed = len(self.result.outcomes) - created
        return {"created": created, "changed": changed,
                "other": self.result.created + self.result.updated - len(self.result.outcomes)}

    @property
    def changes_something(self) -> bool:
        counts = self.counts
        if self.rows is not None:
            return bool(counts[matrix.ADDED] or counts[matrix.CHANGED])
        return any(counts.values())


# -- reading the upload -------------------------------------------------------------------------


def _read_upload(upload_field) -> Upload:
    """The form's file within the upload size limit, a plan file or a matrix by its extension."""
    raw_name = Path((upload_field.filename or "").replace("\\", "/")).name
    name = secure_filename(raw_name) or "file"
    kind = SUFFIXES.get(Path(raw_name).suffix.lower())
    if kind is None:
        raise ValidationFailed([("file", _("%(name)s is neither a plan file (.yaml, .yml) nor an indicator matrix (.xlsx).", name=name))])
    data = upload_field.stream.read(uploads.max_bytes() + 1)
    if len(data) > uploads.max_bytes():
        raise ValidationFailed([("file", _("%(name)s is larger than %(mb)d MB.", name=name, mb=current_app.config["MAX_UPLOAD_MB"]))])
    if not data:
        raise ValidationFailed([("file", _("%(name)s is empty.", name=name))])
    return Upload(kind, name, data)


class _PlanFileLoader(yaml.SafeLoader):
    """YAML's safe loader, refusing the alias bombs an uploaded file could hold."""

    aliases = 0

    def compose_node(self, parent: Any, index: Any) -> Any:
        if self.check_event(yaml.AliasEvent):
            self.aliases += 1
            if self.aliases > MAX_ALIASES:
                raise yaml.composer.ComposerError(None, None, f"more than {MAX_ALIASES} aliases", self.peek_event().start_mark)
        return super().compose_node(parent, index)


def _parse_plan_file(upload: Upload) -> s.PlanFile:
    """The upload as a validated plan file: ValidationFailed when it is not YAML, FileRefused when it is invalid."""
    try:
        text = upload.data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ValidationFailed([("file", _("%(name)s is not a text file in UTF-8: save the plan file as UTF-8.", name=upload.name))]) from None
    try:
        raw = yaml.load(text, Loader=_PlanFileLoader)  # noqa: S506 - a SafeLoader
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = _("line %(line)d", line=mark.line + 1) if mark else "—"
        raise ValidationFailed([("file", _("%(name)s is not valid YAML (%(where)s): %(problem)s", name=upload.name, where=where,
                                           problem=getattr(exc, "problem", None) or exc))]) from None
    except RecursionError:
        raise ValidationFailed([("file", _("%(name)s is not valid YAML (%(where)s): %(problem)s", name=upload.name, where="—",
                                           problem=_("nested too deeply")))]) from None
    try:
        return validate_plan_data(raw, upload.name)
    except PlanFileError as exc:
        raise FileRefused(_("The plan file %(name)s is not valid, so nothing was changed:", name=upload.name), exc.problems) from None


# -- importing ----------------------------------------------------------------------------------


def _run(plan: m.Plan, upload: Upload, reason: str) -> ImportOutcome:
    """Import the upload into the plan through the editing service (flushes, does not commit)."""
    if upload.kind == PLAN_FILE:
        return ImportOutcome(PLAN_FILE, result=_import_plan_file(plan, upload, reason))
    return ImportOutcome(MATRIX, rows=_import_matrix(plan, upload, reason))


def _import_plan_file(plan: m.Plan, upload: Upload, reason: str) -> ImportResult:
    parsed = _parse_plan_file(upload)
    if parsed.plan.code != plan.code:
        raise FileRefused(_("This plan file is for the plan %(other)s, not %(plan)s: nothing was changed.",
                            other=parsed.plan.code, plan=plan.code))
    try:
        with db.session.begin_nested():  # a refusal halfway leaves nothing behind
            return import_plan(db.session, parsed, operator=current_user.email, reason=reason, keep_country=True)
    except PlanImportRefused as exc:
        raise FileRefused(_("The plan file was refused, so nothing was changed:"), [("", _refusal_text(exc))]) from None
    except (sa.exc.DataError, sa.exc.IntegrityError):
        raise FileRefused(_("The plan file holds a value the database cannot store (a text too long or a number too "
                            "large), so nothing was changed.")) from None


def _refusal_text(exc: PlanImportRefused) -> str:
    """The refusal in the user's language (the loader words its own in English, for the command line)."""
    return str(exc.refusal) if exc.refusal is not None else str(exc)


def _import_matrix(plan: m.Plan, upload: Upload, reason: str) -> list[matrix.RowResult]:
    sheet = matrix.read_matrix(upload.data)
    matrix.check_plan(sheet, plan)
    editor = editing.Editor(current_user.email, reason, m.ChangeChannel.spreadsheet)
    return matrix.apply_matrix(db.session, plan, sheet.rows, editor)


def _preview(plan: m.Plan, upload: Upload, reason: str) -> ImportOutcome:
    """The import exactly as Apply would run it, then undone: nothing is stored."""
    savepoint = db.session.begin_nested()
    try:
        return _run(plan, upload, reason)
    finally:
        savepoint.rollback()


# -- the pending upload -------------------------------------------------------------------------


PLAN_IMPORTS = "plan-imports/"  # pending uploads' keys in the store (tracker.storage): every app server finds them


def _store(plan: m.Plan, upload: Upload, reason: str) -> str:
    """Keep the upload (and its name, kind and reason beside it) under a random token; the session says who may apply it."""
    _sweep_stale()
    token = secrets.token_hex(16)
    store = storage.store()
    store.keep(PLAN_IMPORTS + token, upload.data)
    store.keep(f"{PLAN_IMPORTS}{token}.json",
                   json.dumps({"kind": upload.kind, "name": upload.name, "reason": reason}).encode("utf-8"))
    pending = dict(session.get(SESSION_KEY, {}))
    pending[token] = {"user": current_user.id, "plan": plan.id, "sha256": hashlib.sha256(upload.data).hexdigest(), "at": int(time.time())}
    for old in sorted(pending, key=lambda t: pending[t]["at"])[:-MAX_PENDING]:
        _forget(pending, old)
    session[SESSION_KEY] = pending
    return token


def _pending(plan: m.Plan, token: str) -> tuple[Upload, str] | None:
    """The upload and reason kept under this token, if this user kept it for this plan and it is intact."""
    owner = session.get(SESSION_KEY, {}).get(token) if TOKEN.fullmatch(token) else None
    if not owner or (owner.get("user"), owner.get("plan")) != (current_user.id, plan.id):
        return None
    store = storage.store()
    try:
        data, info = store.read(PLAN_IMPORTS + token), json.loads(store.read(f"{PLAN_IMPORTS}{token}.json"))
    except storage.Missing:
        return None
    if hashlib.sha256(data).hexdigest() != owner.get("sha256"):
        return None
    return Upload(info["kind"], info["name"], data), info["reason"]


def _forget(pending: dict, token: str) -> None:
    pending.pop(token, None)
    if TOKEN.fullmatch(token):
        storage.store().forget(PLAN_IMPORTS + token)
        storage.store().forget(f"{PLAN_IMPORTS}{token}.json")


def _drop(token: str) -> None:
    pending = dict(session.get(SESSION_KEY, {}))
    _forget(pending, token)
    session[SESSION_KEY] = pending


def _sweep_stale() -> None:
    """Remove uploads nobody applied within a day."""
    storage.store().sweep(PLAN_IMPORTS, timedelta(seconds=STALE_SECONDS))


# -- pages --------------------------------------------------------------------------------------


def _editable_plan(code: str) -> m.Plan:
    plan = plan_or_404(code)
    ensure(permissions.can_edit_plan, plan)
    return plan


def field_title(name: str, kind: str) -> str:
    """A changed field as the preview names it: the matrix's column, or the plan history's label."""
    if kind == MATRIX and (name in matrix.TITLES or name in matrix.SERVICE_FIELDS or name.startswith("target_")):
        return matrix.column_title(name)
    return str(PLAN_FIELD_LABELS.get(name, name))


def _form_page(plan: m.Plan, form: ImportForm, status: int, refusal: FileRefused | None = None):
    return render_template("plan/import.html", plan=plan, form=form, refusal=refusal), status


@bp.get("/<code>/matrix.xlsx")
@require(permissions.can_edit_plan)
def matrix_template(code: str):
    """The plan's indicator matrix, filled with its current indicators, to fill in and upload."""
    plan = _editable_plan(code)
    data = matrix.write_matrix(db.session, plan)
    name = secure_filename(f"{plan.code}-indicator-matrix.xlsx")
    return send_file(io.BytesIO(data), mimetype=matrix.XLSX_MIME, as_attachment=True, download_name=name)


@bp.route("/<code>/import", methods=["GET", "POST"])
@require(permissions.can_edit_plan)
def upload(code: str):
    """GET: the upload form; POST: the preview of what the file would add, change and refuse."""
    plan = _editable_plan(code)
    form = ImportForm()
    if not form.validate_on_submit():
        return _form_page(plan, form, 400 if request.method == "POST" else 200)
    reason = form.reason.data.strip()
    try:
        received = _read_upload(form.file.data)
        outcome = _preview(plan, received, reason)
    except ValidationFailed as exc:
        apply_errors(form, exc)
        return _form_page(plan, form, 400)
    except FileRefused as exc:
        return _form_page(plan, form, 400, refusal=exc)
    token = _store(plan, received, reason) if outcome.changes_something else ""
    db.session.commit()  # the pending upload (kept in the database store, where several servers find it)
    return render_template("plan/import_preview.html", plan=plan, upload=received, reason=reason, outcome=outcome,
                           form=ApplyForm(token=token), token=token, field_title=field_title,
                           PLAN_FILE=PLAN_FILE)


@bp.post("/<code>/import/apply")
@require(permissions.can_edit_plan)
def apply(code: str):
    """Run the previewed import for real on the plan as it is now, commit once, and say what it did."""
    plan = _editable_plan(code)
    form = ApplyForm()
    if not form.validate_on_submit():
        abort(400)
    token = form.token.data or ""
    pending = _pending(plan, token)
    if pending is None:
        flash(_("This upload is no longer available: upload the file again."), "warning")
        return redirect(url_for("plan_import.upload", code=plan.code))
    upload, reason = pending
    try:
        outcome = _run(plan, upload, reason)
    except (ValidationFailed, FileRefused) as exc:
        db.session.rollback()
        _drop(token)
        db.session.commit()  # the database store forgets the upload with the session
        text = exc.message if isinstance(exc, ValidationFailed) else exc.one_line()
        flash(_("Nothing was changed: %(reason)s", reason=text), "danger")
        return redirect(url_for("plan_import.upload", code=plan.code))
    _audit(plan, upload, outcome)
    _drop(token)
    db.session.commit()
    _flash_summary(upload, outcome)
    return redirect(url_for("plan.show", code=plan.code))


def _audit(plan: m.Plan, upload: Upload, outcome: ImportOutcome) -> None:
    if outcome.kind == PLAN_FILE:
        audit.record(db.session, "plan.imported", actor=current_user, target=plan, via="web", plan=plan.code,
                     file=upload.name, created=outcome.result.created, updated=outcome.result.updated,
                     **({"revised_from": outcome.result.revised_from} if outcome.result.revised_from else {}))
    elif outcome.changes_something:
        counts = outcome.counts
        audit.record(db.session, "plan.matrix_imported", actor=current_user, target=plan, via="web", plan=plan.code,
                     file=upload.name, created=counts[matrix.ADDED], updated=counts[matrix.CHANGED],
                     refused=counts[matrix.REFUSED])


def _flash_summary(upload: Upload, outcome: ImportOutcome) -> None:
    counts = outcome.counts
    if outcome.kind == PLAN_FILE:
        flash(_("Plan file %(file)s imported. Items created: %(created)d; items changed: %(changed)d; other rows "
                "created or changed: %(other)d.", file=upload.name, **counts), "success")
        if outcome.result.revised_from:
            flash(_("The plan was revised: version %(version)s is kept among the plan's versions.",
                    version=outcome.result.revised_from), "info")
        return
    flash(_("Indicator matrix %(file)s imported. Indicators added: %(added)d; changed: %(changed)d; unchanged: "
            "%(unchanged)d; refused: %(refused)d.", file=upload.name, **counts), "success")
    refused = [r for r in outcome.rows if r.status == matrix.REFUSED]
    if refused:
        lines = [_("Row %(row)d (%(code)s): %(reason)s", row=r.number, code=r.code or "—", reason=r.reason) for r in refused[:10]]
        flash(_("Rows refused, not applied:") + " " + " · ".join(lines), "warning")
