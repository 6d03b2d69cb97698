"""The committee's validation of a year's report, and the final report files stored when a year is marked final."""

from __future__ import annotations

from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from tracker.auth.models import User
from tracker.db import Base, Timestamp, intpk
from tracker.plan.models import Plan


class ReportValidation(Base):
    """What the Gender Equality Committee records when it validates a plan's report for a year."""

    __tablename__ = "report_validation"

    id: Mapped[intpk]
    plan_id: Mapped[int] = mapped_column(sa.ForeignKey("plan.id", ondelete="CASCADE"))
    year: Mapped[int]
    validated_on: Mapped[date]
    minutes_reference: Mapped[str] = mapped_column(sa.String(255))
    recommendations: Mapped[str] = mapped_column(sa.Text, default="")
    achievements: Mapped[str] = mapped_column(sa.Text, default="")
    challenges: Mapped[str] = mapped_column(sa.Text, default="")
    lessons_learned: Mapped[str] = mapped_column(sa.Text, default="")
    updated_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user_account.id", ondelete="SET NULL"))
    updated_at: Mapped[Timestamp]

    plan: Mapped[Plan] = relationship()
    updated_by: Mapped[User | None] = relationship()

    __table_args__ = (
        sa.UniqueConstraint("plan_id", "year"),
        sa.CheckConstraint("year BETWEEN 1900 AND 2200", "year_range"),
    )


class ReportCommentary(Base):
    """The committee's commentary on a year of a plan, for one pillar (`scope` is its code) or for the whole plan
    (`scope` ""): findings and recommendations, kept as a draft until the year is marked final (then it is in the
    final files, and later edits only reach a new final version)."""

    __tablename__ = "report_commentary"

    id: Mapped[intpk]
    plan_id: Mapped[int] = mapped_column(sa.ForeignKey("plan.id", ondelete="CASCADE"))
    year: Mapped[int]
    scope: Mapped[str] = mapped_column(sa.String(40), default="")
    findings: Mapped[str] = mapped_column(sa.Text, default="")
    recommendations: Mapped[str] = mapped_column(sa.Text, default="")
    updated_by: Mapped[str] = mapped_column(sa.String(255), default="")
    updated_at: Mapped[Timestamp]

    __table_args__ = (
        sa.UniqueConstraint("plan_id", "year", "scope"),
        sa.CheckConstraint("year BETWEEN 1900 AND 2200", "year_range"),
    )


class FinalReport(Base):
    """One stored file of a final report (one per version, language and format); never changed once written."""

    __tablename__ = "final_report"

    id: Mapped[intpk]
    plan_id: Mapped[int] = mapped_column(sa.ForeignKey("plan.id", ondelete="RESTRICT"))
    year: Mapped[int]
    version: Mapped[int]
    language: Mapped[str] = mapped_column(sa.String(5))
    format: Mapped[str] = mapped_column(sa.String(10))
    stored_name: Mapped[str] = mapped_column(sa.String(80), unique=True)
    size: Mapped[int]
    sha256: Mapped[str] = mapped_column(sa.String(64))
    finalized_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user_account.id", ondelete="SET NULL"))
    finalized_at: Mapped[Timestamp]

    plan: Mapped[Plan] = relationship()
    finalized_by: Mapped[User | None] = relationship()

    __table_args__ = (
        sa.UniqueConstraint("plan_id", "year", "version", "language", "format"),
        sa.CheckConstraint("year BETWEEN 1900 AND 2200", "year_range"),
        sa.CheckConstraint("version >= 1", "version_positive"),
        sa.CheckConstraint("size > 0", "size_positive"),
    )

    @property
    def finalized_on(self) -> datetime:
        return self.finalized_at


class FinalReportMark(Base):
    """The last final-report version a plan's year was given, kept apart from the files' rows.

    Numbers are never given twice: a restore of an older backup brings back fewer FinalReport rows,
    but it records here the numbers that were already published (see tracker/ops/restore.py).
    """

    __tablename__ = "final_report_mark"

    plan_id: Mapped[int] = mapped_column(sa.ForeignKey("plan.id", ondelete="CASCADE"), primary_key=True)
    year: Mapped[int] = mapped_column(primary_key=True)
    last_version: Mapped[int]

    __table_args__ = (sa.CheckConstraint("last_version >= 1", "last_version_positive"),)
