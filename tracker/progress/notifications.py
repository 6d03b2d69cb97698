"""Notifications: in-app messages and e-mails through an outbox.

E-mails are queued in the outbox table and delivered by deliver_outbox(): over SMTP when
TRACKER_SMTP_HOST is set, otherwise written as .eml files under the instance folder (development).
Reporters are told of the committee's decisions and reminded of what they have not submitted (from the
cycles page or `tracker remind`); the committee is told of submissions in the app at once and by e-mail
in a daily digest (`tracker notify digest`).
"""

from __future__ import annotations

import itertools
import smtplib
import textwrap
from dataclasses import dataclass
from datetime import datetime
from email.message import EmailMessage
from pathlib import Path

import sqlalchemy as sa
from flask import current_app, has_request_context, url_for
from flask_babel import force_locale, format_date, ngettext
from flask_babel import gettext as _
from sqlalchemy.orm import Session, joinedload, selectinload

from tracker import audit, jobs, permissions
from tracker.auth.models import BodyMember, Role, User
from tracker.db import call_after_commit, utcnow
from tracker.domain import PermissionDenied, WorkflowError
from tracker.plan.models import Institution, MonitoringBody, Plan
from tracker.plan.services import reviewing_body
from tracker.progress.models import Entry, EntryKind, EntryState, Notification, OutboxMessage, ReportingCycle
from tracker.review import kinds

SUBMITTED_EVENT = "entry_submitted"  # to the committee: in the app at once, by e-mail in the daily digest


def institution_reporters(session: Session, institution_id: int) -> list[User]:
    return list(session.scalars(sa.select(User).filter_by(institution_id=institution_id, role=Role.reporter, active=True)))


def entry_changed(session: Session, entry: Entry, event: str, note: str = "", actor: User | None = None) -> None:
    """Tell the institution's reporters (but whoever took the step) that their entry was endorsed or sent back by
    the focal point, or approved, returned or reopened by the monitoring body."""
    for user in institution_reporters(session, entry.institution_id):
        if actor is not None and user.id == actor.id:
            continue
        session.add(Notification(user_id=user.id, event=event, entry_id=entry.id, note=note))
        with force_locale(user_locale(user)):
            subject, body = _entry_mail(entry, event, note, actor)
        queue_mail(session, user.email, subject, body)


def signoff_requested(session: Session, entry: Entry, actor: User | None = None) -> None:
    """Tell the institution's focal points (but the one who submitted) that an entry waits for their sign-off."""
    for user in institution_reporters(session, entry.institution_id):
        if not user.is_focal_point or (actor is not None and user.id == actor.id):
            continue
        session.add(Notification(user_id=user.id, event=SIGNOFF_EVENT, entry_id=entry.id, note=entry.institution.code))
        with force_locale(user_locale(user)):
            subject = _("%(code)s (%(year)s) waits for your sign-off", code=kinds.item_code(entry), year=entry.cycle.year)
            body = "\n".join([subject + ".", "", _("Endorse it, or send it back with a note: %(url)s",
                                                     url=external_url("progress.show_entry", entry_id=entry.id))])
        queue_mail(session, user.email, subject, body)


SIGNOFF_EVENT = "signoff_requested"


def user_locale(user: User) -> str:
    """The locale to write to this user in: their interface language, else the instance's."""
    from tracker.i18n import LOCALES

    return LOCALES.get(user.language or current_app.config["BABEL_DEFAULT_LOCALE"], "es_PE")


def _entry_mail(entry: Entry, event: str, note: str, actor: User | None = None) -> tuple[str, str]:
    code, year = kinds.item_code(entry), entry.cycle.year
    body = reviewing_body(entry.cycle.plan)
    subjects = {
        "endorse": _("Your entry %(code)s (%(year)s) was endorsed and sent to %(body)s", code=code, year=year, body=body),
        "send_back": _("Your entry %(code)s (%(year)s) was sent back by your institution's focal point", code=code,
                       year=year),
        "approve": _("Your entry %(code)s (%(year)s) was approved", code=code, year=year),
        "return": _("Your entry %(code)s (%(year)s) was returned", code=code, year=year),
        "reopen": _("Your entry %(code)s (%(year)s) was reopened", code=code, year=year),
    }
    lines = [subjects[event] + "."]
    if note:
        author = actor.name if event == "send_back" and actor is not None else body
        lines += ["", _("Note from %(body)s:", body=author), note]
    lines += ["", _("Open the entry: %(url)s", url=external_url("progress.show_entry", entry_id=entry.id))]
    return subjects[event], "\n".join(lines)


def external_url(endpoint: str, **values) -> str:
    """A full link for an e-mail: from the request, or outside one (the CLI) from TRACKER_BASE_URL (relative without it)."""
    if has_request_context():
        return url_for(endpoint, _external=True, **values)
    base = current_app.config.get("BASE_URL", "")
    with current_app.test_request_context(base_url=base or None):
        return url_for(endpoint, _external=bool(base), **values)


# -- reminders of what is missing ----------------------------------------------------------------

REMINDED_STATES = ("not_started", "draft", "returned")  # not submitted yet: what a reminder lists
ITEM_TEXT_WIDTH = 160  # an action's text can be a paragraph: the e-mail shows its beginning


@dataclass(frozen=True)
class ReminderMail:
    """One reporter's reminder, in their language: the in-app note and the e-mail."""

    user: User
    language: str
    subject: str
    body: str
    note: str


@dataclass(frozen=True)
class InstitutionReminder:
    """What an institution has not submitted in a cycle, and the reminder each of its active reporters gets."""

    institution: Institution
    items: list  # WorkItem: the indicators and actions not submitted yet
    owes_budget: bool  # bound by the budget clause and its budget item not submitted yet
    mails: list[ReminderMail]

    @property
    def missing_count(self) -> int:
        return len(self.items) + int(self.owes_budget)

    @property
    def messages(self) -> list[tuple[ReminderMail, list[User]]]:
        """The distinct messages (one per language in practice), each with the reporters who get it."""
        grouped: dict[tuple[str, str], tuple[ReminderMail, list[User]]] = {}
        for mail in self.mails:
            grouped.setdefault((mail.subject, mail.body), (mail, []))[1].append(mail.user)
        return list(grouped.values())


def reminder_institutions(session: Session, plan) -> list[Institution]:
    """The institutions that report on the plan: those with indicators or actions assigned, and those its
    budget clause binds (who may owe a budget item only)."""
    from tracker.budget.services import clause_institutions
    from tracker.progress.queries import reporting_institutions

    found = {i.id: i for i in [*reporting_institutions(session, plan), *clause_institutions(session, plan)]}
    return sorted(found.values(), key=lambda i: i.code)


def plan_reminders(session: Session, cycle: ReportingCycle, institution_id: int | None = None,
                   now: datetime | None = None) -> list[InstitutionReminder]:
    """For each institution of the cycle's plan that has something not submitted (or only the one asked for),
    the reminders its active reporters would get. Nothing is stored: this is what the preview shows and
    what remind_missing sends."""
    from tracker.budget.services import clause_institutions

    bound = {i.id for i in clause_institutions(session, cycle.plan)}
    owing = []
    for institution in reminder_institutions(session, cycle.plan):
        if institution_id is not None and institution.id != institution_id:
            continue
        items = missing_items(session, cycle, institution.id)
        owes_budget = institution.id in bound and _budget_missing(session, cycle, institution.id)
        if items or owes_budget:
            mails = [_reminder_mail(user, cycle, institution, items, owes_budget, now)
                     for user in institution_reporters(session, institution.id)]
            owing.append(InstitutionReminder(institution, items, owes_budget, mails))
    return owing


def missing_items(session: Session, cycle: ReportingCycle, institution_id: int) -> list:
    """The institution's indicators and actions of the cycle not submitted yet (none, draft or returned)."""
    from tracker.progress.services import worklist

    return [w for w in worklist(session, cycle, institution_id) if w.state in REMINDED_STATES]


def _budget_missing(session: Session, cycle: ReportingCycle, institution_id: int) -> bool:
    from tracker.budget.services import find_budget_entry

    entry = find_budget_entry(session, cycle, institution_id)
    return entry is None or entry.state.value in REMINDED_STATES


def _reminder_mail(user: User, cycle: ReportingCycle, institution: Institution, items: list, owes_budget: bool,
                   now: datetime | None) -> ReminderMail:
    """The reminder in the reporter's language: each missing item by code and name, with its entry form's link."""
    locale = user_locale(user)
    with force_locale(locale):
        count = len(items) + int(owes_budget)
        subject = ngettext("Reminder: %(num)d item to report for %(year)s", "Reminder: %(num)d items to report for %(year)s",
                           count, year=cycle.year)
        lines = [*_deadline_lines(cycle, institution.id, now), "", _("Items not yet submitted:")]
        for item in items:
            lines += [f"- {_item_line(item)}", f"  {_item_form_url(cycle, item)}"]
        if owes_budget:
            budget = _("Budget item for %(year)s", year=cycle.year)
            lines += [f"- {budget}",
                      f"  {external_url('budget.item', code=cycle.plan.code, year=cycle.year)}"]
        worklist_url = external_url("progress.worklist", code=cycle.plan.code, year=cycle.year)
        lines += ["", _("All your items for %(year)s: %(url)s", year=cycle.year, url=worklist_url)]
        note = ", ".join([w.code for w in items] + ([_("Budget item")] if owes_budget else []))
    return ReminderMail(user, locale.split("_")[0], subject, "\n".join(lines), note)


def _deadline_lines(cycle: ReportingCycle, institution_id: int, now: datetime | None) -> list[str]:
    """The deadline and the days left. The days are counted in the plan's country (`days_left`), whatever the
    server's clock zone; `institution_id` says whose deadline it is (an institution may have its own)."""
    from tracker.progress.services import days_left, deadline_exceptions, institution_deadline

    exceptions = deadline_exceptions(sa.orm.object_session(cycle), cycle)  # one query for both figures
    deadline = institution_deadline(cycle, institution_id, exceptions)
    days = days_left(cycle, now, institution_id, exceptions)
    return [
        _("The deadline for %(year)s is %(deadline)s.", year=cycle.year, deadline=format_date(deadline, "long")),
        ngettext("%(num)d day left.", "%(num)d days left.", days) if days >= 0 else ngettext("%(num)d day late.", "%(num)d days late.", -days),
    ]


def _item_line(item) -> str:
    """"Indicator IND-PAR-1: its name", in the current language."""
    from tracker.i18n import localized

    if item.kind == EntryKind.indicator:
        return _("Indicator %(code)s: %(name)s", code=item.code, name=_shorten(str(localized(item.item, "name"))))
    return _("Action %(code)s: %(name)s", code=item.code, name=_shorten(str(localized(item.item, "text"))))


def _shorten(text: str) -> str:
    return textwrap.shorten(text, ITEM_TEXT_WIDTH, placeholder="…") if text.strip() else "—"


def _item_form_url(cycle: ReportingCycle, item) -> str:
    return external_url(kinds.of(item.kind).form_endpoint, code=cycle.plan.code, year=cycle.year, item_code=item.code)


def send_reminders(session: Session, cycle: ReportingCycle, reminders: list[InstitutionReminder]) -> int:
    """Store the in-app notifications and queue the e-mails of these reminders; returns how many reporters."""
    sent = 0
    for reminder in reminders:
        for mail in reminder.mails:
            session.add(Notification(user_id=mail.user.id, event="reminder", cycle_id=cycle.id, note=mail.note))
            queue_mail(session, mail.user.email, mail.subject, mail.body)
            sent += 1
    return sent


def remind_missing(session: Session, cycle: ReportingCycle, now: datetime | None = None,
                   institution_id: int | None = None) -> int:
    """Remind each institution's reporters (or one institution's) of what they have not submitted yet;
    returns the reminders sent. `tracker remind` and the cycles page both come here."""
    return send_reminders(session, cycle, plan_reminders(session, cycle, institution_id, now))


def send_cycle_reminders(session: Session, cycle: ReportingCycle, actor, institution_id: int | None = None) -> int:
    """The committee's "Send reminders": remind_missing for the plan's reviewers, recorded in the audit log."""
    if not permissions.can_manage_cycles(actor, cycle.plan):
        raise PermissionDenied()
    if not cycle.is_open:
        raise WorkflowError(_("The reporting cycle %(year)s is closed; nothing to remind.", year=cycle.year))
    sent = remind_missing(session, cycle, institution_id=institution_id)
    audit.record(session, "cycle.reminded", actor=actor, target=cycle, year=cycle.year, institution=institution_id,
                 reminders=sent)
    return sent


# -- the committee told of submissions -----------------------------------------------------------


def entry_submitted(session: Session, entry: Entry) -> None:
    """Tell each active member of the plan's monitoring body, in the app and at once, that an entry was
    submitted; the e-mail comes in their daily digest (`tracker notify digest`)."""
    for user_id in committee_member_ids(session, entry.cycle.plan_id):
        session.add(Notification(user_id=user_id, event=SUBMITTED_EVENT, entry_id=entry.id, note=entry.institution.code))


COMMENT_EVENT = "comment"


def entry_commented(session: Session, entry: Entry, comment, from_committee: bool) -> None:
    """Tell the other side of the conversation: the institution's reporters when a reviewer wrote, the plan's
    reviewers when the institution did (in the app, and by e-mail once the transaction commits)."""
    if from_committee:
        recipients = institution_reporters(session, entry.institution_id)
    else:
        ids = committee_member_ids(session, entry.cycle.plan_id)
        recipients = list(session.scalars(sa.select(User).where(User.id.in_(ids)))) if ids else []
    for user in recipients:
        if user.id == comment.author_id:
            continue
        session.add(Notification(user_id=user.id, event=COMMENT_EVENT, entry_id=entry.id, note=comment.body[:500]))
        with force_locale(user_locale(user)):
            subject = _("New comment on %(code)s (%(year)s)", code=kinds.item_code(entry), year=entry.cycle.year)
            body = "\n\n".join([f"{comment.author_name}: {comment.body}",
                                  external_url("progress.show_entry", entry_id=entry.id, _anchor="conversation")])
        queue_mail(session, user.email, subject, body)


def committee_member_ids(session: Session, plan_id: int) -> list[int]:
    """The active committee accounts on the plan's active monitoring bodies."""
    query = (
        sa.select(User.id).join(BodyMember, BodyMember.user_id == User.id)
        .join(MonitoringBody, MonitoringBody.id == BodyMember.body_id)
        .where(MonitoringBody.plan_id == plan_id, MonitoringBody.active, User.active, User.role == Role.committee)
        .distinct().order_by(User.id)
    )
    return list(session.scalars(query))


def queue_digests(session: Session, now: datetime | None = None) -> list[OutboxMessage]:
    """Queue one e-mail per committee member listing their submission notifications not in a digest yet,
    and mark those digested: running it again queues nothing new. Rows are locked, so two runs at once
    cannot both take the same notifications."""
    pending = session.scalars(
        sa.select(Notification).join(User, User.id == Notification.user_id)
        .where(Notification.event == SUBMITTED_EVENT, Notification.digested_at.is_(None), User.active)
        .order_by(Notification.user_id, Notification.created_at, Notification.id)
        .with_for_update(of=Notification)
        # What each line names, in a few more queries whatever the number of rows (not joined: FOR UPDATE).
        .options(selectinload(Notification.entry).options(
                     joinedload(Entry.cycle).joinedload(ReportingCycle.plan).joinedload(Plan.country),
                     joinedload(Entry.institution), joinedload(Entry.indicator), joinedload(Entry.action)))
    ).all()
    now = now or utcnow()
    users = {u.id: u for u in session.scalars(sa.select(User).where(User.id.in_({n.user_id for n in pending})))}
    messages = []
    for user_id, group in itertools.groupby(pending, key=lambda n: n.user_id):
        rows = list(group)
        messages.append(_queue_digest(session, users[user_id], rows))
        for row in rows:
            row.digested_at = now
    return messages


def _queue_digest(session: Session, user: User, rows: list[Notification]) -> OutboxMessage:
    from tracker.i18n import plan_datetime

    with force_locale(user_locale(user)):
        subject = ngettext("%(num)d entry submitted for review", "%(num)d entries submitted for review", len(rows))
        lines = [_("Entries submitted since the last summary:"), ""]
        for row in rows:
            entry = row.entry
            if entry is None:
                continue
            when = plan_datetime(row.created_at, entry.cycle.plan)
            lines += [f"- {kinds.item_code(entry)} ({entry.cycle.year}) · {entry.institution.code} · {when}",
                      f"  {external_url('progress.show_entry', entry_id=entry.id)}"]
        lines += ["", _("Review queue: %(url)s", url=external_url("progress.review_queue"))]
    return queue_mail(session, user.email, subject, "\n".join(lines))


def awaiting_review_count(session: Session, user) -> int:
    """The submitted entries of the plans the user reviews: the review queue's badge (one query; none for
    whoever reviews nothing)."""
    if not permissions.can_review(user):
        return 0
    query = (sa.select(sa.func.count()).select_from(Entry).join(ReportingCycle, ReportingCycle.id == Entry.cycle_id)
             .where(Entry.state == EntryState.submitted, ReportingCycle.plan_id.in_(user.reviewed_plan_ids)))
    return session.scalar(query) or 0


def queue_mail(session: Session, to_email: str, subject: str, body: str) -> OutboxMessage:
    """Put an e-mail in the outbox; once a request's transaction commits (never if it rolls back), the job
    `deliver_mail` sends it: on the queue's worker, with retries and backoff, when TRACKER_QUEUE_URL is set, else
    in the request's process. Outside a request, and after the retries, `tracker mail send` delivers it."""
    message = OutboxMessage(to_email=to_email, subject=subject, body=body)
    session.add(message)
    if has_request_context():
        call_after_commit(session, lambda: jobs.enqueue("deliver_mail", message.id))
    return message


class MailNotSent(Exception):
    """The SMTP server refused or could not be reached: the job raises it so that the queue retries."""


@jobs.job("deliver_mail", retried=True)
def deliver_mail(session: Session, message_id: int) -> None:
    """Send one outbox message (unless it went already) and record the outcome; raise MailNotSent on a failure."""
    # Locked while it is sent (skipped if another sender holds it): never two deliveries of one message.
    message = session.scalars(sa.select(OutboxMessage).filter_by(id=message_id).with_for_update(skip_locked=True)).one_or_none()
    if message is None or message.sent_at is not None:
        return
    delivered = _deliver_all([message])
    session.commit()
    if not delivered:
        raise MailNotSent(f"message {message_id} to {message.to_email}: {message.error}")


def deliver_outbox(session: Session) -> int:
    """Send (or, without SMTP, write to files) every queued message; returns how many were delivered. With a queue,
    each message becomes a `deliver_mail` job instead (returns how many were handed over): one sender per message,
    the worker. Rows a worker is sending meanwhile are locked (PostgreSQL) and skipped: no message goes out twice."""
    query = (sa.select(OutboxMessage).where(OutboxMessage.sent_at.is_(None)).order_by(OutboxMessage.id)
             .with_for_update(skip_locked=True))
    if jobs.queue_url() is not None:
        ids = session.scalars(query.with_only_columns(OutboxMessage.id)).all()
        for message_id in ids:
            jobs.enqueue("deliver_mail", message_id)
        return len(ids)
    return _deliver_all(session.scalars(query).all())


def _deliver_all(pending) -> int:
    delivered = 0
    for message in pending:
        try:
            _deliver(_as_email(message), message.id)
        except (OSError, smtplib.SMTPException) as exc:
            message.error = str(exc)[:500]
            message.attempts, message.last_attempt_at = (message.attempts or 0) + 1, utcnow()
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
