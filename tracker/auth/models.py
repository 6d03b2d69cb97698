"""Accounts: one role per user; reporters belong to one institution."""

from __future__ import annotations

import enum
from datetime import datetime

import sqlalchemy as sa
from flask_login import UserMixin
from sqlalchemy.orm import Mapped, mapped_column, relationship

from tracker.db import Base, ShortText, Timestamp, enum_column, intpk
from tracker.plan.models import Institution


class Role(enum.StrEnum):
    reporter = "reporter"  # staff of one institution: reports its progress
    committee = "committee"  # Gender Equality Committee: reviews everything
    viewer = "viewer"  # read-only: approved data and reports
    admin = "admin"  # users, institutions and plans; no power over reviewed data


class User(UserMixin, Base):
    __tablename__ = "user_account"

    id: Mapped[intpk]
    email: Mapped[str] = mapped_column(sa.String(255), unique=True)
    name: Mapped[ShortText]
    password_hash: Mapped[str] = mapped_column(sa.String(255))
    role: Mapped[Role] = enum_column(Role, "role")
    institution_id: Mapped[int | None] = mapped_column(sa.ForeignKey("institution.id", ondelete="RESTRICT"))
    active: Mapped[bool] = mapped_column(default=True)
    must_change_password: Mapped[bool] = mapped_column(default=True)
    language: Mapped[str | None] = mapped_column(sa.String(5))
    created_at: Mapped[Timestamp]
    password_changed_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    last_login_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    # Changes when the password changes or the account is deactivated: old sessions stop working.
    session_token: Mapped[str] = mapped_column(sa.String(64))

    institution: Mapped[Institution | None] = relationship()

    __table_args__ = (
        sa.CheckConstraint("role <> 'reporter' OR institution_id IS NOT NULL", "reporter_has_institution"),
        sa.CheckConstraint("email = lower(email)", "email_lowercase"),
    )

    @property
    def is_active(self) -> bool:  # Flask-Login refuses inactive users
        return self.active

    def get_id(self) -> str:
        return f"{self.id}:{self.session_token}"

    def __repr__(self) -> str:
        return f"<User {self.email} {self.role}>"
