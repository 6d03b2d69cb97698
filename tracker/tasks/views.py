"""A background task's page (progress, then the outcome), its status as JSON for the page's script, and its file."""

from __future__ import annotations

import io

from flask import Blueprint, abort, render_template, send_file
from flask_login import current_user

from tracker import permissions, storage
from tracker.db import db
from tracker.permissions import require
from tracker.tasks import services
from tracker.tasks.models import Task, TaskState

bp = Blueprint("tasks", __name__)
REFRESH_SECONDS = 2  # without JavaScript the page reloads itself this often until the task is finished


def _task_or_404(task_id: int) -> Task:
    task = db.session.get(Task, task_id)
    if task is None or not permissions.can_view_task(current_user, task):
        abort(404)
    return task


@bp.get("/tasks/<int:task_id>")
@require(permissions.is_logged_in)
def show(task_id: int):
    task = _task_or_404(task_id)
    kind = services.kind_of(task)
    return render_template("tasks/show.html", task=task, title=kind.title(task), refresh=REFRESH_SECONDS,
                           outcome=kind.outcome(task) if task.state == TaskState.done else [], link=kind.link(task),
                           has_file="file" in task.result)


@bp.get("/tasks/<int:task_id>.json")
@require(permissions.is_logged_in)
def status(task_id: int):
    task = _task_or_404(task_id)
    return {"state": task.state.value, "done": task.done, "total": task.total, "percent": task.percent,
            "finished": task.finished}


@bp.get("/tasks/<int:task_id>/file")
@require(permissions.is_logged_in)
def file(task_id: int):
    """The file the task made (a template), while it is kept (a day)."""
    task = _task_or_404(task_id)
    made = task.result.get("file")
    if task.state != TaskState.done or not made:
        abort(404)
    try:
        data = storage.store().read(services.file_key(task))
    except storage.Missing:
        abort(404)
    return send_file(io.BytesIO(data), mimetype=made["mimetype"], as_attachment=True, download_name=made["name"])
