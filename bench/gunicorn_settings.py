"""Benchmark: gunicorn's workers, threads and timeout for NAP Tracker, measured on this host with the real server.

    .venv/bin/python bench/gunicorn_settings.py --database-url URL [--duration 20] [--connections 16]

URL is an empty PostgreSQL database of your own (CREATE DATABASE first, drop it afterwards); Redis must answer at
--redis-url (login throttling, as production requires). The script does what an operator does: `tracker db upgrade`
and `tracker seed` with TRACKER_ENV=production, then adds real (not demo: production refuses demo data) approved
entries for every responsibility of Peru's plan, 2022 to last year, and an open cycle this year; it creates a
committee member and a Navy reporter with `tracker users create`. For each configuration of the sweep it starts
`gunicorn -c deploy/gunicorn.conf.py tracker.wsgi:app` with --workers, --worker-class, --threads on the command line
(which override the file), logs in once, loads the committee dashboard (and, shorter, /plans/PE-2021 and /health)
with wrk and reads each worker's memory from /proc. Last, on one server, it times the slowest normal requests
(annual report in every format, the bulk-import template) one at a time and while the dashboard is under load, to
choose the worker timeout. It prints Markdown tables. Load generator and server share the host's cores: compare the
rows with each other, not with another machine. Not a test: nothing is asserted.
"""

from __future__ import annotations

import argparse
import html
import http.client
import json
import os
import random
import re
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from http.cookies import SimpleCookie
from pathlib import Path

PROJECT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
PLAN = "PE-2021"
PASSWORD = "Bench-Lantern-Quarry-2026"
COMMITTEE = ("comite@bench.example.pe", "committee", "PE:CIG-MINDEF")
REPORTER = ("marina@bench.example.pe", "reporter", "PE:MGP")
THIS_YEAR = date.today().year
FIRST_YEAR = 2022
# (worker class, workers, threads): the sweep the defaults measure.
SWEEP = "sync:2,sync:3,sync:5,gthread:2x2,gthread:2x4,gthread:3x2,gthread:3x4"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", required=True, help="an empty PostgreSQL database, e.g. "
                        "postgresql+psycopg://postgres@127.0.0.1:5432/gbench")
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/14", help="login throttling storage")
    parser.add_argument("--configs", default=SWEEP, help=f"comma-separated sync:N or gthread:NxT (default {SWEEP})")
    parser.add_argument("--duration", type=int, default=20, help="seconds of load on the dashboard per configuration")
    parser.add_argument("--side-duration", type=int, default=10, help="seconds on the plan page and /health (0: skip)")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--probe-config", default="sync:2", help="the server the slow requests are timed on")
    parser.add_argument("--repeat", type=int, default=3, help="times each slow request is timed")
    args = parser.parse_args()

    configs = [Config.parse(text) for text in args.configs.split(",") if text.strip()]
    env = production_env(args.database_url, args.redis_url)
    instance = Path(env["TRACKER_INSTANCE_PATH"])
    try:
        prepare(env)
        load = Wrk(args.connections) if shutil.which("wrk") else PythonLoad(args.connections)
        print(f"# gunicorn settings on {os.cpu_count()} cores ({load.name}, {args.connections} connections)\n")
        results = [measure(env, config, load, args.duration, args.side_duration) for config in configs]
        print_sweep(results, args)
        probe(env, Config.parse(args.probe_config), load, args.repeat)
    finally:
        shutil.rmtree(instance, ignore_errors=True)


# -- the host, as production runs it ---------------------------------------------------------------


def production_env(database_url: str, redis_url: str) -> dict[str, str]:
    """A production host's environment, nothing of the caller's own TRACKER_* settings."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("TRACKER_")}
    env.update({
        "TRACKER_ENV": "production",
        "TRACKER_SECRET_KEY": secrets.token_hex(32),
        "TRACKER_DATABASE_URL": database_url,
        "TRACKER_RATELIMIT_STORAGE_URI": redis_url,
        "TRACKER_RATELIMIT_KEY_PREFIX": f"nap-bench-{secrets.token_hex(4)}",
        "TRACKER_INSTANCE_PATH": tempfile.mkdtemp(prefix="nap-gunicorn-bench-"),
        # Behind a TLS-terminating proxy: the clients below send X-Forwarded-Proto, as nginx would.
        "TRACKER_PROXY_HOPS": "1",
        "PYTHONDONTWRITEBYTECODE": "1",
    })
    return env


def tracker(env: dict, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([str(BIN / "tracker"), *args], env=env, input=stdin, capture_output=True, text=True,
                          cwd=PROJECT, timeout=300)


def prepare(env: dict) -> None:
    """Migrate, seed, add real entries and the two accounts; each step leaves what is already there."""
    for step in (["db", "upgrade"], ["seed"]):
        result = tracker(env, *step)
        if result.returncode != 0:
            sys.exit(f"tracker {' '.join(step)} failed:\n{result.stderr}")
    for email, role, institution in (COMMITTEE, REPORTER):
        plans = ["--plan", PLAN] if role == "committee" else []
        result = tracker(env, "users", "create", email, "--role", role, "--institution", institution, *plans,
                         "--no-change-required", stdin=PASSWORD + "\n")
        if result.returncode != 0 and "already" not in (result.stderr + result.stdout).lower():
            sys.exit(f"tracker users create {email} failed:\n{result.stderr}")
    saved_env = dict(os.environ)
    os.environ.update(env)
    try:
        created = add_entries()
    finally:
        os.environ.clear()
        os.environ.update(saved_env)
    print(f"<!-- data: {created} entries added to {PLAN} -->", file=sys.stderr)


def add_entries() -> int:
    """Approved entries by every responsible institution for every item, 2022 to last year (closed cycles), and
    this year open with a mix of drafts and submitted entries: what a plan in its fifth year holds."""
    import sqlalchemy as sa

    from tracker import create_app
    from tracker.db import db
    from tracker.plan import models as pm
    from tracker.progress.models import (ActionStatus, CycleState, Entry, EntryKind, EntryState, EntryVersion,
                                         ReportingCycle)

    app = create_app()
    rng = random.Random(1325)
    created = 0
    with app.app_context():
        session = db.session
        plan = session.scalars(sa.select(pm.Plan).filter_by(code=PLAN)).one()
        if session.scalar(sa.select(sa.func.count()).select_from(ReportingCycle).filter_by(plan_id=plan.id)):
            db.engine.dispose()
            return 0
        indicators = session.execute(sa.select(pm.Indicator, pm.IndicatorInstitution.institution_id)
                                     .join(pm.IndicatorInstitution).where(pm.Indicator.plan_id == plan.id)).all()
        actions = session.execute(sa.select(pm.Action, pm.ActionInstitution.institution_id)
                                  .join(pm.ActionInstitution).where(pm.Action.plan_id == plan.id)).all()
        for year in range(FIRST_YEAR, THIS_YEAR + 1):
            is_open = year == THIS_YEAR
            cycle = ReportingCycle(plan_id=plan.id, year=year, deadline=date(year + 1, 3, 31),
                                   state=CycleState.open if is_open else CycleState.closed)
            session.add(cycle)
            session.flush()
            at = datetime(min(year + 1, THIS_YEAR), 3, 15, 12, tzinfo=timezone.utc)
            rows = [(EntryKind.indicator, item, inst) for item, inst in indicators]
            rows += [(EntryKind.action, item, inst) for item, inst in actions]
            for kind, item, institution_id in rows:
                if is_open and rng.random() < 0.4:
                    continue  # not reported yet
                state = rng.choice([EntryState.draft, EntryState.submitted]) if is_open else EntryState.approved
                values = indicator_values(item, rng) if kind == EntryKind.indicator else {
                    "action_status": rng.choice(list(ActionStatus)), "done": "Actividades del año según el informe anual."}
                entry = Entry(cycle_id=cycle.id, institution_id=institution_id, kind=kind, state=state, version=1,
                              indicator_id=item.id if kind == EntryKind.indicator else None,
                              action_id=item.id if kind == EntryKind.action else None,
                              submitted_at=at if state != EntryState.draft else None,
                              reviewed_at=at + timedelta(days=5) if state == EntryState.approved else None, **values)
                session.add(entry)
                session.flush()
                session.add(EntryVersion(entry_id=entry.id, number=1, event="imported", state=state,
                                         data=json.dumps(entry.snapshot(), default=str), user_name="bench"))
                created += 1
        session.commit()
    db.engine.dispose()
    return created


def indicator_values(indicator, rng: random.Random) -> dict:
    from tracker.plan.models import Measure

    base = {"narrative": "Según registros institucionales.", "data_source": "Registro institucional"}
    if indicator.measure == Measure.yes_no:
        return {**base, "value_bool": rng.random() < 0.7}
    if indicator.measure == Measure.qualitative:
        return {**base, "value_text": "Avance cualitativo descrito en el informe."}
    if indicator.measure == Measure.percentage:
        denominator = rng.randint(50, 200)
        numerator = rng.randint(0, denominator)
        return {**base, "numerator": Decimal(numerator), "denominator": Decimal(denominator),
                "value": (Decimal(numerator) * 100 / denominator).quantize(Decimal("0.0001"))}
    if indicator.counts_people:
        women, men = rng.randint(5, 60), rng.randint(20, 220)
        return {**base, "women": women, "men": men, "value": Decimal(women + men)}
    return {**base, "value": Decimal(rng.randint(0, 120))}


# -- one gunicorn server -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Config:
    worker_class: str
    workers: int
    threads: int = 1

    @classmethod
    def parse(cls, text: str) -> Config:
        kind, _, size = text.strip().partition(":")
        if kind == "sync":
            return cls("sync", int(size))
        if kind == "gthread":
            workers, _, threads = size.partition("x")
            return cls("gthread", int(workers), int(threads or 1))
        raise SystemExit(f"unknown configuration {text!r}: use sync:N or gthread:NxT")

    @property
    def label(self) -> str:
        return f"sync, {self.workers} workers" if self.worker_class == "sync" else \
            f"gthread, {self.workers} workers x {self.threads} threads"

    def flags(self) -> list[str]:
        flags = ["--workers", str(self.workers), "--worker-class", self.worker_class]
        return flags + (["--threads", str(self.threads)] if self.worker_class == "gthread" else [])


class Server:
    """gunicorn with the project's settings file; the flags given override it, as GUNICORN_CMD_ARGS would."""

    def __init__(self, env: dict, config: Config, *extra: str):
        self.port = free_port()
        self.log = tempfile.TemporaryFile(mode="w+")  # a pipe would fill up with the access log and block
        self.process = subprocess.Popen(
            [str(BIN / "gunicorn"), "-c", str(PROJECT / "deploy" / "gunicorn.conf.py"), *config.flags(),
             "--bind", f"127.0.0.1:{self.port}", *extra, "tracker.wsgi:app"],
            env=env, cwd=PROJECT, stdout=self.log, stderr=subprocess.STDOUT, text=True)
        self.host = f"127.0.0.1:{self.port}"
        self.config = config
        self._wait(config.workers)

    def _wait(self, workers: int) -> None:
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                sys.exit(f"gunicorn exited with {self.process.returncode}:\n{self.output()}")
            if len(self.workers()) >= workers:
                try:
                    with socket.create_connection(("127.0.0.1", self.port), timeout=1):
                        return
                except OSError:
                    pass
            time.sleep(0.2)
        self.stop()
        sys.exit("gunicorn did not start within 90 s")

    def workers(self) -> list[int]:
        try:
            children = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children").read_text().split()
        except OSError:
            return []
        return [int(pid) for pid in children]

    def memory(self) -> dict[str, list[float]]:
        """MiB per worker: resident now (RSS), at its peak (VmHWM) and its proportional share (PSS: pages shared
        with the master and the other workers, thanks to preload_app, counted once in total)."""
        found = {"rss": [], "peak": [], "pss": []}
        for pid in self.workers():
            try:
                status = Path(f"/proc/{pid}/status").read_text()
                rollup = Path(f"/proc/{pid}/smaps_rollup").read_text()
            except OSError:
                continue
            found["rss"].append(_kib(status, "VmRSS") / 1024)
            found["peak"].append(_kib(status, "VmHWM") / 1024)
            found["pss"].append(_kib(rollup, "Pss") / 1024)
        return found

    def cpu_seconds(self) -> float:
        """CPU time used so far by the master and its workers (user + system)."""
        total = 0.0
        for pid in [self.process.pid, *self.workers()]:
            try:
                fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
        return total

    def master_rss(self) -> float:
        return _kib(Path(f"/proc/{self.process.pid}/status").read_text(), "VmRSS") / 1024

    def output(self) -> str:
        self.log.flush()
        self.log.seek(0)
        return self.log.read()

    def access_statuses(self) -> dict[tuple[str, int], int]:
        counts: dict[tuple[str, int], int] = {}
        for line in self.output().splitlines():
            if line.startswith('{"time"'):
                try:
                    row = json.loads(line)
                except ValueError:
                    continue
                key = (row["path"], int(row["status"]))
                counts[key] = counts.get(key, 0) + 1
        return counts

    def problems(self) -> list[str]:
        """Lines of the server's log that say something went wrong (worker timeouts, tracebacks, errors)."""
        words = ("WORKER TIMEOUT", "Traceback", "[ERROR]", '"level": "ERROR"', "Worker exiting", "SIGKILL")
        return [line[:200] for line in self.output().splitlines() if any(w in line for w in words)]

    def stop(self) -> None:
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=40)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def _kib(text: str, key: str) -> int:
    match = re.search(rf"^{key}:\s+(\d+) kB", text, re.MULTILINE)
    return int(match.group(1)) if match else 0


def host_cpu() -> tuple[float, float]:
    """Seconds of CPU busy and in total on the whole host so far (every core, from /proc/stat)."""
    values = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = values[3] + values[4]
    return (sum(values) - idle) / os.sysconf("SC_CLK_TCK"), sum(values) / os.sysconf("SC_CLK_TCK")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# -- a browser behind the TLS proxy ------------------------------------------------------------------


class Browser:
    def __init__(self, host: str):
        self.host = host
        self.cookies: dict[str, str] = {}

    def headers(self, path: str = "/") -> dict[str, str]:
        headers = {"X-Forwarded-Proto": "https", "Referer": f"https://{self.host}{path}", "Accept-Language": "es"}
        if self.cookies:
            headers["Cookie"] = self.cookie_header()
        return headers

    def cookie_header(self) -> str:
        return "; ".join(f"{k}={v}" for k, v in self.cookies.items())

    def request(self, method: str, path: str, form: dict | None = None, timeout: float = 600) -> tuple[int, bytes]:
        headers = self.headers(path)
        body = None
        if form is not None:
            body = urllib.parse.urlencode(form)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        conn = http.client.HTTPConnection(self.host, timeout=timeout)
        try:
            conn.request(method, path, body=body, headers=headers)
            response = conn.getresponse()
            data = response.read()
            for header in response.headers.get_all("Set-Cookie") or []:
                for name, morsel in SimpleCookie(header).items():
                    if morsel.value and morsel["max-age"] != "0":
                        self.cookies[name] = morsel.value
                    else:
                        self.cookies.pop(name, None)
            return response.status, data
        finally:
            conn.close()

    def log_in(self, email: str) -> None:
        """The login form's CSRF token, then the POST: once per client (the login is throttled)."""
        status, page = self.request("GET", "/login")
        match = re.search(rb'name="csrf_token"[^>]*value="([^"]+)"', page) or re.search(
            rb'value="([^"]+)"[^>]*name="csrf_token"', page)
        if status != 200 or not match:
            sys.exit(f"no login form on /login ({status})")
        token = html.unescape(match.group(1).decode())
        status, body = self.request("POST", "/login", {"csrf_token": token, "email": email, "password": PASSWORD})
        if status != 302:
            sys.exit(f"login of {email} failed with {status}: {body[:300]!r}")


# -- load generators ----------------------------------------------------------------------------------


@dataclass
class LoadResult:
    requests_per_s: float
    p50_ms: float
    p99_ms: float
    requests: int
    errors: str = ""


class Wrk:
    name = "wrk"

    def __init__(self, connections: int):
        self.connections = connections

    def run(self, browser: Browser, path: str, seconds: int) -> LoadResult:
        command = ["wrk", "-t2", f"-c{self.connections}", f"-d{seconds}s", "--latency", "--timeout", "60s"]
        for name, value in browser.headers(path).items():
            command += ["-H", f"{name}: {value}"]
        out = subprocess.run(command + [f"http://{browser.host}{path}"], capture_output=True, text=True,
                             timeout=seconds + 120).stdout
        rate = re.search(r"Requests/sec:\s+([\d.]+)", out)
        total = re.search(r"(\d+) requests in", out)
        errors = [m.group(0) for m in re.finditer(r"(Socket errors:.*|Non-2xx or 3xx responses: \d+)", out)]
        return LoadResult(float(rate.group(1)) if rate else 0.0, _wrk_ms(out, "50%"), _wrk_ms(out, "99%"),
                          int(total.group(1)) if total else 0, "; ".join(errors))


def _wrk_ms(out: str, percentile: str) -> float:
    match = re.search(rf"^\s+{percentile}\s+([\d.]+)(us|ms|s)\s*$", out, re.MULTILINE)
    if not match:
        return float("nan")
    value, unit = float(match.group(1)), match.group(2)
    return value / 1000 if unit == "us" else value * 1000 if unit == "s" else value


class PythonLoad:
    """Threads sending requests back to back, when wrk is not installed (it costs more CPU than wrk)."""

    name = "Python threads (wrk not found)"

    def __init__(self, connections: int):
        self.connections = connections

    def run(self, browser: Browser, path: str, seconds: int) -> LoadResult:
        host, port = browser.host.split(":")
        headers = browser.headers(path)
        latencies: list[float] = []
        failures = [0]
        lock = threading.Lock()
        stop_at = time.monotonic() + seconds

        def client() -> None:
            mine, bad = [], 0
            while time.monotonic() < stop_at:
                start = time.perf_counter()
                try:
                    conn = http.client.HTTPConnection(host, int(port), timeout=60)
                    conn.request("GET", path, headers=headers)
                    response = conn.getresponse()
                    response.read()
                    conn.close()
                    bad += response.status >= 400
                except OSError:
                    bad += 1
                mine.append(time.perf_counter() - start)
            with lock:
                latencies.extend(mine)
                failures[0] += bad

        threads = [threading.Thread(target=client) for _ in range(self.connections)]
        began = time.monotonic()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        elapsed = time.monotonic() - began
        latencies.sort()
        pick = lambda q: latencies[min(len(latencies) - 1, int(q * len(latencies)))] * 1000 if latencies else float("nan")
        return LoadResult(len(latencies) / elapsed, pick(0.50), pick(0.99), len(latencies),
                          f"{failures[0]} errors" if failures[0] else "")


# -- the sweep ------------------------------------------------------------------------------------------


@dataclass
class Measured:
    config: Config
    pages: dict[str, LoadResult] = field(default_factory=dict)
    memory: dict[str, list[float]] = field(default_factory=dict)
    master_mib: float = 0.0
    cpu_ms_per_request: float = 0.0
    host_busy: float = 0.0  # share of the host's cores busy during the dashboard run, whoever used them
    server_share: float = 0.0  # share of the host's cores used by gunicorn during it
    statuses: dict[tuple[str, int], int] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)


def measure(env: dict, config: Config, load, duration: int, side_duration: int) -> Measured:
    print(f"<!-- measuring {config.label} -->", file=sys.stderr, flush=True)
    server = Server(env, config)
    try:
        browser = Browser(server.host)
        browser.log_in(COMMITTEE[0])
        status, body = browser.request("GET", "/dashboard")
        if status != 200:
            sys.exit(f"/dashboard answered {status} after login: {body[:300]!r}")
        load.run(browser, "/dashboard", 3)  # warm-up: every worker has served the page once
        result = Measured(config)
        cpu, (busy, total) = server.cpu_seconds(), host_cpu()
        result.pages["/dashboard"] = load.run(browser, "/dashboard", duration)
        cpu, (busy, total) = server.cpu_seconds() - cpu, [b - a for a, b in zip((busy, total), host_cpu())]
        result.cpu_ms_per_request = 1000 * cpu / max(1, result.pages["/dashboard"].requests)
        result.host_busy, result.server_share = busy / total, cpu / total
        if side_duration:
            result.pages[f"/plans/{PLAN}"] = load.run(browser, f"/plans/{PLAN}", side_duration)
            result.pages["/health"] = load.run(Browser(server.host), "/health", side_duration)
        result.memory, result.master_mib = server.memory(), server.master_rss()
        result.statuses, result.problems = server.access_statuses(), server.problems()
        return result
    finally:
        server.stop()


def print_sweep(results: list[Measured], args) -> None:
    print(f"## Committee dashboard, {args.duration} s at {args.connections} connections\n")
    print("| configuration | req/s | p50 ms | p99 ms | requests | gunicorn CPU ms/request | host CPU busy | "
          "of which gunicorn | worker RSS MiB (peak) | worker PSS MiB | all workers RSS MiB | non-200 answers | "
          "load errors |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|---|")
    for r in results:
        d = r.pages["/dashboard"]
        rss, peak, pss = r.memory.get("rss") or [0], r.memory.get("peak") or [0], r.memory.get("pss") or [0]
        odd = ", ".join(f"{path} {status}: {n}" for (path, status), n in sorted(r.statuses.items())
                        if status != 200 and not (path == "/login" and status in (200, 302))) or "none"
        print(f"| {r.config.label} | {d.requests_per_s:.1f} | {d.p50_ms:.0f} | {d.p99_ms:.0f} | {d.requests} | "
              f"{r.cpu_ms_per_request:.0f} | {r.host_busy:.0%} | {r.server_share:.0%} | "
              f"{statistics.mean(rss):.0f} ({max(peak):.0f}) | {statistics.mean(pss):.0f} | {sum(rss):.0f} | {odd} | "
              f"{d.errors or 'none'} |")
    print("\nHost CPU busy counts every process on the host (load generator, PostgreSQL, anything else running); "
          "when it is near 100 % and gunicorn's share is well below it, the host was shared and req/s understates "
          "the server: compare CPU ms/request instead.")
    print(f"\nMaster process RSS: {', '.join(f'{r.master_mib:.0f}' for r in results)} MiB.\n")
    if args.side_duration:
        print(f"## Other pages, {args.side_duration} s each at {args.connections} connections\n")
        print(f"| configuration | /plans/{PLAN} req/s | p50 ms | p99 ms | /health req/s | p50 ms | p99 ms |")
        print("|---|---:|---:|---:|---:|---:|---:|")
        for r in results:
            p, h = r.pages[f"/plans/{PLAN}"], r.pages["/health"]
            print(f"| {r.config.label} | {p.requests_per_s:.1f} | {p.p50_ms:.0f} | {p.p99_ms:.0f} | "
                  f"{h.requests_per_s:.1f} | {h.p50_ms:.1f} | {h.p99_ms:.1f} |")
        print()
    problems = [(r.config.label, line) for r in results for line in r.problems]
    if problems:
        print("## Server log lines that report a problem\n")
        for label, line in problems[:40]:
            print(f"- {label}: `{line}`")
        print()


# -- the slowest requests, for the timeout ----------------------------------------------------------------


def probe(env: dict, config: Config, load, repeat: int) -> None:
    """Each slow request alone, `repeat` times (the first on a cold worker), then the PDF while the dashboard
    is under load. A long timeout here, so that what is measured is the request, not gunicorn's limit."""
    print(f"## Slowest requests, one at a time ({config.label}, timed by the client)\n")
    server = Server(env, config, "--timeout", "600")
    try:
        committee, reporter = Browser(server.host), Browser(server.host)
        committee.log_in(COMMITTEE[0])
        reporter.log_in(REPORTER[0])
        requests = [(committee, f"/reports/{PLAN}/{year}.pdf?lang=es") for year in range(FIRST_YEAR, THIS_YEAR)]
        last = THIS_YEAR - 1
        requests += [(committee, f"/reports/{PLAN}/{last}.{fmt}?lang=es") for fmt in ("docx", "xlsx", "csv", "json")]
        requests += [(committee, f"/reports/{PLAN}/{THIS_YEAR}.pdf?lang=es&pending=1"),
                     (reporter, f"/plans/{PLAN}/report/{THIS_YEAR}/template.xlsx"),
                     (committee, "/dashboard"), (committee, f"/plans/{PLAN}"), (committee, "/review"),
                     (committee, "/reports"), (reporter, f"/plans/{PLAN}/report/{THIS_YEAR}")]
        print("| request | status | bytes | first s | best s | worst s |")
        print("|---|---:|---:|---:|---:|---:|")
        slowest = 0.0
        for browser, path in requests:
            times, status, size = [], 0, 0
            for _ in range(repeat):
                start = time.perf_counter()
                status, body = browser.request("GET", path)
                times.append(time.perf_counter() - start)
                size = len(body)
            slowest = max(slowest, max(times))
            who = "reporter" if browser is reporter else "committee"
            print(f"| `{path}` ({who}) | {status} | {size} | {times[0]:.2f} | {min(times):.2f} | {max(times):.2f} |")
        print()

        pdf = f"/reports/{PLAN}/{last}.pdf?lang=es"
        downloader = Browser(server.host)
        downloader.cookies = dict(committee.cookies)  # the same session, in its own thread
        timings: list[float] = []
        done = threading.Event()

        def pdf_loop() -> None:
            while not done.is_set():
                start = time.perf_counter()
                downloader.request("GET", pdf)
                timings.append(time.perf_counter() - start)

        thread = threading.Thread(target=pdf_loop)
        thread.start()
        loaded = load.run(committee, "/dashboard", 15)
        done.set()
        thread.join()
        print(f"Under load ({load.connections} connections on /dashboard for 15 s: {loaded.requests_per_s:.1f} req/s, "
              f"p99 {loaded.p99_ms:.0f} ms), `{pdf}` took {min(timings):.2f} to {max(timings):.2f} s "
              f"({len(timings)} downloads).\n")
        print(f"Slowest single request measured: {max(slowest, max(timings)):.2f} s.\n")
        statuses = {k: n for k, n in server.access_statuses().items() if k[1] >= 400}
        print(f"Answers of 400 and above during the probe: {statuses or 'none'}; "
              f"log problems: {server.problems() or 'none'}.\n")
    finally:
        server.stop()


if __name__ == "__main__":
    main()
