"""ON CONFLICT upserts on SQLite and PostgreSQL: the dialect's INSERT, and prepared upserts."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import CursorResult, Table
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session
from sqlalchemy.sql.base import Executable


def dialect_insert(session: Session, table: Table | type[Any]) -> postgresql.Insert | sqlite.Insert:
    """An INSERT into `table` offering `on_conflict_do_*` for the dialect `session` is bound to."""
    if session.get_bind().dialect.name == "postgresql":
        return postgresql.insert(table)
    return sqlite.insert(table)


_PREPARED: dict[tuple[str, str, tuple[str, ...], tuple[str, ...], str | None], Executable] = {}


def upsert(
    session: Session,
    table: Table,
    values: Mapping[str, object],
    *,
    keys: Sequence[str],
    update: Sequence[str],
    returning: str | None = None,
) -> CursorResult[Any]:
    """INSERT `values`; where a row with the same unique `keys` exists, SET its `update`
    columns to the new values instead; RETURNING the column `returning` when named.

    One statement, so concurrent first writes of one row each get that row. It is built
    once per dialect and shape and then only executed (each launch runs several).
    """
    shape = (session.get_bind().dialect.name, table.name, tuple(keys), tuple(update), returning)
    statement = _PREPARED.get(shape)
    if statement is None:
        insert = dialect_insert(session, table)
        statement = insert.on_conflict_do_update(
            index_elements=list(keys), set_={name: insert.excluded[name] for name in update}
        )
        if returning is not None:
            statement = statement.returning(table.c[returning])
        _PREPARED[shape] = statement
    result: CursorResult[Any] = session.execute(statement, dict(values))  # type: ignore[assignment]
    return result
