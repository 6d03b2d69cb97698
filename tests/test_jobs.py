"""Background jobs (issue 18): e-mails go out after the commit, through a real SMTP server (aiosmtpd); with
TRACKER_QUEUE_URL a real RQ worker on Redis delivers them, retrying with backoff, and what still failed is on the
admins' outbox page. Skipped outside CI when Redis does not answer; in CI it must run."""

from __future__ import annotations


from conftest import logged_in, outbox_to, page_text
from smtp_server import free_port, smtp_server
from tracker import jobs
from tracker.auth.models import Role

EN = {"Accept-Language": "en"}


def _comment(app, review_world, body: str) -> None:
    url = f"/entries/{review_world['entry']}"
    committee = logged_in(app, review_world["committee"])
    assert committee.post_form(f"{url}/comments", {"body": body}, token_from=url).status_code == 302


def test_without_a_queue_the_mail_goes_out_right_after_the_commit(app, review_world, smtp):
    _comment(app, review_world, "¿Cuál es la fuente del salto?")
    (mail,) = smtp.to(review_world["navy"])
    assert "IND-PAR-1" in mail["Subject"] and "¿Cuál es la fuente del salto?" in mail.get_payload(decode=True).decode()
    (row,) = outbox_to(app, review_world["navy"])
    assert row.sent_at is not None and row.attempts == 0


def test_a_worker_delivers_the_queued_mail(app, review_world, smtp, queue):
    _comment(app, review_world, "Adjunten el acta, por favor.")
    (row,) = outbox_to(app, review_world["navy"])
    assert row.sent_at is None and smtp.messages == []  # queued, not sent by the request
    with app.app_context():
        jobs.work(burst=True)
    (mail,) = smtp.to(review_world["navy"])
    assert "Adjunten el acta" in mail.get_payload(decode=True).decode()
    assert outbox_to(app, review_world["navy"])[0].sent_at is not None


def test_failed_deliveries_are_retried_then_shown_to_admins_and_sent_later(app, review_world, queue, monkeypatch,
                                                                            login_as, cli):
    for key, value in {"SMTP_HOST": "127.0.0.1", "SMTP_PORT": free_port(), "SMTP_STARTTLS": False}.items():
        monkeypatch.setitem(app.config, key, value)  # nothing listens there
    _comment(app, review_world, "Falta la fuente.")
    with app.app_context():
        jobs.work(burst=True)
        assert jobs._queue().failed_job_registry.count == 1  # the first try and its two retries failed
    (row,) = outbox_to(app, review_world["navy"])
    assert (row.sent_at, row.attempts) == (None, 3) and row.error and row.last_attempt_at is not None
    admin = login_as(Role.admin)
    page = page_text(admin.get("/admin/outbox", headers=EN))
    assert review_world["navy"] in page and "IND-PAR-1" in page and " 3 " in page
    with smtp_server() as (inbox, port):
        monkeypatch.setitem(app.config, "SMTP_PORT", port)
        result = cli("mail", "send")  # with a queue: handed to the worker, the one sender
        assert result.exit_code == 0 and "1 e-mails handed to the worker's queue." in result.output
        with app.app_context():
            jobs.work(burst=True)
        assert len(inbox.to(review_world["navy"])) == 1
    assert "Every e-mail has been delivered." in page_text(admin.get("/admin/outbox", headers=EN))


def test_the_worker_command_needs_a_queue(cli):
    result = cli("worker", "--burst")
    assert result.exit_code == 1 and "TRACKER_QUEUE_URL is not set" in result.output


def test_ready_names_what_does_not_answer(client, app, monkeypatch):
    response = client.get("/ready")
    assert response.status_code == 200 and response.json == {"status": "ok", "database": "ok", "throttling": "in memory",
                                                               "queue": "in process"}
    monkeypatch.setitem(app.config, "QUEUE_URL", f"redis://127.0.0.1:{free_port()}/0")  # nothing listens there
    response = client.get("/ready")
    assert response.status_code == 503 and response.json["queue"] == "unreachable" and response.json["database"] == "ok"
