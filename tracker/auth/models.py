"""Accounts: one role per user; reporters belong to one institution. Server-side sessions, second factor."""

from __future__ import annotations

import enum
from datetime import datetime

import sqlalchemy as sa
from flask_login import UserMixin
from sqlalchemy.orm import Mapped, mapped_column, relationship

from tracker.db import Base, ShortText, Timestamp, UTCDateTime, enum_column, intpk
from tracker.plan.models import Institution, MonitoringBody


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
    # A reporter who endorses (signs off) the institution's entries where a plan asks for that step.
    is_focal_point: Mapped[bool] = mapped_column(default=False, server_default=sa.false())
    must_change_password: Mapped[bool] = mapped_column(default=True)
    language: Mapped[str | None] = mapped_column(sa.String(5))
    created_at: Mapped[Timestamp]
    password_changed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Changes when the password changes or the account is deactivated: old sessions stop working.
    session_token: Mapped[str] = mapped_column(sa.String(64))

    institution: Mapped[Institution | None] = relationship()
    # The second factor lives in its own table: altering user_account would rebuild it on SQLite,
    # and a rebuild with foreign keys on empties audit_event.actor_id (ON DELETE SET NULL).
    totp: Mapped[TotpCredential | None] = relationship(back_populates="user", cascade="all, delete-orphan",
                                                       passive_deletes=True)
    memberships: Mapped[list[BodyMember]] = relationship(back_populates="user", cascade="all, delete-orphan",
                                                         passive_deletes=True)
    viewer_plans: Mapped[list[ViewerPlan]] = relationship(cascade="all, delete-orphan", passive_deletes=True)

    __table_args__ = (
        sa.CheckConstraint("role <> 'reporter' OR institution_id IS NOT NULL", "reporter_has_institution"),
        sa.CheckConstraint("email = lower(email)", "email_lowercase"),
    )

    @property
    def is_active(self) -> bool:  # Flask-Login refuses inactive users
        return self.active

    @property
    def two_factor_enabled(self) -> bool:
        """A confirmed TOTP enrolment (the loader fetches `totp` with the session, so this costs no query)."""
        return self.totp is not None and self.totp.confirmed_at is not None

    @property
    def reviewed_plan_ids(self) -> frozenset[int]:
        """The plans whose active monitoring bodies this account is a member of."""
        return frozenset(m.body.plan_id for m in self.memberships if m.body.active)

    @property
    def limited_to_plan_ids(self) -> frozenset[int] | None:
        """The plans a viewer is limited to; None: not limited."""
        return frozenset(v.plan_id for v in self.viewer_plans) or None

    def get_id(self) -> str:
        return f"{self.id}:{self.session_token}"

    def __repr__(self) -> str:
        return f"<User {self.email} {self.role}>"


class TotpCredential(Base):
    """The user's authenticator-app secret; without confirmed_at it is an enrolment not yet confirmed."""

    __tablename__ = "totp_credential"

    user_id: Mapped[int] = mapped_column(sa.ForeignKey("user_account.id", ondelete="CASCADE"), primary_key=True)
    secret: Mapped[str] = mapped_column(sa.String(64))
    created_at: Mapped[Timestamp]
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The time step of the last accepted code: the same code (or an older one) is never accepted twice.
    last_counter: Mapped[int | None]

    user: Mapped[User] = relationship(back_populates="totp")


class SessionEnd(enum.StrEnum):
    """Why a server-side session ended."""

    logout = "logout"
    ended_elsewhere = "ended_elsewhere"  # "log out everywhere else" from another session
    credentials_changed = "credentials_changed"  # password changed or reset, account deactivated
    idle = "idle"
    expired = "expired"  # older than SESSION_ABSOLUTE_LIFETIME


class UserSession(Base):
    """One login: the browser holds the raw token (in the signed cookie), the database only its sha256."""

    __tablename__ = "user_session"

    id: Mapped[intpk]
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("user_account.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(sa.String(64), index=True, unique=True)
    created_at: Mapped[Timestamp]
    last_seen_at: Mapped[Timestamp]
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    ended_reason: Mapped[SessionEnd | None] = enum_column(SessionEnd, "session_end")
    address: Mapped[str] = mapped_column(sa.String(64), default="")
    user_agent: Mapped[str] = mapped_column(sa.String(255), default="")

    user: Mapped[User] = relationship()

    __table_args__ = (
        sa.CheckConstraint("(ended_at IS NULL) = (ended_reason IS NULL)", "ended_with_reason"),
    )


class RecoveryCode(Base):
    """A one-time code that replaces the authenticator app once; stored as its sha256 (the codes are random)."""

    __tablename__ = "recovery_code"

    id: Mapped[intpk]
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("user_account.id", ondelete="CASCADE"), index=True)
    code_hash: Mapped[str] = mapped_column(sa.String(64))
    created_at: Mapped[Timestamp]
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    __table_args__ = (sa.UniqueConstraint("user_id", "code_hash"),)


class BodyMember(Base):
    """An account's membership of a plan's monitoring body: a committee member reviews that plan."""

    __tablename__ = "body_member"

    body_id: Mapped[int] = mapped_column(sa.ForeignKey("monitoring_body.id", ondelete="CASCADE"), primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("user_account.id", ondelete="CASCADE"), primary_key=True)
    added_at: Mapped[Timestamp]

    body: Mapped[MonitoringBody] = relationship(lazy="joined")
    user: Mapped[User] = relationship(back_populates="memberships")


class ViewerPlan(Base):
    """A plan a viewer may read; a viewer with none listed reads every plan."""

    __tablename__ = "viewer_plan"

    user_id: Mapped[int] = mapped_column(sa.ForeignKey("user_account.id", ondelete="CASCADE"), primary_key=True)
    plan_id: Mapped[int] = mapped_column(sa.ForeignKey("plan.id", ondelete="CASCADE"), primary_key=True)
