"""The INSERT construct of the session's dialect, for ON CONFLICT upserts on SQLite and PostgreSQL."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Table
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session


def dialect_insert(session: Session, table: Table | type[Any]) -> postgresql.Insert | sqlite.Insert:
    """An INSERT into `table` offering `on_conflict_do_*` for the dialect `session` is bound to."""
    if session.get_bind().dialect.name == "postgresql":
        return postgresql.insert(table)
    return sqlite.insert(table)
