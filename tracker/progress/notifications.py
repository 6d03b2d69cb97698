"""Notifications: in-app messages and e-mails through an outbox.

E-mails are queued in the outbox table and delivered by deliver_outbox(): over SMTP when
TRACKER_SMTP_HOST is set, otherwise written as .eml files under the instance folder (development).
"""

from __future__ import annotations

import smtplib
from datetime import datetime
from email.message import EmailMessage
from pathlib import Path

import sqlalchemy as sa
from flask import current_app, has_request_context, url_for
from flask_babel import force_locale, format_date, ngettext
from flask_babel import gettext as _
from sqlalchemy.orm import Session

from tracker.auth.models import Role, User
from tracker.db import call_after_commit, db, utcnow
from tracker.plan.services import reviewing_body
from tracker.progress.models import Entry, Notification, OutboxMessage, ReportingCycle

NOTIFIED_EVENTS = ("approve", "return", "reopen")


def institution_reporters(session: Session, institution_id: int) -> list[User]:
    return list(session.scalars(sa.select(User).filter_by(institution_id=institution_id, role=Role.reporter, active=True)))


def entry_changed(session: Session, entry: Entry, event: str, note: str = "") -> None:
    """Tell the institution's reporters that the committee approved, returned or reopened their entry."""
    if event not in NOTIFIED_EVENTS:
        return
    for user in institution_reporters(session, entry.institution_id):
        session.add(Notification(user_id=user.id, event=event, entry_id=entry.id, note=note))
        with force_locale(user_locale(user)):
            subject, body = _entry_mail(entry, event, note)
        queue_mail(session, user.email, subject, body)


def user_locale(user: User) -> str:
    """The locale to write to this user in: their interface language, else the instance's."""
    from tracker.i18n import LOCALES

    return LOCALES.get(user.language or current_app.config["BABEL_DEFAULT_LOCALE"], "es_PE")


def _item_code(entry: Entry) -> str:
    return entry.item.code if entry.item else _("Budget item")


def _entry_mail(entry: Entry, event: str, note: str) -> tuple[str, str]:
    code, year = _item_code(entry), entry.cycle.year
    subjects = {
        "approve": _("Your entry %(code)s (%(year)s) was approved", code=code, year=year),
        "return": _("Your entry %(code)s (%(year)s) was returned", code=code, year=year),
        "reopen": _("Your entry %(code)s (%(year)s) was reopened", code=code, year=year),
    }
    lines = [subjects[event] + "."]
    if note:
        lines += ["", _("Note from %(body)s:", body=reviewing_body(entry.cycle.plan)), note]
    lines += ["", _("Open the entry: %(url)s", url=_external_url("progress.show_entry", entry_id=entry.id))]
    return subjects[event], "\n".join(lines)


def _external_url(endpoint: str, **values) -> str:
    try:
        return url_for(endpoint, _external=True, **values)
    except RuntimeError:  # outside a request (CLI): a relative link is still useful
        with current_app.test_request_context():
            return url_for(endpoint, **values)


def remind_missing(session: Session, cycle: ReportingCycle, now: datetime | None = None) -> int:
    """Remind each institution's reporters of the items they have not submitted yet; returns reminders sent.

    The days left are counted in the plan's country (`days_left`), whatever the server's clock zone."""
    from tracker.progress.services import days_left, worklist

    sent = 0
    institutions = {u.institution_id for u in session.scalars(sa.select(User).filter_by(role=Role.reporter, active=True))}
    for institution_id in sorted(i for i in institutions if i is not None):
        missing = [w.code for w in worklist(session, cycle, institution_id) if w.state in ("not_started", "draft", "returned")]
        if not missing:
            continue
        for user in institution_reporters(session, institution_id):
            session.add(Notification(user_id=user.id, event="reminder", cycle_id=cycle.id, note=", ".join(missing)))
            with force_locale(user_locale(user)):
                subject = ngettext("Reminder: %(num)d item to report for %(year)s", "Reminder: %(num)d items to report for %(year)s",
                                   len(missing), year=cycle.year)
                days = days_left(cycle, now)
                body = "\n".join([
                    _("The deadline for %(year)s is %(deadline)s.", year=cycle.year, deadline=format_date(cycle.deadline, "long")),
                    ngettext("%(num)d day left.", "%(num)d days left.", days) if days >= 0 else ngettext("%(num)d day late.", "%(num)d days late.", -days),
                    _("Items not yet submitted: %(items)s", items=", ".join(missing)),
                ])
            queue_mail(session, user.email, subject, body)
            sent += 1
    return sent


def queue_mail(session: Session, to_email: str, subject: str, body: str) -> OutboxMessage:
    """Put an e-mail in the outbox; a request delivers it once its transaction commits (never if it rolls
    back). Outside a request, and after a failure, `tracker mail send` delivers it."""
    message = OutboxMessage(to_email=to_email, subject=subject, body=body)
    session.add(message)
    if has_request_context():
        call_after_commit(session, lambda: _deliver_committed(message))
    return message


def _deliver_committed(message: OutboxMessage) -> None:
    """Send one committed message and record the outcome in a transaction of its own."""
    _deliver_all([message])
    values = {"sent_at": message.sent_at, "error": message.error or ""}
    with db.engine.begin() as connection:
        connection.execute(sa.update(OutboxMessage).where(OutboxMessage.id == message.id).values(**values))


def deliver_outbox(session: Session) -> int:
    """Send (or, without SMTP, write to files) every queued message; returns how many were delivered."""
    pending = session.scalars(sa.select(OutboxMessage).where(OutboxMessage.sent_at.is_(None)).order_by(OutboxMessage.id)).all()
    return _deliver_all(pending)


def _deliver_all(pending) -> int:
    delivered = 0
    for message in pending:
        try:
            _deliver(_as_email(message), message.id)
        except (OSError, smtplib.SMTPException) as exc:
            message.error = str(exc)[:500]
            continue
        message.sent_at, message.error = utcnow(), ""
        delivered += 1
    return delivered


def _as_email(message: OutboxMessage) -> EmailMessage:
    email = EmailMessage()
    email["From"] = current_app.config["MAIL_FROM"]
    email["To"] = message.to_email
    email["Subject"] = message.subject
    email.set_content(message.body)
    return email


def _deliver(email: EmailMessage, message_id: int) -> None:
    host = current_app.config.get("SMTP_HOST")
    if not host:
        folder = Path(current_app.config["MAIL_OUTBOX_FOLDER"])
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"{message_id:06d}.eml").write_bytes(bytes(email))
        return
    with smtplib.SMTP(host, current_app.config["SMTP_PORT"], timeout=10) as smtp:
        if current_app.config.get("SMTP_STARTTLS"):
            smtp.starttls()
        if current_app.config.get("SMTP_USER"):
            smtp.login(current_app.config["SMTP_USER"], current_app.config["SMTP_PASSWORD"])
        smtp.send_message(email)


def unread_count(session: Session, user) -> int:
    return session.scalar(sa.select(sa.func.count()).select_from(Notification).filter_by(user_id=user.id, read_at=None)) or 0


def list_notifications(session: Session, user, limit: int = 100) -> list[Notification]:
    from sqlalchemy.orm import joinedload

    query = (
        sa.select(Notification)
        .filter_by(user_id=user.id)
        .options(
            joinedload(Notification.entry).joinedload(Entry.indicator),
            joinedload(Notification.entry).joinedload(Entry.action),
            joinedload(Notification.entry).joinedload(Entry.cycle),
            joinedload(Notification.cycle).joinedload(ReportingCycle.plan),
        )
        .order_by(Notification.created_at.desc(), Notification.id.desc())
        .limit(limit)
    )
    return list(session.scalars(query))


def mark_all_read(session: Session, user) -> None:
    session.execute(sa.update(Notification).filter_by(user_id=user.id, read_at=None).values(read_at=utcnow()))
