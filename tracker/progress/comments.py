"""The conversation on an entry between its institution and the monitoring body.

Comments are never edited: a correction is a new comment that names the one it corrects. Either side may mark a
comment resolved. The committee's return notes belong to the conversation too: the thread shows them in place.
Each comment tells the other side (in the app and by e-mail, after the commit). Functions flush, never commit.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Session

from tracker import audit, permissions
from tracker.db import utcnow
from tracker.domain import PermissionDenied, ValidationFailed, WorkflowError
from tracker.progress.models import Entry, EntryComment, EntryVersion

MAX_COMMENT = 5000
# Steps whose note sends the entry back to its reporters: the monitoring body's return, the focal point's send-back.
RETURN_EVENTS = ("return", "send_back")


@dataclass(frozen=True)
class ThreadItem:
    """A comment, or a return note (of the committee or of the focal point), in the order they were written."""

    at: datetime
    author: str
    body: str
    comment: EntryComment | None = None  # None: a return note (from the entry's history)

    @property
    def is_return_note(self) -> bool:
        return self.comment is None


def thread(session: Session, entry: Entry) -> list[ThreadItem]:
    """The entry's comments and return notes, oldest first (two queries)."""
    comments = session.scalars(sa.select(EntryComment).filter_by(entry_id=entry.id).order_by(EntryComment.id))
    notes = session.scalars(sa.select(EntryVersion).where(EntryVersion.entry_id == entry.id,
                                                          EntryVersion.event.in_(RETURN_EVENTS)).order_by(EntryVersion.id))
    items = [ThreadItem(c.created_at, c.author_name, c.body, c) for c in comments]
    items += [ThreadItem(v.at, v.user_name or "—", v.note) for v in notes if v.note]
    return sorted(items, key=lambda item: item.at)


def add_comment(session: Session, user, entry: Entry, body: str, corrects_id: int | None = None) -> EntryComment:
    """Post a comment (or a correction of an earlier one) and tell the other side."""
    if not permissions.can_comment_entry(user, entry):
        raise PermissionDenied()
    body = (body or "").strip()
    if not body:
        raise ValidationFailed([("body", str(_l("Write the comment.")))])
    if len(body) > MAX_COMMENT:
        raise ValidationFailed([("body", str(_l("A comment has at most %(n)d characters.", n=MAX_COMMENT)))])
    if corrects_id is not None and _comment(session, entry, corrects_id) is None:
        raise ValidationFailed([("corrects", str(_l("Choose a comment of this entry to correct.")))])
    comment = EntryComment(entry_id=entry.id, author_id=user.id, author_name=user.name or user.email, body=body,
                           corrects_id=corrects_id)
    session.add(comment)
    session.flush()
    audit.record(session, "entry.comment", actor=user, target=entry, comment=comment.id)
    from tracker.progress import notifications

    notifications.entry_commented(session, entry, comment, from_committee=permissions.can_review(user, entry.cycle.plan_id))
    return comment


def resolve_comment(session: Session, user, entry: Entry, comment_id: int) -> EntryComment:
    """Mark a comment resolved (once: who and when are kept)."""
    if not permissions.can_comment_entry(user, entry):
        raise PermissionDenied()
    comment = _comment(session, entry, comment_id)
    if comment is None:
        raise ValidationFailed([("comment", str(_l("Choose a comment of this entry.")))])
    if comment.resolved_at is not None:
        raise WorkflowError(str(_l("This comment was already marked resolved.")))
    comment.resolved_at, comment.resolved_by_name = utcnow(), user.name or user.email
    session.flush()
    return comment


def _comment(session: Session, entry: Entry, comment_id: int) -> EntryComment | None:
    return session.scalars(sa.select(EntryComment).filter_by(id=comment_id, entry_id=entry.id)).one_or_none()
