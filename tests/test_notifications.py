"""Notifications in the app and by e-mail through the outbox; reminders before the deadline."""

from __future__ import annotations

import sqlalchemy as sa

from test_progress import YEAR, _entry, _save, committee, cycle, navy  # noqa: F401
from tracker.auth.models import Role
from tracker.db import db
from tracker.progress.models import Notification, OutboxMessage


def test_approval_notifies_every_reporter_of_the_institution(app, navy, committee, login_as):
    colleague = login_as(Role.reporter, email="colega@example.org", institution="MGP")
    login_as(Role.reporter, institution="EP")
    _save(navy, "IND-PAR-2", {"women": "5", "men": "20"}, send=True)
    entry_id = _entry(app, "IND-PAR-2").id
    committee.post_form(f"/entries/{entry_id}/approve", token_from=f"/entries/{entry_id}")
    with app.app_context():
        mails = db.session.scalars(sa.select(OutboxMessage).order_by(OutboxMessage.to_email)).all()
        assert [m.to_email for m in mails] == ["colega@example.org", "reporter-mgp@example.org"]
        assert all(m.sent_at is not None for m in mails)
        assert mails[0].subject == "Su registro IND-PAR-2 (2025) fue validado"  # Spanish by default
        files = [app.config["MAIL_OUTBOX_FOLDER"] / f"{m.id:06d}.eml" for m in mails]
    assert all("IND-PAR-2" in f.read_text(encoding="utf-8") for f in files)
    page = colleague.get("/notifications").get_data(as_text=True)
    assert "IND-PAR-2" in page and "Validado" in page


def test_unread_count_and_mark_read(app, navy, committee):
    _save(navy, "IND-PAR-2", {"women": "5", "men": "20"}, send=True)
    entry_id = _entry(app, "IND-PAR-2").id
    committee.post_form(f"/entries/{entry_id}/return", {"note": "Revisar"}, token_from=f"/entries/{entry_id}")
    assert "1<span class=\"visually-hidden\">" in navy.get("/notifications").get_data(as_text=True)
    navy.post_form("/notifications/read", token_from="/notifications")
    with app.app_context():
        assert db.session.scalars(sa.select(Notification).filter_by(event="return")).one().read_at is not None
        # The committee's own notice of the submission is theirs to read, not the reporter's.
        assert db.session.scalars(sa.select(Notification).filter_by(event="entry_submitted")).one().read_at is None


def test_remind_lists_missing_items(app, navy):
    _save(navy, "IND-PAR-2", {"women": "5", "men": "20"}, send=True)
    result = app.test_cli_runner().invoke(args=["remind", "--year", str(YEAR)])
    assert result.exit_code == 0, result.output
    assert result.output.startswith("1 reminders queued")
    with app.app_context():
        note = db.session.scalars(sa.select(Notification).filter_by(event="reminder")).one().note
        mail = db.session.scalars(sa.select(OutboxMessage)).one()
    assert "IND-PAR-1" in note and "IND-PAR-2" not in note  # submitted items are not missing
    assert "IND-PAR-1" in mail.body


def test_remind_bad_arguments(app, peru):
    runner = app.test_cli_runner()
    no_cycle = runner.invoke(args=["remind", "--year", "1999"])
    assert no_cycle.exit_code == 1 and no_cycle.output.strip() == "Error: PE-2021 has no reporting cycle for 1999"
    no_plan = runner.invoke(args=["remind", "--year", "2025", "--plan", "XX"])
    assert no_plan.exit_code == 1 and "Traceback" not in no_plan.output


def test_links_in_command_line_mails_use_the_base_url(app, monkeypatch):
    """Outside a request (cron's digest, `tracker remind`) links are built on TRACKER_BASE_URL, relative without it."""
    from tracker.progress.notifications import external_url

    with app.app_context():
        assert external_url("progress.show_entry", entry_id=5) == "/entries/5"
        monkeypatch.setitem(app.config, "BASE_URL", "https://nap.example.gob.pe/seguimiento")
        assert external_url("progress.show_entry", entry_id=5) == "https://nap.example.gob.pe/seguimiento/entries/5"
