"""A real server in a subprocess and a client that talks to it as a browser behind a TLS proxy would."""

from __future__ import annotations

import html
import http.client
import os
import re
import secrets
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse
from contextlib import contextmanager
from http.cookies import SimpleCookie
from pathlib import Path

import pytest
import sqlalchemy as sa

PROJECT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent


@contextmanager
def fresh_postgres_database(server_url: str, prefix: str):
    """A new empty database on the PostgreSQL server of `server_url` (any database URL there), dropped after."""
    base = server_url.rsplit("/", 1)[0]
    name = f"{prefix}_{os.getpid()}_{secrets.token_hex(3)}"
    admin = sa.create_engine(f"{base}/postgres", isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
        yield f"{base}/{name}"
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        admin.dispose()


def query_one(database_url: str, sql: str, **params):
    """One value from the server's database, read as an operator would, outside the app."""
    engine = sa.create_engine(database_url)
    try:
        with engine.connect() as conn:
            return conn.execute(sa.text(sql), params).scalar_one()
    finally:
        engine.dispose()


def tracker(env: dict, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess:
    """Run the real `tracker` command with exactly this environment."""
    return subprocess.run([str(BIN / "tracker"), *args], env=env, input=stdin, capture_output=True, text=True,
                          cwd=PROJECT, timeout=120)


def free_port() -> int:
    """A TCP port nobody listens on now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_gunicorn(env: dict, port: int, *extra: str, workers: int = 2) -> subprocess.Popen:
    """gunicorn with the project's settings (deploy/gunicorn.conf.py), as the README says to run it."""
    log = tempfile.TemporaryFile(mode="w+")  # a pipe would fill up with the access log and block the server
    process = subprocess.Popen(
        [str(BIN / "gunicorn"), "-c", str(PROJECT / "deploy" / "gunicorn.conf.py"), "--workers", str(workers),
         "--bind", f"127.0.0.1:{port}", *extra, "tracker.wsgi:app"],
        env=env, cwd=PROJECT, stdout=log, stderr=subprocess.STDOUT, text=True,
    )
    process.log = log
    return process


def output(process: subprocess.Popen) -> str:
    """Everything the server printed so far."""
    process.log.flush()
    process.log.seek(0)
    return process.log.read()


def exit_output(process: subprocess.Popen, timeout: float = 60) -> str:
    """Wait for a server that is expected to stop by itself; what it printed."""
    process.wait(timeout=timeout)
    return output(process)


def wait_until_serving(server: subprocess.Popen, port: int) -> None:
    """Return once the server accepts connections; fail with its output if it exits first."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if server.poll() is not None:
            pytest.fail(f"gunicorn exited with {server.returncode}:\n{output(server)}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            time.sleep(0.2)
    pytest.fail("gunicorn did not start listening within 60 s")


def stop(process: subprocess.Popen) -> None:
    """Stop the server as an init system would (SIGTERM, then SIGKILL after 30 s)."""
    process.terminate()
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def multipart(form: dict, files: dict[str, tuple[str, bytes]]) -> tuple[bytes, str]:
    """A multipart/form-data body and its content type."""
    boundary = secrets.token_hex(16)
    parts = [f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode()
             for name, value in form.items()]
    parts += [f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; filename="{filename}"\r\n'
              f"Content-Type: application/octet-stream\r\n\r\n".encode() + data + b"\r\n"
              for name, (filename, data) in files.items()]
    return b"".join(parts) + f"--{boundary}--\r\n".encode(), f"multipart/form-data; boundary={boundary}"


class Response:
    def __init__(self, raw: http.client.HTTPResponse):
        self.status = raw.status
        self.headers = raw.headers
        self.body = raw.read()

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", "replace")

    @property
    def location(self) -> str:
        return urllib.parse.urlsplit(self.headers.get("Location", "")).path


class Browser:
    """An HTTP client as a browser behind the TLS proxy is: cookies, CSRF tokens, Referer, X-Forwarded-Proto."""

    def __init__(self, host: str):
        self.host = host
        self.cookies: dict[str, str] = {}

    def request(self, method: str, path: str, form: dict | None = None,
                files: dict[str, tuple[str, bytes]] | None = None) -> Response:
        """One request; `files` ({field: (name, bytes)}) sends the form as multipart, as a file input does."""
        headers = {"X-Forwarded-Proto": "https", "Referer": f"https://{self.host}{path}", "Accept-Language": "es"}
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        body = None
        if files:
            body, headers["Content-Type"] = multipart(form or {}, files)
        elif form is not None:
            body = urllib.parse.urlencode(form)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        conn = http.client.HTTPConnection(self.host, timeout=60)
        try:
            conn.request(method, path, body=body, headers=headers)
            response = Response(conn.getresponse())
        finally:
            conn.close()
        self._keep_cookies(response)
        return response

    def _keep_cookies(self, response: Response) -> None:
        for header in response.headers.get_all("Set-Cookie") or []:
            for name, morsel in SimpleCookie(header).items():
                if morsel.value and morsel["max-age"] != "0":
                    self.cookies[name] = morsel.value
                else:
                    self.cookies.pop(name, None)

    def get(self, path: str) -> Response:
        return self.request("GET", path)

    def post(self, path: str, form: dict | None = None, token_from: str | None = None) -> Response:
        page = self.get(token_from or path)
        match = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page.text) or re.search(
            r'value="([^"]+)"[^>]*name="csrf_token"', page.text)
        assert match, f"no CSRF token on {token_from or path} ({page.status})"
        return self.request("POST", path, {"csrf_token": html.unescape(match.group(1)), **(form or {})})
