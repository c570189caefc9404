"""Engines and sessions: SQLite (embedded default, WAL) or PostgreSQL, both migrated by Alembic."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

from capacity_lti.errors import ConfigError, StorageError


def _sqlite_pragmas(dbapi_connection: Any, _record: object) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.close()


def _quick_sqlite(dbapi_connection: Any, _record: object) -> None:
    """SQLite commits that do not wait for the disk (see Database.session's `durable`)."""
    dbapi_connection.execute("PRAGMA synchronous=NORMAL")


def _quick_postgresql(dbapi_connection: Any, _record: object) -> None:
    """PostgreSQL commits that do not wait for the disk (see Database.session's `durable`)."""
    with dbapi_connection.cursor() as cursor:
        cursor.execute("SET synchronous_commit TO off")
    dbapi_connection.commit()


def make_engine(url: str, *, durable: bool = True) -> Engine:
    """An engine for `url`; for SQLite, creates the folder and turns on WAL and foreign keys.

    `durable=False`: its commits do not wait for the disk (Database.session's `durable`).
    """
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise ConfigError(
            f"database URL {url!r} is not valid: use sqlite:///path/file.sqlite3 or "
            "postgresql+psycopg://user@host:5432/database"
        ) from None
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url)
        event.listen(engine, "connect", _sqlite_pragmas)
        quick = _quick_sqlite
    elif parsed.get_backend_name() == "postgresql":
        try:
            engine = create_engine(url, pool_pre_ping=True)
            quick = _quick_postgresql
        except ModuleNotFoundError:
            raise ConfigError(
                "PostgreSQL needs its driver: pip install 'capacity-lti[postgres]'"
            ) from None
    else:
        raise ConfigError(
            f"database {parsed.get_backend_name()!r} is not supported: use SQLite or PostgreSQL"
        )
    if not durable:
        event.listen(engine, "connect", quick)
    return engine


class Database:
    """Engines with their session factories; `session()` commits on success, rolls back on error."""

    def __init__(self, engine: Engine, quick: Engine | None = None) -> None:
        self.engine = engine
        self._quick_engine = quick or engine
        self._sessions = sessionmaker(engine, expire_on_commit=False)
        self._quick = sessionmaker(self._quick_engine, expire_on_commit=False)

    @contextmanager
    def session(self, *, durable: bool = True) -> Iterator[Session]:
        """A transaction, committed when the block ends without an error.

        `durable=False` is for launch bookkeeping that the next launch would write again
        (OIDC logins, learner and link rows): its commit does not wait for the disk (SQLite
        `synchronous=NORMAL` in WAL mode, PostgreSQL `synchronous_commit=off`). A power cut
        may lose such a commit, never corrupt the database, and any later durable commit
        (progress, points, outbox) makes it durable too, since both logs are written in order.
        """
        session = (self._sessions if durable else self._quick)()
        try:
            yield session
            session.commit()
        except OperationalError as exc:
            session.rollback()
            raise StorageError(f"the database refused the operation: {exc.orig}") from exc
        except BaseException:
            session.rollback()
            raise
        finally:
            session.close()

    @contextmanager
    def transaction(self, *, durable: bool = True) -> Iterator[Connection]:
        """A Core connection in a transaction, committed when the block ends without an
        error: for the launch's prepared statements, which need no ORM session set up.
        `durable` as for session()."""
        try:
            with (self.engine if durable else self._quick_engine).begin() as connection:
                yield connection
        except OperationalError as exc:
            raise StorageError(f"the database refused the operation: {exc.orig}") from exc
