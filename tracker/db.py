"""Database core: declarative base with a naming convention, shared column types, session per request."""

from __future__ import annotations

import enum
from datetime import datetime, timezone
from typing import Annotated, Any

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


class Base(DeclarativeBase):
    metadata = sa.MetaData(naming_convention=NAMING_CONVENTION)


# Shared column types.
intpk = Annotated[int, mapped_column(primary_key=True)]
Code = Annotated[str, mapped_column(sa.String(40))]
ShortText = Annotated[str, mapped_column(sa.String(255))]
LongText = Annotated[str, mapped_column(sa.Text)]
Timestamp = Annotated[datetime, mapped_column(sa.DateTime(timezone=True), default=utcnow)]


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


def make_engine(url: str, echo: bool = False) -> sa.Engine:
    """Create the engine; SQLite gets foreign keys switched on."""
    kwargs: dict[str, Any] = {"echo": echo, "future": True}
    if url.startswith("sqlite"):
        kwargs["connect_args"] = {"check_same_thread": False}
        if url in ("sqlite://", "sqlite:///:memory:"):
            kwargs["poolclass"] = sa.pool.StaticPool
    engine = sa.create_engine(url, **kwargs)
    if engine.dialect.name == "sqlite":
        sa.event.listen(engine, "connect", _sqlite_pragmas)
    return engine


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


class Database:
    """Binds an engine and a session factory to the app; one session per request or CLI call."""

    def __init__(self) -> None:
        self.engine: sa.Engine | None = None
        self.session_factory: sessionmaker[Session] | None = None

    def init_app(self, app: Flask) -> None:
        self.engine = make_engine(app.config["DATABASE_URL"], app.config.get("SQL_ECHO", False))
        self.session_factory = sessionmaker(bind=self.engine, expire_on_commit=False)
        app.extensions["tracker_db"] = self
        app.teardown_appcontext(self._close_session)

    @property
    def session(self) -> Session:
        """The session of the current app context, created on first use."""
        if "db_session" not in g:
            assert self.session_factory is not None, "Database.init_app was not called"
            g.db_session = self.session_factory()
        return g.db_session

    @staticmethod
    def _close_session(_exc: BaseException | None) -> None:
        session = g.pop("db_session", None)
        if session is not None:
            session.close()


db = Database()
