"""A background task (tracker.tasks): who asked for what, how far it has got, and what came of it."""

from __future__ import annotations

import enum
import json
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from tracker.db import Base, Timestamp, UTCDateTime, enum_column, intpk


class TaskState(enum.Enum):
    queued = "queued"
    running = "running"
    done = "done"
    failed = "failed"


FINISHED = (TaskState.done, TaskState.failed)


class Task(Base):
    __tablename__ = "background_task"

    id: Mapped[intpk]
    kind: Mapped[str] = mapped_column(sa.String(40))
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("user_account.id", ondelete="CASCADE"), index=True)
    state: Mapped[TaskState] = enum_column(TaskState, "task_state", default=TaskState.queued)
    params_json: Mapped[str] = mapped_column(sa.Text, default="{}")  # plain values: ids, a year, an upload's key
    done: Mapped[int] = mapped_column(default=0)
    total: Mapped[int] = mapped_column(default=0)
    result_json: Mapped[str] = mapped_column(sa.Text, default="{}")  # what the kind's outcome shows
    error: Mapped[str] = mapped_column(sa.Text, default="")  # why it failed, in the words the user is shown
    runs: Mapped[int] = mapped_column(default=0)  # times a worker started it (more than one: a worker died mid-way)
    created_at: Mapped[Timestamp]
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    @property
    def params(self) -> dict[str, Any]:
        return json.loads(self.params_json or "{}")

    @property
    def result(self) -> dict[str, Any]:
        return json.loads(self.result_json or "{}")

    @property
    def finished(self) -> bool:
        return self.state in FINISHED

    @property
    def percent(self) -> int:
        if self.state == TaskState.done:
            return 100
        return int(100 * self.done / self.total) if self.total else 0
