"""The deployment of deploy/ on more than one server (issue 18), started as its systemd units start it: the
environment of deploy/env.example, two web servers (the web unit's gunicorn command, on two ports), the worker
unit's command, and the reminders timer's commands, against one PostgreSQL database and one Redis.

Evidence uploaded through one web server is downloaded through the other; an e-mail queued by one is delivered by
the worker to a real SMTP server; a scheduled reminder fires; a worker killed in the middle of a job loses nothing:
the job runs again, once, on the next worker.

Skipped outside CI when PostgreSQL or Redis cannot be reached; in CI (CI=true) it must run, once: `make test` leaves it
to the PostgreSQL pass when there is one.
"""

from __future__ import annotations

import os
import re
import secrets
import shlex
import signal
import subprocess
import tempfile
import time
from contextlib import contextmanager
from datetime import date, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from e2e.browser import shot
from live_server import BIN, PROJECT, Browser, free_port, fresh_postgres_database, query_one, tracker, wait_until_serving
from smtp_server import smtp_server
from test_production_smoke import PG_ADMIN_URL, REDIS_URL, _create_account, _redis_answers, _unreachable, log_in_first_time

DEPLOY = PROJECT / "deploy"
INSTALLED_BIN = "/srv/nap-tracker/.venv/bin/"  # where the units expect the virtualenv; here, the project's own
JOB_TIMEOUT = 20  # seconds: a job whose worker died is handed on this long (and a minute) after it started
YEAR = date.today().year


def unit_commands(unit: str) -> list[list[str]]:
    """The ExecStart command lines of a unit in deploy/, with this checkout's virtualenv."""
    text = (DEPLOY / f"{unit}.service").read_text()
    lines = [line.split("=", 1)[1] for line in text.splitlines() if line.startswith("ExecStart=")]
    return [shlex.split(line.replace(INSTALLED_BIN, f"{BIN}/")) for line in lines]


def example_environment() -> dict[str, str]:
    """deploy/env.example as KEY=VALUE pairs."""
    pairs = [line.split("=", 1) for line in (DEPLOY / "env.example").read_text().splitlines()
             if line.strip() and not line.startswith("#")]
    return {key: value for key, value in pairs}


def start(command: list[str], env: dict) -> subprocess.Popen:
    """A unit's process in a session of its own (systemd's cgroup: stopping it stops its children too)."""
    log = tempfile.TemporaryFile(mode="w+")
    process = subprocess.Popen(command, env=env, cwd=PROJECT, stdout=log, stderr=subprocess.STDOUT, text=True,
                               start_new_session=True)
    process.log = log
    return process


def printed(process: subprocess.Popen) -> str:
    process.log.flush()
    process.log.seek(0)
    return process.log.read()


def kill(process: subprocess.Popen, sig: int = signal.SIGKILL) -> None:
    try:
        os.killpg(process.pid, sig)
    except ProcessLookupError:
        return
    process.wait(timeout=60)


def wait_for(what: str, check, timeout: float = 60):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = check()
        if found:
            return found
        time.sleep(0.1)
    pytest.fail(f"{what}: not within {timeout} s")


@pytest.fixture(scope="module")
def database_url():
    if os.environ.get("TRACKER_TEST_DEPLOYMENT") == "later":
        pytest.skip("runs once, in the PostgreSQL pass of `make test` that follows")
    if not _redis_answers():
        _unreachable(f"Redis does not answer at {REDIS_URL}")
    try:
        with fresh_postgres_database(PG_ADMIN_URL, "nap_multi") as url:
            yield url
    except sa.exc.OperationalError as exc:
        _unreachable(f"PostgreSQL is unreachable at {PG_ADMIN_URL}: {exc.orig}")


@pytest.fixture(scope="module")
def deployment(database_url, tmp_path_factory):
    """Two web servers, one worker and a real SMTP server, with deploy/env.example's settings (addresses, secrets
    and the second factor changed for the test); yields what the test needs to reach them."""
    redis_base = REDIS_URL.rsplit("/", 1)[0]
    with smtp_server() as (inbox, smtp_port):
        env = {k: v for k, v in os.environ.items() if not k.startswith("TRACKER_")}
        env.update(example_environment())
        env.update({
            "TRACKER_SECRET_KEY": secrets.token_urlsafe(48),
            "TRACKER_DATABASE_URL": database_url,
            "TRACKER_RATELIMIT_STORAGE_URI": f"{redis_base}/13",
            "TRACKER_RATELIMIT_KEY_PREFIX": f"nap-multi-{secrets.token_hex(4)}",
            "TRACKER_QUEUE_URL": f"{redis_base}/12",
            "TRACKER_QUEUE_NAME": f"multi-{secrets.token_hex(4)}",
            "TRACKER_JOB_RETRY_INTERVALS": "0,0",
            "TRACKER_JOB_TIMEOUT": str(JOB_TIMEOUT),
            "TRACKER_SMTP_HOST": "127.0.0.1", "TRACKER_SMTP_PORT": str(smtp_port), "TRACKER_SMTP_STARTTLS": "0",
            "TRACKER_REQUIRE_2FA_ROLES": "",  # the accounts below log in with a password only
            "TRACKER_WORKERS": "2",
            "PYTHONDONTWRITEBYTECODE": "1",
        })
        hosts = [tmp_path_factory.mktemp(f"host-{n}") for n in (1, 2)]
        ports = [free_port(), free_port()]
        envs = [{**env, "TRACKER_INSTANCE_PATH": str(host), "TRACKER_BIND": f"127.0.0.1:{port}",
                 "TRACKER_BASE_URL": f"http://127.0.0.1:{ports[0]}"} for host, port in zip(hosts, ports)]
        for step in (["db", "upgrade"], ["seed"]):
            result = tracker(envs[0], *step)
            assert result.returncode == 0, result.stderr
        _create_account(envs[0], "comite@mindef.example.pe", "committee", "PE:CIG-MINDEF", "PE-2021")
        _create_account(envs[0], "ejercito@ep.example.pe", "reporter", "PE:EP")
        (web_command,) = unit_commands("nap-tracker-web")
        webs = [start(web_command, e) for e in envs]
        (worker_command,) = unit_commands("nap-tracker-worker")
        running = {"worker": start(worker_command, envs[0])}
        try:
            for process, port in zip(webs, ports):
                wait_until_serving(process, port)
            yield {"hosts": [f"127.0.0.1:{port}" for port in ports], "env": envs[0], "inbox": inbox,
                   "folders": hosts, "worker_command": worker_command, "running": running}
        finally:
            for process in [*webs, *running.values()]:
                kill(process, signal.SIGTERM)


@pytest.fixture(scope="module")
def people(deployment):
    """The committee and the Army's reporter, logged in on the first web server; the year's cycle open, its
    deadline in a week."""
    first = deployment["hosts"][0]
    committee, army = Browser(first), Browser(first)
    log_in_first_time(committee, "comite@mindef.example.pe")
    log_in_first_time(army, "ejercito@ep.example.pe")
    opened = committee.post("/plans/PE-2021/cycles", {"year": str(YEAR),
                                                      "deadline": (date.today() + timedelta(days=7)).isoformat()})
    assert opened.status == 302, opened.text[:500]
    return {"committee": committee, "army": army}


@contextmanager
def watching(chromium, host: str, visitor: Browser, path: str):
    """The page at `path` open in Chromium twice, logged in as `visitor` is: with JavaScript, and without; and the
    status requests the first one's script makes. `chromium` is the suite's browser (tests/e2e/browser.py): one
    Playwright per process."""
    contexts, pages, polls = [], [], []
    for javascript in (True, False):
        context = chromium.new_context(base_url=f"http://{host}", locale="es-PE", java_script_enabled=javascript,
                                       extra_http_headers={"X-Forwarded-Proto": "https"})
        contexts.append(context)
        context.add_cookies([{"name": name, "value": value, "url": f"http://{host}"}
                             for name, value in visitor.cookies.items()])
        page = context.new_page()
        page.on("request", lambda request: polls.append(request.url) if request.url.endswith(".json") else None)
        page.goto(path)
        assert page.locator("progress").count() == 1, page.content()[:2000]
        pages.append(page)
    shot(pages[0], "task-progress-es")
    try:
        yield pages[0], pages[1], polls
    finally:
        for context in contexts:
            context.close()


def on(host: str, browser: Browser) -> Browser:
    """The same browser, its next requests served by another server."""
    other = Browser(host)
    other.cookies = dict(browser.cookies)
    return other


def test_evidence_saved_through_one_server_is_downloaded_through_the_other(deployment, people, database_url):
    entry_url = f"/plans/PE-2021/report/{YEAR}/indicators/IND-PAR-1"
    army = people["army"]
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', army.get(entry_url).text).group(1)
    pdf = b"%PDF-1.4\n% lista de participantes\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
    saved = army.request("POST", entry_url, {"csrf_token": token, "women": "4", "men": "16", "narrative": "UNISFA",
                                             "data_source": "DIPER", "version": "", "save": "1"},
                         files={"evidence": ("lista.pdf", pdf)})
    assert saved.status == 302, saved.text[:800]
    evidence_id = query_one(database_url, "SELECT max(id) FROM evidence")
    entry_id = query_one(database_url, "SELECT entry_id FROM evidence WHERE id = :id", id=evidence_id)
    downloaded = on(deployment["hosts"][1], army).get(f"/entries/{entry_id}/evidence/{evidence_id}")
    assert downloaded.status == 200 and downloaded.body == pdf
    assert [p for folder in deployment["folders"] for p in Path(folder).rglob("*") if p.is_file()
            and p.read_bytes() == pdf] == []


def test_mail_queued_by_one_server_is_delivered_by_the_worker(deployment, people, database_url):
    army_entry = query_one(database_url, "SELECT e.id FROM entry e JOIN institution i ON i.id = e.institution_id "
                                         "WHERE i.code = 'EP' ORDER BY e.id DESC LIMIT 1")
    committee = on(deployment["hosts"][1], people["committee"])
    posted = committee.post(f"/entries/{army_entry}/comments", {"body": "Adjunten el acta firmada."},
                            token_from=f"/entries/{army_entry}")
    assert posted.status == 302, posted.text[:500]
    inbox = deployment["inbox"]
    mail = wait_for("the comment's e-mail", lambda: [m for m in inbox.to("ejercito@ep.example.pe")
                                                      if "Adjunten el acta firmada." in m.get_payload(decode=True).decode()])
    assert len(mail) == 1


def test_the_scheduler_s_reminder_fires_and_the_worker_delivers_it(deployment, people, database_url):
    for command in unit_commands("nap-tracker-reminders"):  # what the daily timer runs
        result = subprocess.run(command, env=deployment["env"], cwd=PROJECT, capture_output=True, text=True, timeout=120)
        assert result.returncode == 0, result.stderr
    assert query_one(database_url, "SELECT count(*) FROM scheduled_reminder s JOIN institution i ON i.id = "
                                   "s.institution_id WHERE i.code = 'EP' AND s.days_before = 7") == 1
    inbox = deployment["inbox"]
    wait_for("the reminder e-mail", lambda: [m for m in inbox.to("ejercito@ep.example.pe") if "Recordatorio" in m["Subject"]])


def test_a_worker_killed_in_the_middle_of_a_job_loses_nothing(deployment, people, database_url, browser):
    """The final report is made by a task on the worker; the worker is killed while it runs (SIGKILL, as a crash or
    the OOM killer would); the next worker runs it again, once, and the report is stored exactly once."""
    committee = people["committee"]
    validated = committee.post(f"/reports/PE-2021/{YEAR}/validation",
                               {"validated_on": date.today().isoformat(), "minutes_reference": "Acta 7-CIG",
                                "recommendations": ""}, token_from="/reports")
    assert validated.status in (200, 302), validated.text[:500]
    finalized = committee.post(f"/reports/PE-2021/{YEAR}/finalize", {}, token_from=f"/reports?plan=PE-2021&year={YEAR}")
    assert finalized.status == 302 and finalized.location.startswith("/tasks/"), finalized.text[:500]
    task_id = int(finalized.location.rsplit("/", 1)[1])
    state = "SELECT state FROM background_task WHERE id = :id"
    wait_for("the task to start", lambda: query_one(database_url, state, id=task_id) == "running")
    kill(deployment["running"].pop("worker"))
    assert query_one(database_url, state, id=task_id) == "running"
    assert query_one(database_url, "SELECT count(*) FROM final_report") == 0  # nothing half stored
    status = on(deployment["hosts"][1], committee).get(f"/tasks/{task_id}.json")
    assert status.status == 200 and '"finished": false' in status.text.replace(":false", ": false")
    with watching(browser, deployment["hosts"][1], committee, f"/tasks/{task_id}") as (scripted, plain, polls):
        # The job is handed on once its worker's lease has run out: a minute after its timeout.
        time.sleep(JOB_TIMEOUT + 62)
        deployment["running"]["worker"] = start(deployment["worker_command"], deployment["env"])
        wait_for("the task to run again", lambda: query_one(database_url, state, id=task_id) == "done", timeout=120)
        # Both pages show the outcome by themselves: the script (which asked for the status meanwhile, without
        # reloading) reloads once it is finished; without JavaScript the page refreshes itself.
        for page in (scripted, plain):
            page.wait_for_selector("text=(versión 1)", timeout=30_000)
        assert polls and not scripted.locator("progress").count()
        shot(scripted, "task-done-es")
    assert query_one(database_url, "SELECT runs FROM background_task WHERE id = :id", id=task_id) == 2
    assert query_one(database_url, "SELECT count(*) FROM final_report") == 10
    assert query_one(database_url, "SELECT count(DISTINCT version) FROM final_report") == 1
    page = on(deployment["hosts"][1], committee).get(f"/tasks/{task_id}")
    assert page.status == 200 and "(versión 1)" in page.text
