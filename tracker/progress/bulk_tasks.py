"""The Excel import and template beyond TRACKER_BACKGROUND_ROWS rows, as background tasks (tracker.tasks): the
same services as the pages' own requests, with a progress bar."""

from __future__ import annotations

from flask import url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from sqlalchemy.orm import Session
from werkzeug.utils import secure_filename

from tracker import storage
from tracker.auth.models import User
from tracker.plan.models import Institution
from tracker.progress import bulk
from tracker.progress.models import ReportingCycle
from tracker.tasks.models import Task
from tracker.tasks.services import Progress, file_key, kind

IMPORTS = "imports/"  # the uploads waiting for their import (tracker.progress.bulk_views keeps them there)


def _cycle(task: Task) -> ReportingCycle:
    from tracker.db import db

    return db.session.get(ReportingCycle, task.params["cycle_id"])


def _worklist_link(task: Task) -> tuple[str, str]:
    cycle = _cycle(task)
    return url_for("progress.worklist", code=cycle.plan.code, year=cycle.year), _("Back to the worklist")


def _import_link(task: Task) -> tuple[str, str]:
    if task.state.value == "failed":
        cycle = _cycle(task)
        return url_for("progress.bulk_import", code=cycle.plan.code, year=cycle.year), _("Upload the file again")
    return _worklist_link(task)


def _import_outcome(task: Task) -> list[tuple[str, str]]:
    messages = [("success", ngettext("%(num)d row imported as a draft.", "%(num)d rows imported as drafts.",
                                     task.result["imported"]))]
    if task.result.get("with_errors"):
        messages.append(("warning", ngettext("%(num)d row with errors was not imported.",
                                             "%(num)d rows with errors were not imported.", task.result["with_errors"])))
    return messages


def _loaded(session: Session, task: Task) -> tuple[User, ReportingCycle, Institution]:
    params = task.params
    return (session.get(User, task.user_id), session.get(ReportingCycle, params["cycle_id"]),
            session.get(Institution, params["institution_id"]))


@kind("bulk_import", lambda task: _("Importing the Excel file"), _import_outcome, _import_link)
def import_upload(session: Session, task: Task, progress: Progress) -> dict:
    """Read the upload again, save its good rows as drafts (all or nothing), and drop the upload once committed."""
    user, cycle, institution = _loaded(session, task)
    key = IMPORTS + task.params["token"]
    try:
        upload = storage.store(session=session).read(key)
    except storage.Missing:
        from tracker.domain import WorkflowError

        raise WorkflowError(_("the uploaded file is no longer kept. Upload it again.")) from None
    preview = bulk.parse_upload(session, cycle, institution, upload)
    count = bulk.import_rows(session, user, cycle, institution, preview, progress)
    storage.store(session=session).forget(key)
    return {"imported": count, "with_errors": len(preview.bad)}


def _template_outcome(task: Task) -> list[tuple[str, str]]:
    return [("success", _("The template is ready."))]


@kind("bulk_template", lambda task: _("Preparing the Excel template"), _template_outcome, _worklist_link)
def make_template(session: Session, task: Task, progress: Progress) -> dict:
    """The institution's template, kept in the store for a day for the task's page to offer."""
    _user, cycle, institution = _loaded(session, task)
    data = bulk.build_template(session, cycle, institution, progress)
    storage.store(session=session).keep(file_key(task), data)
    name = secure_filename(f"{cycle.plan.code}-{cycle.year}-{institution.code}.xlsx")
    return {"file": {"name": name, "mimetype": bulk.XLSX_MIME, "size": len(data)}}
