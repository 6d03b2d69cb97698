"""`tracker remind`, `tracker mail send` and `tracker notify digest`."""

from __future__ import annotations

import click
from flask.cli import with_appcontext

from tracker.db import db


@click.command("remind")
@click.option("--year", type=int, help="Reporting year whose missing entries to remind about.")
@click.option("--plan", "plan_code", default="PE-2021", show_default=True, help="Plan code.")
@click.option("--scheduled", is_flag=True, help="Send the reminders due today: in every open cycle on each plan's days "
                                                  "before the deadline (default 14, 7 and 1), and for entries left too "
                                                  "long in one state; each once.")
@with_appcontext
def remind(year: int | None, plan_code: str, scheduled: bool) -> None:
    """Remind institutions of the items they have not submitted yet for YEAR (in-app and e-mail): the same
    reminders as "Send reminders" on the cycles page. With --scheduled: the reminders due today, for a daily
    timer (deploy/nap-tracker-reminders.timer); running it twice the same day sends nothing more.

    \b
    Examples:
      tracker remind --year 2026 --plan PE-2021
      tracker remind --scheduled
    """
    from tracker.plan.services import NotFound, get_plan
    from tracker.progress import notifications, schedule, services

    if scheduled:
        by_deadline, by_age = schedule.scheduled_reminders(db.session)
        db.session.commit()
        delivered = notifications.deliver_outbox(db.session)
        db.session.commit()
        click.echo(f"{by_deadline} scheduled reminders queued, {by_age} people reminded of entries waiting for them, "
                   f"{delivered} e-mails delivered.")
        return
    if year is None:
        raise click.ClickException("give --year YEAR, or --scheduled")

    try:
        plan = get_plan(db.session, plan_code)
    except NotFound:
        raise click.ClickException(f"no plan has the code {plan_code!r}") from None
    cycle = services.get_cycle(db.session, plan, year)
    if cycle is None:
        raise click.ClickException(f"{plan_code} has no reporting cycle for {year}")
    if not cycle.is_open:
        raise click.ClickException(f"the {year} reporting cycle is closed; nothing to remind")
    sent = notifications.remind_missing(db.session, cycle)
    db.session.commit()
    delivered = notifications.deliver_outbox(db.session)
    db.session.commit()
    click.echo(f"{sent} reminders queued, {delivered} e-mails delivered.")


mail_group = click.Group("mail", help="The e-mail outbox.")


@mail_group.command("send")
@with_appcontext
def send_mail() -> None:
    """Deliver queued e-mails (SMTP when TRACKER_SMTP_HOST is set, files under the instance folder otherwise)."""
    from tracker.progress import notifications

    from tracker import jobs

    delivered = notifications.deliver_outbox(db.session)
    db.session.commit()
    click.echo(f"{delivered} e-mails handed to the worker's queue." if jobs.queue_url() else f"{delivered} e-mails delivered.")


notify_group = click.Group("notify", help="Notifications sent on a schedule.")


@notify_group.command("digest")
@with_appcontext
def digest() -> None:
    """E-mail each committee member the entries submitted since their last digest, with links (run it daily,
    e.g. from cron). Running it again sends nothing new; undelivered e-mails stay in the outbox for
    `tracker mail send`."""
    import sqlalchemy as sa

    from tracker.progress import notifications

    try:
        messages = notifications.queue_digests(db.session)
        db.session.commit()
    except sa.exc.SQLAlchemyError as exc:
        db.session.rollback()
        raise click.ClickException(f"the digest could not be prepared: {_first_line(exc)}") from None
    delivered = notifications.deliver_outbox(db.session)
    db.session.commit()
    failed = [m for m in messages if m.sent_at is None]
    if failed:
        raise click.ClickException(f"{len(failed)} of {len(messages)} digest e-mails could not be delivered "
                                   f"({_first_line(failed[0].error)}); they stay in the outbox for `tracker mail send`")
    click.echo(f"{len(messages)} digests queued, {delivered} e-mails delivered.")


def _first_line(error) -> str:
    """An error's message on one line (a database error's carries the statement on the next ones)."""
    text = str(getattr(error, "orig", None) or error).strip()
    return text.splitlines()[0] if text else type(error).__name__


@click.command("worker")
@click.option("--burst", is_flag=True, help="Stop once the queue is empty (for tests and one-off runs).")
@with_appcontext
def worker(burst: bool) -> None:
    """Run background jobs from the queue (TRACKER_QUEUE_URL): e-mail deliveries, with retries and backoff.

    \b
    Run it beside the web servers, e.g. as the systemd unit deploy/nap-tracker-worker.service:
      TRACKER_QUEUE_URL=redis://127.0.0.1:6379/1 tracker worker

    Several workers may run at once, on any machine that reaches the database and Redis.
    """
    from tracker import jobs

    if jobs.queue_url() is None:
        raise click.ClickException("TRACKER_QUEUE_URL is not set: without a queue, jobs run in the web process")
    try:
        jobs.work(burst=burst)
    except Exception as exc:  # noqa: BLE001 - Redis errors come in several types; one line for the operator
        raise click.ClickException(f"the queue at {jobs.queue_url()} does not answer: {exc}") from None
