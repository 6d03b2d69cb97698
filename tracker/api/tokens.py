"""Personal API tokens: a user makes one for a script; it acts as that user, read-only, until it expires or is
revoked. Only a hash is stored: the token is shown once, when made."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Mapped, Session, joinedload, mapped_column, relationship

from tracker import audit
from tracker.auth.models import User
from tracker.db import Base, Timestamp, UTCDateTime, intpk, utcnow
from tracker.domain import ValidationFailed

PREFIX = "napt_"  # tells a leaked token apart in logs and secret scanners
MAX_DAYS = 365
DEFAULT_DAYS = 90
MAX_PER_USER = 20


class ApiToken(Base):
    __tablename__ = "api_token"

    id: Mapped[intpk]
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("user_account.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(sa.String(80))
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    hint: Mapped[str] = mapped_column(sa.String(12))  # the first characters, to recognise it in the list
    created_at: Mapped[Timestamp]
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    user: Mapped[User] = relationship()

    def usable(self, now: datetime) -> bool:
        """In use, and its account may use the site now: active, its password not awaiting a change, its required
        second factor set up (a token must not open what the account's own login would not)."""
        from tracker.permissions import must_enrol_second_factor

        user = self.user
        return (self.revoked_at is None and self.expires_at > now and user.active and not user.must_change_password
                and not must_enrol_second_factor(user))


def _hash(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def create(session: Session, user: User, name: str, days: int | None, actor=None) -> tuple[ApiToken, str]:
    """Make a token for `user` named `name`, valid `days` days (default 90, at most 365); returns the row and the
    raw token, which is never stored."""
    name = (name or "").strip()
    days = DEFAULT_DAYS if days is None else days
    errors = []
    if not name or len(name) > 80:
        errors.append(("name", str(_l("Give the token a name of 1 to 80 characters."))))
    if not 1 <= days <= MAX_DAYS:
        errors.append(("days", str(_l("A token lasts from 1 to 365 days."))))
    if len(tokens_of(session, user)) >= MAX_PER_USER:
        errors.append(("", str(_l("You have 20 tokens in use: revoke one first."))))
    if errors:
        raise ValidationFailed(errors)
    raw = PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(user_id=user.id, name=name, token_hash=_hash(raw), hint=raw[:10],
                     expires_at=utcnow() + timedelta(days=days))
    session.add(token)
    session.flush()
    audit.record(session, "api_token.created", actor=actor or user, target=user, token=token.id, name=name, days=days)
    return token, raw


def tokens_of(session: Session, user: User) -> list[ApiToken]:
    """The user's tokens still in use (not revoked, not expired), newest first."""
    query = (sa.select(ApiToken).where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None),
                                       ApiToken.expires_at > utcnow())
             .order_by(ApiToken.created_at.desc(), ApiToken.id.desc()))
    return list(session.scalars(query))


def revoke(session: Session, user: User, token_id: int, actor=None) -> bool:
    """Revoke one of `user`'s tokens; False when it is not theirs or not in use."""
    token = session.get(ApiToken, token_id)
    if token is None or token.user_id != user.id or token.revoked_at is not None:
        return False
    token.revoked_at = utcnow()
    audit.record(session, "api_token.revoked", actor=actor or user, target=user, token=token.id, name=token.name)
    return True


@sa.event.listens_for(Session, "before_flush")
def _revoke_when_the_credentials_change(session: Session, _context, _instances) -> None:
    """A new User.session_token (password changed or reset, account deactivated) revokes the account's tokens, as
    it ends its sessions (tracker.auth.sessions)."""
    for user in [o for o in session.dirty if isinstance(o, User)]:
        if sa.inspect(user).attrs.session_token.history.has_changes():
            session.execute(sa.update(ApiToken).where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None))
                            .values(revoked_at=utcnow()))


def authenticate(session: Session, header: str | None) -> User | None:
    """The active user of a valid `Authorization: Bearer TOKEN`, else None; the token's last use is noted (at most
    once a minute)."""
    scheme, _, raw = (header or "").partition(" ")
    if scheme.lower() != "bearer" or not raw.startswith(PREFIX):
        return None
    token = session.scalars(sa.select(ApiToken).where(ApiToken.token_hash == _hash(raw.strip()))
                            .options(joinedload(ApiToken.user))).one_or_none()
    now = utcnow()
    if token is None or not token.usable(now):
        return None
    if token.last_used_at is None or now - token.last_used_at > timedelta(minutes=1):
        token.last_used_at = now
        session.commit()
    return token.user
