"""Issued diplomas and certificates: issued exactly once, listed, revoked.

:func:`issue_due_awards` runs inside the learner's completion transaction. Exactly once:
the award table has UNIQUE (learner, programme, key) and rows are inserted with
``INSERT ... ON CONFLICT DO NOTHING``, so when two requests complete the
last item at the same moment, PostgreSQL makes the second insert wait for the first
transaction and then skip the row, and SQLite serialises the two writers; each award
is returned (as new) by exactly one of them.

Signing and the public views are in :mod:`capacity_lti.storage.award_credentials`.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Row, bindparam, select
from sqlalchemy.orm import Session

from capacity_lti.awards.rules import AwardKind, DueAward, due_awards
from capacity_lti.content.model import Programme
from capacity_lti.errors import StorageError
from capacity_lti.storage.engine import Database
from capacity_lti.storage.tables import Award, Learner, utcnow
from capacity_lti.storage.upsert import Executor, dialect_insert


@dataclass(frozen=True)
class AwardRecord:
    id: int
    public_id: str
    learner_id: int | None  # None once the learner (or their platform) was removed
    learner_name: str
    programme_id: str
    key: str
    kind: AwardKind
    rule_id: str | None
    path_id: str | None
    module_id: str | None
    language: str
    points: int
    issued_at: datetime
    revoked_at: datetime | None
    revocation_reason: str
    signed: bool

    @property
    def due(self) -> DueAward:
        return DueAward(
            self.key, self.kind, self.rule_id, self.path_id, self.module_id, self.points
        )


def record_of(row: Award | Row[Any]) -> AwardRecord:
    """The record of an award row: an Award, or a plain row of its columns with `signed`."""
    return AwardRecord(
        id=row.id,
        public_id=row.public_id,
        learner_id=row.learner_id,
        learner_name=row.learner_name,
        programme_id=row.programme_id,
        key=row.award_key,
        kind=AwardKind(row.kind),
        rule_id=row.rule_id,
        path_id=row.path_id,
        module_id=row.module_id,
        language=row.language,
        points=row.points,
        issued_at=row.issued_at,
        revoked_at=row.revoked_at,
        revocation_reason=row.revocation_reason,
        signed=bool(row.signed) if isinstance(row, Row) else row.credential_jwt is not None,
    )


def issue_due_awards(
    session: Session,
    *,
    learner_id: int,
    programme: Programme,
    completed_item_ids: set[str],
    language: str | None = None,
) -> list[AwardRecord]:
    """Issue every award `completed_item_ids` earns that the learner does not hold yet.

    Returns the awards this call issued (none when all were issued before). `language`
    (the learner's) is what the credential will be written in; default: the
    programme's default language, or the learner's language at the first download.
    """
    held = set(
        session.scalars(
            select(Award.award_key).where(
                Award.learner_id == learner_id, Award.programme_id == programme.id
            )
        )
    )
    missing = [a for a in due_awards(programme, completed_item_ids) if a.key not in held]
    if not missing:
        return []
    now = utcnow()
    name = session.scalar(select(Learner.name).where(Learner.id == learner_id)) or ""
    rows = [
        {
            "public_id": secrets.token_urlsafe(16),
            "learner_id": learner_id,
            "learner_name": name,
            "programme_id": programme.id,
            "award_key": a.key,
            "kind": a.kind.value,
            "rule_id": a.rule_id,
            "path_id": a.path_id,
            "module_id": a.module_id,
            "language": language or programme.default_language,
            "points": a.points,
            "issued_at": now,
            "revocation_reason": "",
        }
        for a in missing
    ]
    statement = (
        dialect_insert(session, Award)
        .values(rows)
        .on_conflict_do_nothing(index_elements=["learner_id", "programme_id", "award_key"])
    )
    session.execute(statement)
    # The rows this call inserted are those carrying the public ids it drew (no RETURNING:
    # SQLite has it only from 3.35).
    drawn = [row["public_id"] for row in rows]
    issued = session.scalars(select(Award).where(Award.public_id.in_(drawn)).order_by(Award.id))
    return [record_of(row) for row in issued]


_AWARDS = Award.__table__.c
_HELD = (
    select(*(c for c in _AWARDS if c.name != "credential_jwt"))
    .add_columns(_AWARDS.credential_jwt.is_not(None).label("signed"))
    .where(
        _AWARDS.learner_id == bindparam("learner_id"),
        _AWARDS.programme_id == bindparam("programme_id"),
    )
    .order_by(_AWARDS.id)
)


def learner_awards(executor: Executor, *, learner_id: int, programme_id: str) -> list[AwardRecord]:
    """The learner's awards in a programme, oldest first (revoked ones included).

    Every learner page lists them, so this is one prepared query of plain rows, without
    the credentials themselves.
    """
    rows = executor.execute(_HELD, {"learner_id": learner_id, "programme_id": programme_id})
    return [record_of(row) for row in rows]


def find_award(session: Session, public_id: str) -> AwardRecord | None:
    row = session.scalars(select(Award).where(Award.public_id == public_id)).one_or_none()
    return record_of(row) if row is not None else None


def list_awards(db: Database, *, revoked: bool | None = None) -> list[AwardRecord]:
    """Every award, newest first (`revoked` filters when given)."""
    query = select(Award).order_by(Award.id.desc())
    if revoked is not None:
        query = query.where(
            Award.revoked_at.is_not(None) if revoked else Award.revoked_at.is_(None)
        )
    with db.session() as session:
        return [record_of(row) for row in session.scalars(query)]


def _missing(public_id: str) -> StorageError:
    return StorageError(f"no award has the id {public_id!r}: see 'capacity-lti award list'")


def get_award(db: Database, public_id: str) -> AwardRecord:
    """One award; StorageError when there is none."""
    with db.session() as session:
        found = find_award(session, public_id)
    if found is None:
        raise _missing(public_id)
    return found


def revoke_award(db: Database, public_id: str, reason: str) -> AwardRecord:
    """Mark an award revoked (a second revoke keeps the first date and reason)."""
    with db.session() as session:
        row = session.scalars(select(Award).where(Award.public_id == public_id)).one_or_none()
        if row is None:
            raise _missing(public_id)
        if row.revoked_at is None:
            row.revoked_at = utcnow()
            row.revocation_reason = reason
        session.flush()
        return record_of(row)
