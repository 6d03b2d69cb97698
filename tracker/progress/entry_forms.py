"""The save step shared by every entry form (indicator, action, budget item)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import sqlalchemy as sa
from flask import flash, g, redirect, request
from flask_babel import gettext as _
from flask_login import current_user

from tracker.db import db
from tracker.domain import PermissionDenied, ValidationFailed, WorkflowError
from tracker.forms import apply_errors
from tracker.plan.services import reviewing_body
from tracker.progress import uploads
from tracker.progress.models import Entry
from tracker.progress.services import AlreadySaved, ConflictError


@dataclass
class Outcome:
    """What the view does next: follow `response` if set, otherwise re-render (with `conflict` if any)."""

    response: object | None = None
    conflict: ConflictError | None = None
    code: int = 400

    def status(self) -> int:
        return 409 if self.conflict else self.code


def form_version(form) -> int | None:
    return int(form.version.data) if (form.version.data or "").isdigit() else None


def save_entry_form(form, save: Callable[[int | None], Entry], done_url: str, back_url: str) -> Outcome:
    """Check the uploads, save (and submit) through `save(version)`, attach the evidence, commit once.

    Field errors go back on the form, a concurrent edit comes back as `conflict` (the form's version is
    moved on so that saving again overwrites knowingly), a locked entry sends the user back.
    """
    try:
        files = uploads.check_uploads(request.files.getlist(form.evidence.name))
        saved = save(form_version(form))
        uploads.store_evidence(db.session, current_user, saved, files)
    except AlreadySaved:
        db.session.rollback()
        flash(_("Your save had already gone through (the form was sent twice); nothing else changed."), "info")
        return Outcome(redirect(done_url))
    except ValidationFailed as exc:
        db.session.rollback()
        apply_errors(form, exc)
        return Outcome()
    except ConflictError as exc:
        db.session.rollback()
        form.version.data = str(exc.entry.version)
        return Outcome(conflict=exc)
    except (WorkflowError, PermissionDenied) as exc:
        db.session.rollback()
        flash(str(exc) or _("This entry cannot be changed."), "danger")
        return Outcome(redirect(back_url))
    try:
        db.session.commit()
    except sa.exc.IntegrityError:
        # The locks make this a last resort: the input stays on the form, and saving again is safe.
        db.session.rollback()
        form.form_errors.append(_("Someone saved this entry at the same moment. Check it and save again."))
        return Outcome(code=409)
    flash(_("Entry submitted to %(body)s.", body=reviewing_body(g.get("plan"))) if form.send.data else _("Draft saved."),
          "success")
    return Outcome(redirect(done_url))
