"""A plan's reminder schedule, and the reminders it sends without anyone asking.

Two kinds, both sent by `tracker remind --scheduled` (a daily timer) or the job `scheduled_reminders`, each once:
- by deadline: on each of the plan's reminder days before an institution's own deadline (default 14, 7 and 1), its
  reporters are reminded of what it has not submitted (`notifications.plan_reminders`);
- by age of state: an entry left in one state too long is brought to whoever must act on it: a draft untouched
  for N days and a returned entry not resubmitted to the institution's reporters, an entry waiting for its
  institution's sign-off to the focal points, a submission waiting for review to the plan's committee.

The plan's committee sets the days on its reminder schedule page (`save_settings`).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask_babel import force_locale, format_date, ngettext
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Session, joinedload

from tracker import audit, jobs
from tracker.auth.models import User
from tracker.db import utcnow
from tracker.domain import ValidationFailed
from tracker.plan.models import Plan, PlanProfile
from tracker.progress import notifications
from tracker.progress.models import (CycleState, Entry, EntryState, EntryVersion, Notification, ReportingCycle,
                                     ScheduledReminder, StateReminder)
from tracker.review import kinds

DEFAULT_REMINDER_DAYS = (14, 7, 1)
MAX_DAYS = 365


# -- the settings ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Settings:
    """A plan's reminder schedule; 0 days of age turns that reminder off."""

    reminder_days: tuple[int, ...] = DEFAULT_REMINDER_DAYS  # before each institution's deadline
    draft_idle_days: int = 14  # a draft nobody saved for so long
    returned_idle_days: int = 7  # a returned entry not resubmitted
    review_wait_days: int = 7  # an entry waiting for its sign-off or for the committee's decision

    @classmethod
    def of(cls, plan: Plan) -> Settings:
        profile = plan.profile
        if profile is None:
            return cls()
        return cls(parse_days(profile.reminder_days), profile.draft_idle_days, profile.returned_idle_days,
                   profile.review_wait_days)

    @property
    def days_text(self) -> str:
        return ", ".join(map(str, self.reminder_days))


def parse_days(text: str) -> tuple[int, ...]:
    """"14, 7, 1" as the distinct days, largest first; refused unless whole numbers from 0 to 365."""
    parts = [p.strip() for p in (text or "").split(",") if p.strip()]
    if not all(p.isdigit() and int(p) <= MAX_DAYS for p in parts):
        raise ValidationFailed([("reminder_days", str(_l("Give whole numbers of days from 0 to 365, separated by commas.")))])
    return tuple(sorted({int(p) for p in parts}, reverse=True))


AGE_FIELDS = ("draft_idle_days", "returned_idle_days", "review_wait_days")


def save_settings(session: Session, plan: Plan, reminder_days: str, ages: dict[str, int | None], reason: str, actor) -> None:
    """Set the plan's reminder schedule: the days before the deadline ("14, 7, 1") and the age of each state after
    which its entries are brought up (0: never). Refused with field errors when out of range; the change is in the
    audit log with the old and new values and the reason given."""
    errors = [(name, str(_l("Give a whole number of days from 0 to 365.")))
              for name in AGE_FIELDS if ages.get(name) is None or not 0 <= ages[name] <= MAX_DAYS]
    try:
        days = parse_days(reminder_days)
    except ValidationFailed as exc:
        errors = exc.errors + errors
    if errors:
        raise ValidationFailed(errors)
    profile = plan.profile or PlanProfile(plan=plan)
    before = _values(Settings.of(plan))
    profile.reminder_days = ",".join(map(str, days))
    for name in AGE_FIELDS:
        setattr(profile, name, ages[name])
    session.add(profile)
    after = _values(Settings(days, *(ages[name] for name in AGE_FIELDS)))
    changes = {k: [before[k], after[k]] for k in after if before[k] != after[k]}
    if changes:
        audit.record(session, "plan.reminders_updated", actor=actor, target=plan, plan=plan.code, changes=changes,
                     reason=reason.strip())
    session.flush()


def _values(settings: Settings) -> dict[str, object]:
    return {"reminder_days": settings.days_text, **{name: getattr(settings, name) for name in AGE_FIELDS}}


# -- reminders by deadline ------------------------------------------------------------------------


def deadline_reminders(session: Session, now: datetime) -> int:
    """Remind, on each of its plan's reminder days before its own deadline, every institution that has not submitted
    everything in an open cycle; each (cycle, institution, day) once, however often this runs. Returns the
    reminders sent."""
    from tracker.progress.services import days_left, deadline_exceptions

    sent_before = {tuple(row) for row in session.execute(sa.select(ScheduledReminder.cycle_id, ScheduledReminder.institution_id,
                                                                   ScheduledReminder.days_before))}
    sent = 0
    for cycle in _open_cycles(session):
        days, exceptions = Settings.of(cycle.plan).reminder_days, deadline_exceptions(session, cycle)
        for reminder in notifications.plan_reminders(session, cycle, now=now):
            left = days_left(cycle, now, reminder.institution.id, exceptions)
            # The nearest reminder day not passed yet, so that a day the timer missed (or a cycle opened late) is
            # caught up on the next run instead of skipped.
            due = min((d for d in days if d >= left >= 0), default=None)
            key = (cycle.id, reminder.institution.id, due)
            if due is not None and key not in sent_before:
                sent += notifications.send_reminders(session, cycle, [reminder])
                session.add(ScheduledReminder(cycle_id=cycle.id, institution_id=reminder.institution.id, days_before=due))
                audit.record(session, "cycle.reminded", target=cycle, year=cycle.year,
                             institution=reminder.institution.id, days_before=due, days_left=left, scheduled=True)
    session.flush()
    return sent


def _open_cycles(session: Session) -> list[ReportingCycle]:
    return list(session.scalars(sa.select(ReportingCycle).filter_by(state=CycleState.open)
                                .options(joinedload(ReportingCycle.plan).joinedload(Plan.profile))
                                .order_by(ReportingCycle.id)))


# -- reminders by age of state --------------------------------------------------------------------


@dataclass(frozen=True)
class Stale:
    """Why an entry is brought up: its state, the setting that gives the days, the event the notification names,
    who is told, and since when the entry has been in that state."""

    reason: str  # the notification event: stale_draft, stale_returned, stale_signoff, stale_review
    state: EntryState
    setting: str  # a Settings field
    open_cycles_only: bool  # the reporters cannot act on a closed cycle's drafts; a submission still needs a decision

    def since(self, entry: Entry, touched: datetime | None) -> datetime:
        """Since when the entry has waited in this state: a draft or a returned entry since its last version (a save,
        the return, a withdrawal, a reopening: `touched`), the others since they were sent for sign-off or to the
        committee (submitted, or endorsed)."""
        if self.state in (EntryState.draft, EntryState.returned):
            return touched or entry.updated_at
        if self.state == EntryState.submitted:
            return entry.signoff_at or entry.submitted_at or entry.updated_at
        return entry.submitted_at or entry.updated_at


STALE = (
    Stale("stale_draft", EntryState.draft, "draft_idle_days", True),
    Stale("stale_returned", EntryState.returned, "returned_idle_days", True),
    Stale("stale_signoff", EntryState.awaiting_signoff, "review_wait_days", False),
    Stale("stale_review", EntryState.submitted, "review_wait_days", False),
)
BY_STATE = {rule.state: rule for rule in STALE}


def stale_entries(session: Session, now: datetime) -> list[tuple[Stale, Entry, datetime]]:
    """The entries left in a state longer than their plan allows and not brought up yet in this state (an entry is
    brought up once per version: saving or moving it starts the count again), each with since when it waited."""
    done = sa.select(StateReminder).where(StateReminder.entry_id == Entry.id, StateReminder.version == Entry.version)
    touched = sa.select(sa.func.max(EntryVersion.at)).where(EntryVersion.entry_id == Entry.id).scalar_subquery()
    query = (
        sa.select(Entry, touched).join(ReportingCycle, ReportingCycle.id == Entry.cycle_id)
        .where(Entry.state.in_(list(BY_STATE)), Entry.is_demo.is_(False), ~done.exists())
        .options(joinedload(Entry.cycle).joinedload(ReportingCycle.plan).joinedload(Plan.profile),
                 joinedload(Entry.institution), joinedload(Entry.indicator), joinedload(Entry.action))
        .order_by(Entry.cycle_id, Entry.institution_id, Entry.id)
    )
    found = []
    for entry, last in session.execute(query):
        rule = BY_STATE[entry.state]
        days, since = getattr(Settings.of(entry.cycle.plan), rule.setting), rule.since(entry, last)
        if days and since <= now - timedelta(days=days) and (entry.cycle.is_open or not rule.open_cycles_only):
            found.append((rule, entry, since))
    return found


def age_reminders(session: Session, now: datetime) -> int:
    """Bring each stale entry to whoever must act on it: one notification per entry and one e-mail per person
    listing them all; each entry once in its state. Returns the people written to."""
    stale = stale_entries(session, now)
    recipients: dict[int, list[tuple[Stale, Entry, datetime]]] = {}
    users: dict[int, User] = {}
    for rule, entry, since in stale:
        people = _who_acts(session, rule, entry)
        for user in people:
            users[user.id] = user
            recipients.setdefault(user.id, []).append((rule, entry, since))
        if people:  # nobody to tell yet (no focal point): it is brought up once someone can act
            session.add(StateReminder(entry_id=entry.id, version=entry.version, reason=rule.reason))
    for user_id, items in recipients.items():
        for rule, entry, _since in items:
            session.add(Notification(user_id=user_id, event=rule.reason, entry_id=entry.id,
                                     note=f"{kinds.item_code(entry)} · {entry.institution.code}"))
        _queue_age_mail(session, users[user_id], items, now)
    if stale:
        audit.record(session, "entries.reminded", entries=len(stale), people=len(recipients), scheduled=True)
    session.flush()
    return len(recipients)


def _who_acts(session: Session, rule: Stale, entry: Entry) -> list[User]:
    if rule.state == EntryState.submitted:
        ids = notifications.committee_member_ids(session, entry.cycle.plan_id)
        return list(session.scalars(sa.select(User).where(User.id.in_(ids)))) if ids else []
    reporters = notifications.institution_reporters(session, entry.institution_id)
    if rule.state == EntryState.awaiting_signoff:
        return [u for u in reporters if u.is_focal_point and u.id != entry.submitted_by_id]
    return reporters


def _queue_age_mail(session: Session, user: User, items: list[tuple[Stale, Entry, datetime]], now: datetime) -> None:
    """One e-mail in the person's language: the entries grouped by why they are brought up, each with its link."""
    with force_locale(notifications.user_locale(user)):
        subject = ngettext("%(num)d entry waits for you", "%(num)d entries wait for you", len(items))
        lines: list[str] = []
        for rule, group in itertools.groupby(sorted(items, key=lambda i: STALE.index(i[0])), key=lambda i: i[0]):
            group = list(group)
            days = getattr(Settings.of(group[0][1].cycle.plan), rule.setting)
            lines += ["", HEADINGS[rule.reason](days), ""]
            for _rule, entry, since in group:
                since = format_date(since, "medium")
                lines += [f"- {kinds.item_code(entry)} ({entry.cycle.year}) · {entry.institution.code} · "
                          + _("since %(date)s", date=since),
                          f"  {notifications.external_url('progress.show_entry', entry_id=entry.id)}"]
        body = "\n".join([subject + ".", *lines])
    notifications.queue_mail(session, user.email, subject, body)


HEADINGS = {
    "stale_draft": lambda days: ngettext("Drafts nobody has saved for %(num)d day or more:",
                                         "Drafts nobody has saved for %(num)d days or more:", days),
    "stale_returned": lambda days: ngettext("Entries returned %(num)d day ago or more and not submitted again:",
                                            "Entries returned %(num)d days ago or more and not submitted again:", days),
    "stale_signoff": lambda days: ngettext("Entries waiting for your institution's sign-off for %(num)d day or more:",
                                           "Entries waiting for your institution's sign-off for %(num)d days or more:", days),
    "stale_review": lambda days: ngettext("Submissions waiting for the committee's decision for %(num)d day or more:",
                                          "Submissions waiting for the committee's decision for %(num)d days or more:", days),
}


# -- both, on a schedule --------------------------------------------------------------------------


def scheduled_reminders(session: Session, now: datetime | None = None) -> tuple[int, int]:
    """The reminders due now: by deadline (institutions reminded) and by age of state (people written to).
    `tracker remind --scheduled` (a daily timer) and the job `scheduled_reminders` come here."""
    now = now or utcnow()
    return deadline_reminders(session, now), age_reminders(session, now)


@jobs.job("scheduled_reminders")
def scheduled_reminders_job(session: Session) -> None:
    """The scheduled reminders as a job (a queue's scheduler can run it); their e-mails go out as jobs too."""
    scheduled_reminders(session)
    session.commit()
    notifications.deliver_outbox(session)
    session.commit()
