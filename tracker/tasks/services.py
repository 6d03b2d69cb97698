"""Start a background task, run it as the job `run_task`, and record its progress.

A kind of task is a `TaskKind` registered with `@kind(name)`: `run(session, task, progress)` does the work in the
job's session, without committing, and returns what the page shows when done (plain values). The job then marks the
task done in the same transaction: the work and "done" are committed together, or neither is. `run` may raise
DomainError: the task fails with that message and nothing of its work is kept.

A task runs once. If a worker dies mid-way, the queue hands the job to another worker, which finds the task
started but not done and runs it again from the start (nothing of the first run was committed); a finished task is
never run again.
"""

from __future__ import annotations

import importlib
import json
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Callable

import sqlalchemy as sa
from flask import current_app
from flask_babel import force_locale
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Session

from tracker import jobs, storage
from tracker.auth.models import User
from tracker.db import db, utcnow
from tracker.domain import DomainError
from tracker.tasks.models import FINISHED, Task, TaskState

FILES = "tasks/"  # files a task made (a template), in the store; kept a day
KEEP_FILES = timedelta(days=1)
# The modules that register kinds, imported before a kind is looked up (the worker may not have imported them).
KIND_MODULES = ("tracker.reports.tasks", "tracker.progress.bulk_tasks")

Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class TaskKind:
    name: str
    run: Callable[[Session, Task, Progress], dict[str, Any]]
    title: Callable[[Task], str]  # what the page calls the task, in the current language
    outcome: Callable[[Task], list[tuple[str, str]]]  # (category, message) shown when done
    link: Callable[[Task], tuple[str, str]]  # (url, label): where to go next, done or failed


KINDS: dict[str, TaskKind] = {}


def kind(name: str, title, outcome, link) -> Callable:
    """Register `run` as the task kind `name`."""

    def register(run):
        KINDS[name] = TaskKind(name, run, title, outcome, link)
        return run

    return register


def kind_of(task: Task) -> TaskKind:
    for module in KIND_MODULES:
        importlib.import_module(module)
    return KINDS[task.kind]


def background_rows() -> int:
    """Beyond so many rows an import or a template is made in the background."""
    return int(current_app.config["BACKGROUND_ROWS"])


def start(session: Session, name: str, user, **params: Any) -> Task:
    """Record a task for `user` and hand it to the job once the session commits; the same task of the same user
    not finished yet is returned instead (a second click on "Mark as final" does not make a second version)."""
    params_json = json.dumps(params, sort_keys=True)
    waiting = session.scalars(sa.select(Task).where(Task.kind == name, Task.user_id == user.id,
                                                    Task.params_json == params_json,
                                                    Task.state.in_([TaskState.queued, TaskState.running]))).first()
    if waiting is not None:
        return waiting
    storage.store(session=session).sweep(FILES, KEEP_FILES)
    task = Task(kind=name, user_id=user.id, params_json=params_json)
    session.add(task)
    session.flush()
    jobs.enqueue_after_commit(session, "run_task", task.id)
    return task


def file_key(task: Task) -> str:
    return f"{FILES}{task.id}"


@jobs.job("run_task", retried=True)  # a worker that dies mid-task hands it on
def run_task(session: Session, task_id: int) -> None:
    """Run the task (unless it is finished already), in its user's language, and commit its outcome."""
    task = session.get(Task, task_id)
    if task is None or task.state in FINISHED:
        return
    task.state, task.runs, task.started_at, task.done = TaskState.running, task.runs + 1, utcnow(), 0
    session.commit()
    user = session.get(User, task.user_id)
    from tracker.progress.notifications import user_locale

    progress = _Progress(task.id)
    with force_locale(user_locale(user)):  # the outcome, and the reason of a failure, in the user's language
        try:
            result = kind_of(task).run(session, task, progress)
        except DomainError as exc:
            session.rollback()
            _finish(session, task_id, progress, TaskState.failed, error=exc.message)
        except Exception:
            session.rollback()
            current_app.logger.exception("task %s (%s) failed", task_id, task.kind)
            _finish(session, task_id, progress, TaskState.failed, error=str(_l(
                "Something went wrong; nothing was changed. Try again, or tell an administrator.")))
        else:
            _finish(session, task_id, progress, TaskState.done, result=result)  # one commit: the work and "done"


def _finish(session: Session, task_id: int, progress: _Progress, state: TaskState, result: dict | None = None,
            error: str = "") -> None:
    task = session.get(Task, task_id)
    task.state, task.finished_at, task.error = state, utcnow(), error
    task.result_json = json.dumps(result or {}, sort_keys=True, default=str)
    task.total = progress.total
    task.done = progress.total if state == TaskState.done else progress.done
    session.commit()


class _Progress:
    """What the kind calls as it goes: `progress(done, total)`, written in a transaction of its own so the page sees
    it while the work's own transaction is still open. Written at most every 2 % of the way, and only on a worker:
    in the request's process nobody watches (the page comes after), and an in-memory SQLite database (the tests')
    has one connection, the work's own. The last figures are kept for the task's end."""

    def __init__(self, task_id: int):
        self.task_id, self.done, self.total, self.written = task_id, 0, 0, -1
        self.writes = jobs.queue_url() is not None and not isinstance(db.engine.pool, sa.pool.StaticPool)

    def __call__(self, done: int, total: int) -> None:
        self.done, self.total = done, total
        if self.writes and (done == total or done - self.written >= max(1, total // 50)):
            self.written = done
            _write_progress(self.task_id, done, total)


def _write_progress(task_id: int, done: int, total: int) -> None:
    with db.engine.connect() as connection:
        if connection.dialect.name == "sqlite":
            # SQLite has one writer: when the work itself already writes, the progress waits for nobody (it is a
            # hint) instead of holding the work up for the busy timeout.
            connection.exec_driver_sql("PRAGMA busy_timeout=50")
        try:
            connection.execute(sa.update(Task).where(Task.id == task_id).values(done=done, total=total))
            connection.commit()
        except sa.exc.OperationalError:
            connection.rollback()
        finally:
            if connection.dialect.name == "sqlite":
                from tracker.db import SQLITE_BUSY_TIMEOUT_MS

                connection.exec_driver_sql(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
