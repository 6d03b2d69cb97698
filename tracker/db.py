"""Database core: declarative base with a naming convention, shared column types, session per request."""

from __future__ import annotations

import enum
import logging
from datetime import datetime, timezone
from typing import Annotated, Any, Callable

import sqlalchemy as sa
from flask import Flask, g
from sqlalchemy.orm import DeclarativeBase, Session, mapped_column, sessionmaker

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


class UTCDateTime(sa.TypeDecorator[datetime]):
    """A moment in time, stored in UTC and read back aware (tzinfo=UTC) on every database.

    PostgreSQL keeps the zone (timestamptz) but answers in the connection's zone; SQLite keeps none and
    answers naive. Both come back here as UTC, so comparisons with `utcnow()` and the conversion into a
    country's time zone are right everywhere. A naive value is refused: its zone would be a guess.
    """

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: sa.Dialect) -> datetime | None:
        if value is None:
            return None
        if not isinstance(value, datetime):
            raise TypeError(f"UTCDateTime needs a datetime, not {type(value).__name__}")
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError(f"naive datetime {value.isoformat()} given for a UTC timestamp: give it a time zone")
        value = value.astimezone(timezone.utc)
        # SQLite writes the wall time only; in UTC, so the stored text sorts and compares as moments do.
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: sa.Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=timezone.utc)  # SQLite: stored in UTC by process_bind_param
        return value.astimezone(timezone.utc)


class Base(DeclarativeBase):
    metadata = sa.MetaData(naming_convention=NAMING_CONVENTION)


# Shared column types.
intpk = Annotated[int, mapped_column(primary_key=True)]
Code = Annotated[str, mapped_column(sa.String(40))]
ShortText = Annotated[str, mapped_column(sa.String(255))]
LongText = Annotated[str, mapped_column(sa.Text)]
Timestamp = Annotated[datetime, mapped_column(UTCDateTime, default=utcnow)]


def enum_column(enum_cls: type[enum.Enum], name: str, **kwargs: Any) -> Any:
    """A string column holding an enum's values, guarded by a named CHECK constraint."""
    return mapped_column(
        sa.Enum(
            enum_cls,
            name=name,
            native_enum=False,
            create_constraint=True,
            length=max(len(m.value) for m in enum_cls),
            values_callable=lambda members: [m.value for m in members],
            validate_strings=True,
        ),
        **kwargs,
    )


SQLITE_BUSY_TIMEOUT_MS = 15000  # several gunicorn workers wait for each other's writes instead of failing


def make_engine(url: str, echo: bool = False) -> sa.Engine:
    """Create the engine. SQLite: foreign keys on, WAL journal and a busy timeout. Others: connections
    are tested before use, so a restarted or failed-over server costs no request a 500."""
    kwargs: dict[str, Any] = {"echo": echo, "future": True}
    if url.startswith("sqlite"):
        kwargs["connect_args"] = {"check_same_thread": False, "timeout": SQLITE_BUSY_TIMEOUT_MS / 1000}
        if url in ("sqlite://", "sqlite:///:memory:"):
            kwargs["poolclass"] = sa.pool.StaticPool
    else:
        kwargs["pool_pre_ping"] = True
    engine = sa.create_engine(url, **kwargs)
    if engine.dialect.name == "sqlite":
        sa.event.listen(engine, "connect", _sqlite_pragmas)
        sa.event.listen(engine, "begin", _sqlite_begin)
    return engine


WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def _sqlite_begin(connection: sa.Connection) -> None:
    """A request that may write takes SQLite's write lock when it starts (BEGIN IMMEDIATE).

    Two writers then run one after the other, and the second one reads what the first committed, so
    its version check sees the change. With a plain BEGIN the second writer would read an old snapshot
    and fail on its first write ("database is locked"), which no busy timeout can cure.
    """
    from flask import has_request_context, request

    immediate = has_request_context() and request.method in WRITE_METHODS
    connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # The driver's own implicit BEGIN is switched off: _sqlite_begin says which BEGIN (SQLAlchemy's recipe).
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    # Readers no longer wait for a writer (and the reverse); a file database only, memory has no journal.
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.close()


def call_after_commit(session: Session, callback: Callable[[], None], on_rollback: Callable[[], None] | None = None) -> None:
    """Run `callback` once the session's transaction commits, or `on_rollback` if it rolls back instead.

    E-mails go out and files appear only for work that was really stored, as in Warehouse.
    A callback cannot use `session` (it is between transactions then): it opens its own connection.
    """
    session.info.setdefault(_AFTER_COMMIT, []).append(callback)
    if on_rollback is not None:
        session.info.setdefault(_AFTER_ROLLBACK, []).append(on_rollback)


_AFTER_COMMIT, _AFTER_ROLLBACK = "tracker.after_commit", "tracker.after_rollback"


def _run_after_commit(session: Session) -> None:
    if session.in_nested_transaction():
        return  # a savepoint released: the outer transaction may still roll back
    session.info.pop(_AFTER_ROLLBACK, None)
    _run_each(session.info.pop(_AFTER_COMMIT, []))


def _run_after_rollback(session: Session) -> None:
    if session.in_nested_transaction():
        return  # a savepoint rolled back: what the outer transaction queued still stands
    session.info.pop(_AFTER_COMMIT, None)
    _run_each(session.info.pop(_AFTER_ROLLBACK, []))


def _run_each(callbacks: list[Callable[[], None]]) -> None:
    """Run every callback even if one fails: the data is committed already, so a failure is logged, not
    raised (an undelivered e-mail waits for `tracker mail send`, a file left partial for `tracker check --fix`)."""
    for callback in callbacks:
        try:
            callback()
        except Exception:  # noqa: BLE001 - nothing may turn a committed request into an error page
            logging.getLogger(__name__).exception("after-commit work failed")


class Database:
    """Binds an engine and a session factory to the app; one session per request or CLI call."""

    def __init__(self) -> None:
        self.engine: sa.Engine | None = None
        self.session_factory: sessionmaker[Session] | None = None

    def init_app(self, app: Flask) -> None:
        self.engine = make_engine(app.config["DATABASE_URL"], app.config.get("SQL_ECHO", False))
        self.session_factory = sessionmaker(bind=self.engine, expire_on_commit=False)
        sa.event.listen(self.session_factory, "after_commit", _run_after_commit)
        sa.event.listen(self.session_factory, "after_rollback", _run_after_rollback)
        app.extensions["tracker_db"] = self
        app.teardown_appcontext(self._close_session)

    @property
    def session(self) -> Session:
        """The session of the current app context, created on first use."""
        if "db_session" not in g:
            assert self.session_factory is not None, "Database.init_app was not called"
            g.db_session = self.session_factory()
        return g.db_session

    def new_session(self) -> Session:
        """A session of its own (a job's), with the after-commit work of the request's."""
        assert self.session_factory is not None, "Database.init_app was not called"
        return self.session_factory()

    def close_session(self) -> None:
        """End the app context's session now (a worker's, after each job), not when the context ends."""
        self._close_session(None)

    @staticmethod
    def _close_session(_exc: BaseException | None) -> None:
        session = g.pop("db_session", None)
        if session is not None:
            session.close()


db = Database()
