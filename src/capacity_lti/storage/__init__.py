"""Persistence: SQLAlchemy 2 tables, Alembic migrations, repositories. SQLite by default."""

from __future__ import annotations

from sqlalchemy.exc import OperationalError

from capacity_lti.errors import StorageError
from capacity_lti.settings import Settings
from capacity_lti.storage.engine import Database, make_engine
from capacity_lti.storage.migrate import upgrade


def open_database(settings: Settings) -> Database:
    """Connect to the configured database and bring its schema up to date."""
    url = settings.resolved_database_url()
    engine = make_engine(url)
    try:
        upgrade(engine)
    except OperationalError as exc:
        safe = engine.url.render_as_string(hide_password=True)
        raise StorageError(f"cannot use the database {safe}: {exc.orig}") from None
    return Database(engine, make_engine(url, durable=False))


__all__ = ["Database", "open_database"]
