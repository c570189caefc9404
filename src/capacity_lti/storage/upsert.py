"""ON CONFLICT upserts on SQLite and PostgreSQL: the dialect's INSERT, and prepared upserts."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import Connection, CursorResult, Table
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session
from sqlalchemy.sql.base import Executable

Executor = Session | Connection  # what runs a statement: an ORM session or a Core connection


def dialect_name(executor: Executor) -> str:
    """The dialect `executor` speaks: "sqlite" or "postgresql"."""
    bind = executor.get_bind() if isinstance(executor, Session) else executor
    return bind.dialect.name


def dialect_insert(
    executor: Executor, table: Table | type[Any]
) -> postgresql.Insert | sqlite.Insert:
    """An INSERT into `table` offering `on_conflict_do_*` for the dialect `executor` speaks."""
    if dialect_name(executor) == "postgresql":
        return postgresql.insert(table)
    return sqlite.insert(table)


_PREPARED: dict[tuple[str, str, tuple[str, ...], tuple[str, ...], str | None], Executable] = {}


def upsert(
    executor: Executor,
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
    shape = (dialect_name(executor), table.name, tuple(keys), tuple(update), returning)
    statement = _PREPARED.get(shape)
    if statement is None:
        insert = dialect_insert(executor, table)
        statement = insert.on_conflict_do_update(
            index_elements=list(keys), set_={name: insert.excluded[name] for name in update}
        )
        if returning is not None:
            statement = statement.returning(table.c[returning])
        _PREPARED[shape] = statement
    result: CursorResult[Any] = executor.execute(statement, dict(values))  # type: ignore[assignment]
    return result
