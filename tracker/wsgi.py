"""The WSGI entry for production servers: `gunicorn -c deploy/gunicorn.conf.py tracker.wsgi:app`.

The app is built once, at import, with the environment as the server was given it. Anything that
would make it unusable (a weak secret key, throttling counters that workers cannot share, a Redis
that does not answer, demo accounts left in the database) stops the server with one `Error:` line
and exit code 3, which gunicorn's master reads as "the worker cannot boot" and stops instead of
respawning workers in a loop. No traceback: the operator gets the line that says what to fix.
"""

from __future__ import annotations

import sys

from flask import Flask

from config import ConfigError

# gunicorn's WORKER_BOOT_ERROR: its master shuts down instead of starting the worker again.
BOOT_ERROR = 3


def check_ready(app: Flask) -> None:
    """Raise ConfigError when the app must not serve: database or shared storage unreachable, schema
    behind the code, demo data in production."""
    from tracker.demo import refuse_demo_data_in_production

    _check_throttle_storage(app)
    with app.app_context():
        _check_database()
        refuse_demo_data_in_production(app)
    # The checks ran in gunicorn's master: workers must not inherit its database connections.
    from tracker.db import db

    db.engine.dispose()


def _check_database() -> None:
    import sqlalchemy as sa

    from tracker import migrate

    try:
        current, heads = migrate.current(), migrate.heads()
    except sa.exc.OperationalError as exc:
        reason = str(exc.orig).strip().splitlines()[0] if exc.orig else type(exc).__name__
        raise ConfigError(f"the database does not answer (TRACKER_DATABASE_URL): {reason}") from None
    if current not in heads:
        raise ConfigError(f"the database is at revision {current or 'base (empty)'}, the code needs "
                          f"{', '.join(heads)}: run `tracker db upgrade` first")


def _check_throttle_storage(app: Flask) -> None:
    from tracker.extensions import limiter

    uri = app.config["RATELIMIT_STORAGE_URI"]
    if uri.startswith("memory://"):
        return
    try:
        reachable = limiter.storage.check()
    except Exception:  # noqa: BLE001 - the drivers raise their own types; any of them means "not usable"
        reachable = False
    if not reachable:
        raise ConfigError(f"the login-throttling storage {_without_password(uri)} does not answer "
                          "(TRACKER_RATELIMIT_STORAGE_URI): start it or correct the address")


def _without_password(uri: str) -> str:
    scheme, sep, rest = uri.partition("://")
    credentials, at, host = rest.rpartition("@")
    return f"{scheme}{sep}{'***@' if at else ''}{host}" if credentials else uri


def build_app() -> Flask:
    """The checked application, or exit with one line on standard error."""
    from tracker import create_app

    try:
        app = create_app()
        check_ready(app)
    except ConfigError as exc:
        print(f"Error: {exc}", file=sys.stderr, flush=True)
        raise SystemExit(BOOT_ERROR) from None
    return app


app = build_app()
