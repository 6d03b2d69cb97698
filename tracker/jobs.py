"""Background jobs, on RQ when TRACKER_QUEUE_URL names a Redis server, else in this process.

Why RQ: the jobs here are a few kinds of plain functions (deliver an e-mail, later reminders and report files) on
the Redis the deployment already runs for login throttling. RQ needs nothing else (no broker settings, no result
backend), its worker is one command, it retries with backoff, and a job that a killed worker left behind is put back.
Celery would bring a second configuration language and a separate beat process for the same work.

- With a queue: `enqueue_after_commit` puts the job on the queue once the request's transaction commits (never for
  work that rolled back); `tracker worker` runs the jobs, each in the worker's app context, with its own session.
- Without one (the `make run` default): the job runs right after the commit, in the request's process, exactly as
  the worker would run it.

A job is registered by name with `@job("name", retried=...)`; it takes a session of its own and plain values (ids,
not rows), and commits what it does.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import Any, Callable

from flask import current_app
from sqlalchemy.orm import Session

from tracker.db import call_after_commit, db


@dataclass(frozen=True)
class Job:
    name: str
    func: Callable[..., Any]
    # Retried with TRACKER_JOB_RETRY_INTERVALS' backoff when it raises, or when the worker running it died (RQ puts
    # back an abandoned job only while it has retries left).
    retried: bool = False


JOBS: dict[str, Job] = {}
# The modules that register jobs: imported before a job is looked up, so that a worker knows every job whatever it
# imported so far.
JOB_MODULES = ("tracker.progress.notifications", "tracker.progress.schedule", "tracker.tasks.services")


def job(name: str, retried: bool = False) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Register a function as the job `name`."""

    def register(func: Callable[..., Any]) -> Callable[..., Any]:
        JOBS[name] = Job(name, func, retried)
        return func

    return register


def registered_job(name: str) -> Job:
    for module in JOB_MODULES:
        importlib.import_module(module)
    return JOBS[name]


def queue_url() -> str | None:
    return current_app.config.get("QUEUE_URL") or None


def _queue():
    from redis import Redis
    from rq import Queue

    return Queue(current_app.config["QUEUE_NAME"], connection=Redis.from_url(queue_url()))


def _retry():
    from rq import Retry

    intervals = [int(s) for s in str(current_app.config["JOB_RETRY_INTERVALS"]).split(",") if s.strip()]
    return Retry(max=len(intervals), interval=intervals) if intervals else None


def enqueue(name: str, *args: Any) -> None:
    """Run job `name` now in this process, or put it on the queue for a worker."""
    registered = registered_job(name)
    if queue_url() is None:
        _run_here(registered, *args)
        return
    _queue().enqueue(run, name, *args, retry=_retry() if registered.retried else None,
                     job_timeout=int(current_app.config["JOB_TIMEOUT"]), description=f"{name}{args}")


def enqueue_after_commit(session: Session, name: str, *args: Any) -> None:
    """Job `name` once `session` commits (never if it rolls back)."""
    call_after_commit(session, lambda: enqueue(name, *args))


def _run_here(registered: Job, *args: Any) -> None:
    """In the request's process: the same function, with a session of its own (the request's is between
    transactions now, and its objects still serve the page); a failure is recorded by the job itself (e.g. the
    outbox error) and left for `tracker mail send`: the request has succeeded."""
    with db.new_session() as session:
        try:
            registered.func(session, *args)
        except Exception:  # noqa: BLE001 - see above
            current_app.logger.warning("job %s%s failed; it stays to be retried", registered.name, args, exc_info=True)


def run(name: str, *args: Any) -> None:
    """What the worker calls: job `name` in the worker's app context, with a session of its own. An exception
    makes RQ retry the job (with backoff) while it has retries left."""
    try:
        with db.new_session() as session:
            registered_job(name).func(session, *args)
    finally:
        db.close_session()  # whatever a job read through the app's own session ends with it (no idle transaction)


def work(burst: bool = False) -> bool:
    """Process the queue in this process (the app context is `tracker worker`'s); with `burst`, until it is empty.
    A SimpleWorker runs each job in this process: no fork, so the database connections stay this process's own."""
    from rq import SimpleWorker

    queue = _queue()
    worker = SimpleWorker([queue], connection=queue.connection)
    return worker.work(burst=burst, with_scheduler=True, logging_level="WARNING")
