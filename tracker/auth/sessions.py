"""Server-side sessions: every login is a row; the browser's signed cookie carries only a random token.

Flask-Login's loader accepts a request only while that row is open, used within PERMANENT_SESSION_LIFETIME
and younger than SESSION_ABSOLUTE_LIFETIME. Logging out, "log out everywhere else" and a new session
token (password changed or reset, account deactivated) end rows, so a copied cookie stops working.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask import current_app, g
from flask import session as flask_session
from sqlalchemy.orm import Session, joinedload

from tracker import audit
from tracker.auth.models import SessionEnd, User, UserSession
from tracker.db import utcnow

SESSION_KEY = "_sid"  # the raw token, in Flask's signed cookie
# last_seen_at is written at most this often: an idle check to the minute, not a write per request.
TOUCH_EVERY = timedelta(minutes=1)
_KEEP_KEY = "keep_user_session_id"  # Session.info: the record a credential change must not end


def hash_token(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def start_session(session: Session, user: User, address: str, user_agent: str) -> str:
    """Record a new login of `user`; return the raw token for the browser (only its hash is stored)."""
    raw = secrets.token_urlsafe(32)
    now = utcnow()
    session.add(UserSession(user_id=user.id, token_hash=hash_token(raw), created_at=now, last_seen_at=now,
                            address=address[:64], user_agent=user_agent[:255]))
    return raw


def find_session(session: Session, raw: str) -> UserSession | None:
    """The record of a raw token, with its user and second factor: the one query of an authenticated request."""
    query = (sa.select(UserSession).where(UserSession.token_hash == hash_token(raw))
             .options(joinedload(UserSession.user).joinedload(User.totp)))
    return session.scalars(query).one_or_none()


def load_user(session: Session, user_id: str) -> User | None:
    """Flask-Login loader: the user of this browser's open session record, or None (the visitor is anonymous)."""
    raw = flask_session.get(SESSION_KEY)
    raw_id, _, account_token = user_id.partition(":")
    if not isinstance(raw, str) or not raw_id.isdigit():
        return None
    # The loader normally runs first in a request; then its own small write may be committed at once.
    first_in_request = not session.in_transaction()
    record = find_session(session, raw)
    if record is None or not _belongs(record, int(raw_id), account_token):
        return None
    now = utcnow()
    over = lifetime_over(record, now)
    if _end_or_touch(record, over, now) and first_in_request:
        _commit_quietly(session)
    if over is not None:
        return None
    g.user_session = record
    return record.user


def _end_or_touch(record: UserSession, over: SessionEnd | None, now: datetime) -> bool:
    """End a record past its lifetime, or note its use once a minute; True when the record changed."""
    if over is not None:
        end_session(record, over, now)
        return True
    if now - record.last_seen_at >= TOUCH_EVERY:
        record.last_seen_at = now
        return True
    return False


def _commit_quietly(session: Session) -> None:
    """Commit the loader's own write. A busy database (SQLite: another writer since our read) skips it:
    last_seen_at is written again on a later request, and a request must not fail for it."""
    try:
        session.commit()
    except sa.exc.OperationalError:
        session.rollback()


def _belongs(record: UserSession, user_id: int, account_token: str) -> bool:
    user = record.user
    return (record.ended_at is None and record.user_id == user_id and user.active
            and secrets.compare_digest(user.session_token, account_token))


def lifetime_over(record: UserSession, now: datetime) -> SessionEnd | None:
    """Why the record can no longer be used (too old, or unused too long), or None while it can."""
    config = current_app.config
    if now - record.created_at > config["SESSION_ABSOLUTE_LIFETIME"]:
        return SessionEnd.expired
    if now - record.last_seen_at > config["PERMANENT_SESSION_LIFETIME"]:
        return SessionEnd.idle
    return None


def end_session(record: UserSession, reason: SessionEnd, now: datetime | None = None) -> None:
    record.ended_at = now or utcnow()
    record.ended_reason = reason


def current_session() -> UserSession | None:
    """The record of the request's logged-in user (set by the loader)."""
    return g.get("user_session")


def end_current_session(reason: SessionEnd = SessionEnd.logout) -> None:
    """End the request's own record (logout)."""
    record = current_session()
    if record is not None and record.ended_at is None:
        end_session(record, reason)


def _end_open_sessions(session: Session, user_id: int, keep_id: int | None, reason: SessionEnd) -> int:
    query = (sa.update(UserSession).where(UserSession.user_id == user_id, UserSession.ended_at.is_(None))
             .values(ended_at=utcnow(), ended_reason=reason).execution_options(synchronize_session=False))
    if keep_id is not None:
        query = query.where(UserSession.id != keep_id)
    return session.execute(query).rowcount or 0


def log_out_other_sessions(session: Session, user: User) -> int:
    """End every open session of `user` but the current one; return how many ended. Audited."""
    current = current_session()
    ended = _end_open_sessions(session, user.id, current.id if current else None, SessionEnd.ended_elsewhere)
    audit.record(session, "session.ended_others", actor=user, target=user, ended=ended)
    return ended


def open_sessions(session: Session, user: User) -> list[UserSession]:
    """The user's sessions that still work, most recently used first."""
    config, now = current_app.config, utcnow()
    query = sa.select(UserSession).where(
        UserSession.user_id == user.id,
        UserSession.ended_at.is_(None),
        UserSession.created_at > now - config["SESSION_ABSOLUTE_LIFETIME"],
        UserSession.last_seen_at > now - config["PERMANENT_SESSION_LIFETIME"],
    ).order_by(UserSession.last_seen_at.desc(), UserSession.id.desc())
    return list(session.scalars(query))


def keep_this_session(session: Session) -> None:
    """The coming credential change (one's own new password) ends every other session, not this one."""
    current = current_session()
    if current is not None:
        session.info[_KEEP_KEY] = current.id


@sa.event.listens_for(Session, "before_flush")
def _end_sessions_when_the_token_changes(session: Session, _context, _instances) -> None:
    """A new User.session_token (password changed or reset, account deactivated) ends the account's records.

    Done here rather than in each service so that no way of rotating the token can leave a record open.
    """
    keep_id = session.info.get(_KEEP_KEY)
    for user in [o for o in session.dirty if isinstance(o, User)]:
        if sa.inspect(user).attrs.session_token.history.has_changes():
            _end_open_sessions(session, user.id, keep_id, SessionEnd.credentials_changed)


# -- the sessions list ------------------------------------------------------------------------------

_BROWSERS = [("Edge", r"Edg(e|A|iOS)?/"), ("Opera", r"OPR/|Opera"), ("Firefox", r"Firefox/|FxiOS/"),
             ("Chrome", r"Chrome/|CriOS/|Chromium/"), ("Safari", r"Safari/")]
_SYSTEMS = [("Android", r"Android"), ("iOS", r"iPhone|iPad|iPod"), ("Windows", r"Windows"),
            ("macOS", r"Mac OS X|Macintosh"), ("ChromeOS", r"CrOS"), ("Linux", r"Linux")]


def _first_match(pairs: list[tuple[str, str]], agent: str) -> str | None:
    return next((name for name, pattern in pairs if re.search(pattern, agent)), None)


@dataclass(frozen=True)
class SessionRow:
    """One line of the account page's sessions list."""

    started: datetime
    last_seen: datetime
    address: str
    browser: str | None  # "Firefox · Linux"; None when the User-Agent says nothing we know
    user_agent: str
    current: bool


def describe_agent(agent: str) -> str | None:
    """A short "browser · system" from a User-Agent header, or None when neither is recognised."""
    found = [name for name in (_first_match(_BROWSERS, agent), _first_match(_SYSTEMS, agent)) if name]
    return " · ".join(found) or None


def session_rows(session: Session, user: User) -> list[SessionRow]:
    """The account page's list: open sessions, "this session" marked."""
    current = current_session()
    return [SessionRow(r.created_at, r.last_seen_at, r.address, describe_agent(r.user_agent),
                       r.user_agent, current is not None and r.id == current.id)
            for r in open_sessions(session, user)]
