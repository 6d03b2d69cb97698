"""Production as an operator runs it: the environment set before anything is imported, the real CLI,
gunicorn with two workers, a fresh PostgreSQL database and Redis, and a whole journey over HTTP.

Skipped outside CI when PostgreSQL or Redis cannot be reached; in CI (CI=true) it must run.
"""

from __future__ import annotations

import os
import re
import secrets
import socket
import urllib.parse
from datetime import date

import pytest
import sqlalchemy as sa

from live_server import (Browser, exit_output, free_port, fresh_postgres_database, output, query_one, start_gunicorn, stop, tracker,
                         wait_until_serving)
PG_ADMIN_URL = os.environ.get("TRACKER_SMOKE_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
REDIS_URL = os.environ.get("TRACKER_SMOKE_REDIS_URL", "redis://127.0.0.1:6379/0")
FIRST_PASSWORD = "Temporary-Smoke-Pass-2026"
NEW_PASSWORD = "Lantern-Quarry-Mosaic-71"
YEAR = date.today().year


def _unreachable(reason: str):
    if os.environ.get("CI") == "true":
        pytest.fail(f"the production smoke test must run in CI: {reason}")
    pytest.skip(reason)


def _redis_answers() -> bool:
    parsed = urllib.parse.urlparse(REDIS_URL)
    try:
        with socket.create_connection((parsed.hostname, parsed.port or 6379), timeout=2) as sock:
            sock.sendall(b"PING\r\n")
            return sock.recv(16).startswith(b"+PONG")
    except OSError:
        return False


@pytest.fixture(scope="module")
def database_url():
    """A fresh PostgreSQL database for this module, dropped afterwards."""
    if not _redis_answers():
        _unreachable(f"Redis does not answer at {REDIS_URL}")
    try:
        with fresh_postgres_database(PG_ADMIN_URL, "nap_smoke") as url:
            yield url
    except sa.exc.OperationalError as exc:
        _unreachable(f"PostgreSQL is unreachable at {PG_ADMIN_URL}: {exc.orig}")


@pytest.fixture(scope="module")
def production_env(database_url, tmp_path_factory):
    """The environment of a production host: nothing of the test run's own TRACKER_* settings."""
    instance = tmp_path_factory.mktemp("production-instance")
    env = {k: v for k, v in os.environ.items() if not k.startswith("TRACKER_")}
    env.update({
        "TRACKER_ENV": "production",
        "TRACKER_SECRET_KEY": secrets.token_urlsafe(48),
        "TRACKER_DATABASE_URL": database_url,
        "TRACKER_RATELIMIT_STORAGE_URI": REDIS_URL,
        "TRACKER_RATELIMIT_KEY_PREFIX": f"nap-smoke-{secrets.token_hex(4)}",  # counters of earlier runs stay in Redis
        "TRACKER_INSTANCE_PATH": str(instance),
        # Behind a TLS-terminating proxy, as in production: the client below sends X-Forwarded-Proto.
        "TRACKER_PROXY_HOPS": "1",
        "PYTHONDONTWRITEBYTECODE": "1",
    })
    return env


@pytest.fixture(scope="module")
def server(production_env):
    """Migrated, seeded and serving: what `tracker db upgrade`, `tracker seed` and gunicorn give an operator."""
    for step in (["db", "upgrade"], ["seed"]):
        result = tracker(production_env, *step)
        assert result.returncode == 0, result.stderr
    port = free_port()
    process = start_gunicorn(production_env, port)
    wait_until_serving(process, port)
    yield f"127.0.0.1:{port}"
    stop(process)


def log_in_first_time(browser: Browser, email: str) -> None:
    """Log in with the temporary password and change it, as the first login requires."""
    response = browser.post("/login", {"email": email, "password": FIRST_PASSWORD})
    assert response.status == 302 and response.location == "/account/password", response.text[:300]
    changed = browser.post("/account/password", {"current_password": FIRST_PASSWORD, "password": NEW_PASSWORD,
                                                 "confirm": NEW_PASSWORD})
    assert changed.status == 302, changed.text[:500]


def _create_account(env: dict, email: str, role: str, institution: str, *plans: str) -> None:
    result = tracker(env, "users", "create", email, "--role", role, "--institution", institution,
                     *[arg for plan in plans for arg in ("--plan", plan)], stdin=FIRST_PASSWORD + "\n")
    assert result.returncode == 0, result.stderr
    assert f"Created {email}" in result.stdout


def test_production_serves_the_whole_journey(server, production_env, database_url):
    _create_account(production_env, "marina@mgp.example.pe", "reporter", "PE:MGP")
    _create_account(production_env, "comite@mindef.example.pe", "committee", "PE:CIG-MINDEF", "PE-2021")
    health = Browser(server).get("/health")
    assert health.status == 200 and b'"ok"' in health.body

    committee = Browser(server)
    log_in_first_time(committee, "comite@mindef.example.pe")
    opened = committee.post("/plans/PE-2021/cycles", {"year": str(YEAR), "deadline": f"{YEAR + 1}-03-31"})
    assert opened.status == 302, opened.text[:500]

    navy = Browser(server)
    log_in_first_time(navy, "marina@mgp.example.pe")
    entry_url = f"/plans/PE-2021/report/{YEAR}/indicators/IND-PAR-2"
    sent = navy.post(entry_url, {"women": "37", "men": "199", "narrative": "MINUSCA (RCA) 60", "data_source": "DIPER",
                                 "send": "1", "version": ""})
    assert sent.status == 302, sent.text[:800]

    queue = committee.get("/review")
    assert queue.status == 200
    entry_id = re.search(r'/entries/(\d+)"', queue.text).group(1)
    approved = committee.post(f"/entries/{entry_id}/approve", token_from=f"/entries/{entry_id}")
    assert approved.status == 302

    stored = query_one(database_url, "SELECT state || ' ' || women || ' ' || men FROM entry WHERE id = :id", id=int(entry_id))
    assert stored == "approved 37 199"

    report = committee.get(f"/reports/PE-2021/{YEAR}.pdf?lang=es")
    assert report.status == 200
    assert report.headers["Content-Type"] == "application/pdf"
    assert report.body.startswith(b"%PDF")
    assert "no-store" in report.headers.get("Cache-Control", "")
    for page in ("/dashboard", "/review", f"/plans/PE-2021/report/{YEAR}"):
        assert committee.get(page).status in (200, 403), page

    copied = Browser(server)
    copied.cookies = dict(committee.cookies)  # a cookie taken before the logout
    assert copied.get("/review").status == 200
    assert committee.post("/logout", token_from="/review").status == 302
    after = copied.get("/review")
    assert after.status == 302 and after.location == "/login"


def test_production_sets_secure_cookies_and_hsts(server):
    browser = Browser(server)
    response = browser.get("/login")
    assert response.status == 200
    assert response.headers["Strict-Transport-Security"].startswith("max-age=")
    login = browser.post("/login", {"email": "nobody@example.org", "password": "wrong-password-123"})
    assert login.status == 401
    cookies = " ".join(login.headers.get_all("Set-Cookie") or [])
    assert "Secure" in cookies and "HttpOnly" in cookies


def test_login_throttling_is_shared_by_the_workers(server):
    """Five failures lock the account, whichever of the two workers answered each attempt."""
    email = f"throttle-{secrets.token_hex(4)}@example.org"
    statuses = [Browser(server).post("/login", {"email": email, "password": "not-the-password-1"}).status for _ in range(7)]
    assert statuses[:5] == [401] * 5
    assert statuses[5:] == [429, 429]


@pytest.mark.parametrize("key", ["", "short-key", "dev-only-not-secret", "k3y-" + "x" * 40, "abcd1234" * 6])
def test_gunicorn_refuses_a_weak_key_with_one_line(production_env, key):
    env = {**production_env, "TRACKER_SECRET_KEY": key}
    process = start_gunicorn(env, free_port())
    output = exit_output(process)
    assert process.returncode != 0
    assert "Traceback" not in output
    errors = [line for line in output.splitlines() if line.startswith("Error:")]
    assert len(errors) == 1 and "TRACKER_SECRET_KEY" in errors[0] and "secrets.token_urlsafe(48)" in errors[0]


def test_gunicorn_refuses_memory_throttling_storage(production_env):
    env = {**production_env, "TRACKER_RATELIMIT_STORAGE_URI": "memory://"}
    process = start_gunicorn(env, free_port())
    output = exit_output(process)
    assert process.returncode != 0 and "Traceback" not in output
    (error,) = [line for line in output.splitlines() if line.startswith("Error:")]
    assert "TRACKER_RATELIMIT_STORAGE_URI=redis://" in error


def test_gunicorn_refuses_an_unmigrated_database(production_env, tmp_path):
    env = {**production_env, "TRACKER_DATABASE_URL": f"sqlite:///{tmp_path / 'empty.sqlite3'}"}
    process = start_gunicorn(env, free_port())
    output = exit_output(process)
    assert process.returncode != 0 and "Traceback" not in output
    (error,) = [line for line in output.splitlines() if line.startswith("Error:")]
    assert "tracker db upgrade" in error


def test_cli_works_with_a_strong_key_set_before_import(server, production_env):
    result = tracker(production_env, "db", "current")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip()


def test_production_refuses_to_serve_demo_accounts_until_they_are_purged(server, production_env):
    created = tracker(production_env, "users", "create", "comite@demo.example.org", "--role", "viewer",
                      stdin=FIRST_PASSWORD + "\n")
    assert created.returncode == 0, created.stderr
    refused = start_gunicorn(production_env, free_port())
    output = exit_output(refused)
    assert refused.returncode != 0 and "Traceback" not in output
    (error,) = [line for line in output.splitlines() if line.startswith("Error:")]
    assert "demo" in error and "tracker demo purge" in error

    purged = tracker(production_env, "demo", "purge", "--yes")
    assert purged.returncode == 0, purged.stderr
    port = free_port()
    serving = start_gunicorn(production_env, port)
    try:
        wait_until_serving(serving, port)
        login = Browser(f"127.0.0.1:{port}").post("/login", {"email": "comite@demo.example.org", "password": FIRST_PASSWORD})
        assert login.status == 401
    finally:
        stop(serving)


def test_two_app_servers_share_stored_files_through_the_database(server, production_env, database_url, tmp_path):
    """Issue 18: two app servers with TRACKER_STORAGE=database and no shared disk. Evidence uploaded through one is
    downloaded through the other; neither server's instance folder holds it."""
    hosts = [tmp_path / "host-1", tmp_path / "host-2"]
    envs = [{**production_env, "TRACKER_STORAGE": "database", "TRACKER_INSTANCE_PATH": str(host)} for host in hosts]
    _create_account(production_env, "ejercito@ep.example.pe", "reporter", "PE:EP")
    _create_account(production_env, "comite2@mindef.example.pe", "committee", "PE:CIG-MINDEF", "PE-2021")
    ports = [free_port(), free_port()]
    servers = [start_gunicorn(env, port) for env, port in zip(envs, ports)]
    try:
        for process, port in zip(servers, ports):
            wait_until_serving(process, port)
        first, second = (f"127.0.0.1:{port}" for port in ports)
        committee = Browser(first)
        log_in_first_time(committee, "comite2@mindef.example.pe")
        committee.post("/plans/PE-2021/cycles", {"year": str(YEAR), "deadline": f"{YEAR + 1}-03-31"})  # open, if not yet
        army = Browser(first)
        log_in_first_time(army, "ejercito@ep.example.pe")
        entry_url = f"/plans/PE-2021/report/{YEAR}/indicators/IND-PAR-1"
        token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', army.get(entry_url).text).group(1)
        pdf = b"%PDF-1.4\n% acta del despliegue\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
        saved = army.request("POST", entry_url, {"csrf_token": token, "women": "4", "men": "16", "narrative": "UNISFA",
                                                 "data_source": "DIPER", "version": "", "save": "1"},
                             files={"evidence": ("acta.pdf", pdf)})
        assert saved.status == 302, saved.text[:800]
        evidence_id = query_one(database_url, "SELECT max(id) FROM evidence")
        entry_id = query_one(database_url, "SELECT entry_id FROM evidence WHERE id = :id", id=evidence_id)
        assert query_one(database_url, "SELECT count(*) FROM stored_file WHERE key = "
                                       "(SELECT stored_name FROM evidence WHERE id = :id)", id=evidence_id) == 1
        elsewhere = Browser(second)
        elsewhere.cookies = dict(army.cookies)  # the same browser, its next request served by the other server
        downloaded = elsewhere.get(f"/entries/{entry_id}/evidence/{evidence_id}")
        assert downloaded.status == 200 and downloaded.body == pdf
        assert [p for host in hosts for p in host.rglob("*") if p.is_file() and p.read_bytes() == pdf] == []
    finally:
        for process in servers:
            stop(process)


def test_a_worker_process_delivers_what_the_web_servers_queued(server, production_env, database_url, tmp_path):
    """Issue 18: with TRACKER_QUEUE_URL, gunicorn only queues the e-mail of a comment; `tracker worker`, another
    process, delivers it to a real SMTP server."""
    from smtp_server import smtp_server

    with smtp_server() as (inbox, smtp_port):
        env = {**production_env, "TRACKER_QUEUE_URL": REDIS_URL.rsplit("/", 1)[0] + "/14",
               "TRACKER_QUEUE_NAME": f"smoke-{secrets.token_hex(4)}", "TRACKER_SMTP_HOST": "127.0.0.1",
               "TRACKER_SMTP_PORT": str(smtp_port), "TRACKER_SMTP_STARTTLS": "0"}
        _create_account(production_env, "fap@fap.example.pe", "reporter", "PE:FAP")
        _create_account(production_env, "comite3@mindef.example.pe", "committee", "PE:CIG-MINDEF", "PE-2021")
        port = free_port()
        web = start_gunicorn(env, port)
        try:
            wait_until_serving(web, port)
            host = f"127.0.0.1:{port}"
            committee = Browser(host)
            log_in_first_time(committee, "comite3@mindef.example.pe")
            committee.post("/plans/PE-2021/cycles", {"year": str(YEAR), "deadline": f"{YEAR + 1}-03-31"})  # if not open yet
            fap = Browser(host)
            log_in_first_time(fap, "fap@fap.example.pe")
            saved = fap.post(f"/plans/PE-2021/report/{YEAR}/indicators/IND-PAR-1",
                             {"women": "2", "men": "9", "narrative": "UNMISS", "save": "1", "version": ""})
            assert saved.status == 302, saved.text[:500]
            entry_id = query_one(database_url, "SELECT e.id FROM entry e JOIN institution i ON i.id = e.institution_id "
                                               "WHERE i.code = 'FAP' ORDER BY e.id DESC LIMIT 1")
            posted = committee.post(f"/entries/{entry_id}/comments", {"body": "Indiquen la fuente."},
                                    token_from=f"/entries/{entry_id}")
            assert posted.status == 302, posted.text[:500]
            assert inbox.messages == []  # queued by the web server (the comment, the password change), not sent by it
            worked = tracker(env, "worker", "--burst")
            assert worked.returncode == 0, worked.stderr
            (mail,) = [m for m in inbox.to("fap@fap.example.pe") if "IND-PAR-1" in m["Subject"]]
            assert "Indiquen la fuente." in mail.get_payload(decode=True).decode()
            assert query_one(database_url, "SELECT count(*) FROM outbox_message WHERE to_email = 'fap@fap.example.pe' "
                                           "AND sent_at IS NULL") == 0
        finally:
            stop(web)


def test_production_logs_are_json_lines_with_the_request_id(server, production_env):
    """gunicorn's access log and the app's own lines are JSON objects naming the id sent back in X-Request-Id."""
    import json

    port = free_port()
    process = start_gunicorn(production_env, port, workers=1)
    try:
        wait_until_serving(process, port)
        response = Browser(f"127.0.0.1:{port}").get("/login")
        request_id = response.headers["X-Request-Id"]
        assert response.status == 200 and len(request_id) == 32
    finally:
        stop(process)
    access = [json.loads(line) for line in output(process).splitlines() if line.startswith("{") and request_id in line]
    assert [(a["method"], a["path"], a["status"]) for a in access] == [("GET", "/login", 200)]
