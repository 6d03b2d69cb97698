"""Reporting cycles, progress entries (indicator values and action status), their versions and evidence."""

from __future__ import annotations

import enum
import json
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from tracker.auth.models import User
from tracker.db import Base, Timestamp, UTCDateTime, enum_column, intpk
from tracker.plan.models import Action, Indicator, Institution, Plan


class CycleState(enum.StrEnum):
    open = "open"
    closed = "closed"


class EntryKind(enum.StrEnum):
    indicator = "indicator"
    action = "action"
    budget = "budget"  # an institution's budget item for its NAP activities (details in tracker.budget)


class EntryState(enum.StrEnum):
    """Where an entry is in the review workflow: the steps between these are declared in tracker.review.workflow."""

    draft = "draft"
    awaiting_signoff = "awaiting_signoff"  # submitted, waiting for the institution's focal point (where the plan asks)
    submitted = "submitted"  # with the monitoring body
    returned = "returned"
    approved = "approved"


class ActionStatus(enum.StrEnum):
    not_started = "not_started"
    in_progress = "in_progress"
    completed = "completed"
    ongoing = "ongoing"
    delayed = "delayed"
    suspended = "suspended"


class ReportingCycle(Base):
    """A plan's reporting year: entries can be made only while it is open, before its deadline ideally."""

    __tablename__ = "reporting_cycle"

    id: Mapped[intpk]
    plan_id: Mapped[int] = mapped_column(sa.ForeignKey("plan.id", ondelete="CASCADE"))
    year: Mapped[int]
    deadline: Mapped[date]
    state: Mapped[CycleState] = enum_column(CycleState, "cycle_state", default=CycleState.open)
    reopen_reason: Mapped[str] = mapped_column(sa.Text, default="")
    created_at: Mapped[Timestamp]

    plan: Mapped[Plan] = relationship()

    __table_args__ = (
        sa.UniqueConstraint("plan_id", "year"),
        sa.CheckConstraint("year BETWEEN 1900 AND 2200", "year_range"),
    )

    @property
    def is_open(self) -> bool:
        return self.state == CycleState.open


class DeadlineException(Base):
    """One institution's own deadline for a cycle: an extension the committee granted, with its reason."""

    __tablename__ = "deadline_exception"

    id: Mapped[intpk]
    cycle_id: Mapped[int] = mapped_column(sa.ForeignKey("reporting_cycle.id", ondelete="CASCADE"))
    institution_id: Mapped[int] = mapped_column(sa.ForeignKey("institution.id", ondelete="RESTRICT"))
    deadline: Mapped[date]
    reason: Mapped[str] = mapped_column(sa.Text)
    granted_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user_account.id", ondelete="SET NULL"))
    granted_at: Mapped[Timestamp]

    cycle: Mapped[ReportingCycle] = relationship()
    institution: Mapped[Institution] = relationship()

    __table_args__ = (
        sa.UniqueConstraint("cycle_id", "institution_id"),
        sa.CheckConstraint("length(reason) > 0", "reason_required"),
    )


# The fields of an entry that a reporter fills in; versions keep a snapshot of exactly these.
INDICATOR_FIELDS = ("value", "women", "men", "reported_total", "numerator", "denominator", "value_text", "value_bool",
                    "narrative", "data_source")
ACTION_FIELDS = ("action_status", "done", "challenges", "next_steps")


class Entry(Base):
    """One institution's report on one indicator or action for one reporting cycle."""

    __tablename__ = "entry"

    id: Mapped[intpk]
    cycle_id: Mapped[int] = mapped_column(sa.ForeignKey("reporting_cycle.id", ondelete="RESTRICT"))
    institution_id: Mapped[int] = mapped_column(sa.ForeignKey("institution.id", ondelete="RESTRICT"))
    kind: Mapped[EntryKind] = enum_column(EntryKind, "entry_kind")
    indicator_id: Mapped[int | None] = mapped_column(sa.ForeignKey("indicator.id", ondelete="RESTRICT"))
    action_id: Mapped[int | None] = mapped_column(sa.ForeignKey("action.id", ondelete="RESTRICT"))
    state: Mapped[EntryState] = enum_column(EntryState, "entry_state", default=EntryState.draft)
    version: Mapped[int] = mapped_column(default=1)
    # Indicator values. `value` is what status is computed from: entered for plain numbers,
    # derived (women + men, numerator / denominator x 100) otherwise.
    value: Mapped[Decimal | None] = mapped_column(sa.Numeric(18, 4))
    women: Mapped[int | None]
    men: Mapped[int | None]
    # The total the source gives where people are counted (optional): a flag when women + men differ from it.
    reported_total: Mapped[int | None]
    numerator: Mapped[Decimal | None] = mapped_column(sa.Numeric(18, 4))
    denominator: Mapped[Decimal | None] = mapped_column(sa.Numeric(18, 4))
    value_text: Mapped[str] = mapped_column(sa.Text, default="")
    value_bool: Mapped[bool | None]
    narrative: Mapped[str] = mapped_column(sa.Text, default="")
    data_source: Mapped[str] = mapped_column(sa.Text, default="")
    # Action status.
    action_status: Mapped[ActionStatus | None] = enum_column(ActionStatus, "action_status")
    done: Mapped[str] = mapped_column(sa.Text, default="")
    challenges: Mapped[str] = mapped_column(sa.Text, default="")
    next_steps: Mapped[str] = mapped_column(sa.Text, default="")
    # Demonstration data (make run, tracker demo generate): always labelled as such on screen.
    is_demo: Mapped[bool] = mapped_column(default=False, server_default=sa.false())
    # Workflow.
    review_note: Mapped[str] = mapped_column(sa.Text, default="")
    created_at: Mapped[Timestamp]
    updated_at: Mapped[Timestamp]
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    submitted_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user_account.id", ondelete="SET NULL"))
    # The institution's focal point's last sign-off step (endorsed, or sent back), where the plan asks for one.
    signoff_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    signoff_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user_account.id", ondelete="SET NULL"))
    reviewed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    reviewed_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user_account.id", ondelete="SET NULL"))

    cycle: Mapped[ReportingCycle] = relationship()
    institution: Mapped[Institution] = relationship()
    indicator: Mapped[Indicator | None] = relationship()
    action: Mapped[Action | None] = relationship()
    reviewed_by: Mapped[User | None] = relationship(foreign_keys=[reviewed_by_id])
    submitted_by: Mapped[User | None] = relationship(foreign_keys=[submitted_by_id])
    signoff_by: Mapped[User | None] = relationship(foreign_keys=[signoff_by_id])
    evidence: Mapped[list[Evidence]] = relationship(
        order_by="Evidence.id",
        primaryjoin="and_(Evidence.entry_id == Entry.id, Evidence.removed_at.is_(None))",
        viewonly=True,
    )

    __table_args__ = (
        sa.UniqueConstraint("cycle_id", "institution_id", "indicator_id"),
        sa.UniqueConstraint("cycle_id", "institution_id", "action_id"),
        sa.CheckConstraint(
            "(kind = 'indicator' AND indicator_id IS NOT NULL AND action_id IS NULL)"
            " OR (kind = 'action' AND action_id IS NOT NULL AND indicator_id IS NULL)"
            " OR (kind = 'budget' AND indicator_id IS NULL AND action_id IS NULL)",
            "kind_target",
        ),
        # One budget item per institution and cycle.
        sa.Index(
            "uq_entry_budget_per_cycle", "cycle_id", "institution_id", unique=True,
            sqlite_where=sa.text("kind = 'budget'"), postgresql_where=sa.text("kind = 'budget'"),
        ),
        sa.CheckConstraint("women IS NULL OR women >= 0", "women_not_negative"),
        sa.CheckConstraint("men IS NULL OR men >= 0", "men_not_negative"),
        sa.CheckConstraint("reported_total IS NULL OR reported_total >= 0", "reported_total_not_negative"),
        sa.CheckConstraint("numerator IS NULL OR numerator >= 0", "numerator_not_negative"),
        sa.CheckConstraint("denominator IS NULL OR denominator > 0", "denominator_positive"),
        sa.CheckConstraint("version >= 1", "version_positive"),
        sa.CheckConstraint("state <> 'approved' OR reviewed_at IS NOT NULL", "approved_is_reviewed"),
        sa.CheckConstraint("state <> 'returned' OR length(review_note) > 0", "returned_has_note"),
        sa.CheckConstraint(
            "kind <> 'action' OR state NOT IN ('awaiting_signoff', 'submitted', 'approved') OR action_status IS NOT NULL",
            "action_status_when_submitted",
        ),
    )

    @property
    def sent_back_by_focal_point(self) -> bool:
        """Returned by the institution's focal point (not by the monitoring body): its sign-off step came last."""
        return (self.state == EntryState.returned and self.signoff_at is not None
                and (self.reviewed_at is None or self.signoff_at > self.reviewed_at))

    @property
    def fields(self) -> tuple[str, ...]:
        from tracker.review import kinds

        return kinds.of(self).fields()

    def snapshot(self) -> dict[str, Any]:
        """The reporter's fields as JSON-ready values."""
        from tracker.review import kinds

        return kinds.of(self).snapshot(self)

    @property
    def item(self) -> Indicator | Action | None:
        """The indicator or action reported on (None for a budget item)."""
        return self.indicator or self.action

    @property
    def is_locked(self) -> bool:
        return self.state == EntryState.approved


class SignoffRequirement(Base):
    """An institution whose entries in a plan are endorsed by its focal point before they reach the monitoring body."""

    __tablename__ = "signoff_requirement"

    plan_id: Mapped[int] = mapped_column(sa.ForeignKey("plan.id", ondelete="CASCADE"), primary_key=True)
    institution_id: Mapped[int] = mapped_column(sa.ForeignKey("institution.id", ondelete="CASCADE"), primary_key=True)
    set_by: Mapped[str] = mapped_column(sa.String(255))
    set_at: Mapped[Timestamp]

    institution: Mapped[Institution] = relationship()


class EntryComment(Base):
    """One message in an entry's conversation between its institution and the monitoring body. Never edited after
    it is posted: a correction is a new comment that names the one it corrects. Either side may mark it resolved."""

    __tablename__ = "entry_comment"

    id: Mapped[intpk]
    entry_id: Mapped[int] = mapped_column(sa.ForeignKey("entry.id", ondelete="CASCADE"), index=True)
    author_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user_account.id", ondelete="SET NULL"))
    author_name: Mapped[str] = mapped_column(sa.String(255))  # copied: the thread stays readable whatever happens to the account
    body: Mapped[str] = mapped_column(sa.Text)
    corrects_id: Mapped[int | None] = mapped_column(sa.ForeignKey("entry_comment.id", ondelete="SET NULL"))
    created_at: Mapped[Timestamp]
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    resolved_by_name: Mapped[str] = mapped_column(sa.String(255), default="", server_default="")

    __table_args__ = (sa.CheckConstraint("length(body) > 0", "body_required"),)


class EntryVersion(Base):
    """Every save and every workflow step of an entry: who, when, what, and the note if any."""

    __tablename__ = "entry_version"

    id: Mapped[intpk]
    entry_id: Mapped[int] = mapped_column(sa.ForeignKey("entry.id", ondelete="CASCADE"))
    number: Mapped[int]
    event: Mapped[str] = mapped_column(sa.String(30))
    state: Mapped[EntryState] = enum_column(EntryState, "entry_state")
    data: Mapped[str] = mapped_column(sa.Text, default="{}")
    note: Mapped[str] = mapped_column(sa.Text, default="")
    user_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user_account.id", ondelete="SET NULL"))
    user_name: Mapped[str] = mapped_column(sa.String(255), default="")
    at: Mapped[Timestamp]
    # The form submission that made this version (entry forms send a random key): see AlreadySaved.
    request_key: Mapped[str | None] = mapped_column(sa.String(64))

    __table_args__ = (sa.UniqueConstraint("entry_id", "number"),)

    @property
    def values(self) -> dict[str, Any]:
        return json.loads(self.data or "{}")


class Evidence(Base):
    """A means-of-verification file, stored outside the static folder under a generated name."""

    __tablename__ = "evidence"

    id: Mapped[intpk]
    entry_id: Mapped[int] = mapped_column(sa.ForeignKey("entry.id", ondelete="CASCADE"))
    stored_name: Mapped[str] = mapped_column(sa.String(64), unique=True)
    original_name: Mapped[str] = mapped_column(sa.String(255))
    content_type: Mapped[str] = mapped_column(sa.String(120))
    size: Mapped[int]
    sha256: Mapped[str] = mapped_column(sa.String(64))
    uploaded_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user_account.id", ondelete="SET NULL"))
    uploaded_at: Mapped[Timestamp]
    removed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    entry: Mapped[Entry] = relationship()

    __table_args__ = (sa.CheckConstraint("size > 0", "size_positive"),)


class Notification(Base):
    """An in-app message to one user about one entry (returned, approved, reminder)."""

    __tablename__ = "notification"

    id: Mapped[intpk]
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("user_account.id", ondelete="CASCADE"), index=True)
    event: Mapped[str] = mapped_column(sa.String(30))
    entry_id: Mapped[int | None] = mapped_column(sa.ForeignKey("entry.id", ondelete="CASCADE"))
    cycle_id: Mapped[int | None] = mapped_column(sa.ForeignKey("reporting_cycle.id", ondelete="CASCADE"))
    note: Mapped[str] = mapped_column(sa.Text, default="")
    created_at: Mapped[Timestamp]
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # When the notification went out in an e-mail digest (the committee's daily one of submissions).
    digested_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    entry: Mapped[Entry | None] = relationship()
    cycle: Mapped[ReportingCycle | None] = relationship()


class ScheduledReminder(Base):
    """A scheduled reminder already sent: an institution, in a cycle, so many days before its deadline (once)."""

    __tablename__ = "scheduled_reminder"

    cycle_id: Mapped[int] = mapped_column(sa.ForeignKey("reporting_cycle.id", ondelete="CASCADE"), primary_key=True)
    institution_id: Mapped[int] = mapped_column(sa.ForeignKey("institution.id", ondelete="CASCADE"), primary_key=True)
    days_before: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    sent_at: Mapped[Timestamp]


class StateReminder(Base):
    """An entry brought up for being left too long in one state (tracker.progress.schedule): once per version, so that
    saving or moving the entry starts the count again."""

    __tablename__ = "state_reminder"

    entry_id: Mapped[int] = mapped_column(sa.ForeignKey("entry.id", ondelete="CASCADE"), primary_key=True)
    version: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    reason: Mapped[str] = mapped_column(sa.String(30))
    sent_at: Mapped[Timestamp]


class OutboxMessage(Base):
    """An e-mail waiting to be (or already) sent; SMTP when configured, files in development."""

    __tablename__ = "outbox_message"

    id: Mapped[intpk]
    to_email: Mapped[str] = mapped_column(sa.String(255))
    subject: Mapped[str] = mapped_column(sa.String(255))
    body: Mapped[str] = mapped_column(sa.Text)
    created_at: Mapped[Timestamp]
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    error: Mapped[str] = mapped_column(sa.Text, default="")
    # Deliveries tried and failed (each retry of the queue's job, or of `tracker mail send`), and the last one's time.
    attempts: Mapped[int] = mapped_column(default=0, server_default="0")
    last_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

