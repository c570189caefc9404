"""The score outbox: a score for the LMS is written in the same transaction as its award.

:func:`enqueue_score` runs inside the caller's session, so the award and the row commit (or
roll back) together. :mod:`capacity_lti.storage.delivery` sends the rows later, through
:func:`claim_due`, :func:`record_results` and :func:`release` below.

Policy for one learner on one resource link:

* The AGS ``timestamp`` is taken here, at enqueue, and never changes: a resend after a crash
  is the same document, which the LMS applies at most once in effect (see delivery).
  Timestamps of one learner + link strictly increase, even within one clock tick.
* A newer score supersedes older ones not yet sent: they are marked ``superseded`` (kept for
  the record) because the LMS keeps only the latest score anyway. A score that a worker is
  sending right now (leased) is left alone and finishes first.
* Rows of one learner + link are sent one at a time, oldest first: a row is not due while an
  older row of the same pair is still pending.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import BindParameter, bindparam, exists, func, or_, select, update
from sqlalchemy.orm import Session, aliased

from capacity_lti.lti.ags import GradeTarget, Score
from capacity_lti.lti.service_token import TokenEndpoint
from capacity_lti.storage.engine import Database
from capacity_lti.storage.tables import Learner, Platform, ResourceLink, ScoreOutbox

PENDING = "pending"
DELIVERED = "delivered"
FAILED = "failed"
SUPERSEDED = "superseded"
TICK = timedelta(microseconds=1)


def enqueue_score(
    session: Session,
    *,
    resource_link_id: int,
    learner_id: int,
    score_given: float,
    score_maximum: float,
    activity_progress: str,
    grading_progress: str,
    comment: str = "",
) -> None:
    """Queue a score for the link's LMS gradebook, in the caller's transaction."""
    now = datetime.now(UTC)
    pair = (ScoreOutbox.resource_link_id == resource_link_id) & (
        ScoreOutbox.learner_id == learner_id
    )
    latest = session.scalar(select(func.max(ScoreOutbox.scored_at)).where(pair))
    scored_at = max(now, latest + TICK) if latest is not None else now
    session.execute(
        update(ScoreOutbox)
        .where(
            pair,
            ScoreOutbox.state == PENDING,
            or_(ScoreOutbox.leased_until.is_(None), ScoreOutbox.leased_until < now),
        )
        .values(state=SUPERSEDED, leased_until=None, lease_owner=None)
        .execution_options(synchronize_session=False)
    )
    session.add(
        ScoreOutbox(
            resource_link_id=resource_link_id,
            learner_id=learner_id,
            score_given=score_given,
            score_maximum=score_maximum,
            activity_progress=activity_progress,
            grading_progress=grading_progress,
            comment=comment,
            scored_at=scored_at,
            state=PENDING,
            attempts=0,
            next_attempt_at=now,
            created_at=now,
        )
    )
    session.flush()


@dataclass(frozen=True)
class OutboxEntry:
    """One row as an administrator sees it (`capacity-lti outbox`)."""

    id: int
    state: str
    learner: str
    link: str
    platform: str
    score_given: float
    score_maximum: float
    scored_at: datetime
    attempts: int
    next_attempt_at: datetime
    leased_until: datetime | None
    last_error: str | None


def list_outbox(db: Database, *, failed_only: bool = False) -> list[OutboxEntry]:
    """Scores not delivered yet (pending or failed), oldest first; or only those with an error."""
    statement = (
        select(ScoreOutbox, Learner, ResourceLink, Platform)
        .join(Learner, Learner.id == ScoreOutbox.learner_id)
        .join(ResourceLink, ResourceLink.id == ScoreOutbox.resource_link_id)
        .join(Platform, Platform.id == ResourceLink.platform_id)
        .where(ScoreOutbox.state.in_((PENDING, FAILED)))
        .order_by(ScoreOutbox.id)
    )
    if failed_only:
        statement = statement.where(
            or_(ScoreOutbox.state == FAILED, ScoreOutbox.last_error.is_not(None))
        )
    with db.session() as session:
        return [
            OutboxEntry(
                id=row.id,
                state=row.state,
                learner=f"{learner.name} ({learner.subject})" if learner.name else learner.subject,
                link=f"{link.title} ({link.link_id})" if link.title else link.link_id,
                platform=platform.name or platform.issuer,
                score_given=row.score_given,
                score_maximum=row.score_maximum,
                scored_at=row.scored_at,
                attempts=row.attempts,
                next_attempt_at=row.next_attempt_at,
                leased_until=row.leased_until,
                last_error=row.last_error,
            )
            for row, learner, link, platform in session.execute(statement)
        ]


def outbox_counts(db: Database) -> dict[str, int]:
    """How many rows are in each state."""
    with db.session() as session:
        rows = session.execute(select(ScoreOutbox.state, func.count()).group_by(ScoreOutbox.state))
        return {str(state): int(count) for state, count in rows}


# -- the worker's side: claim with a lease, record what happened, hand back -----------------


@dataclass(frozen=True)
class Claimed:
    """A row a worker now owns until its lease ends: what to send, and where."""

    id: int
    attempts: int
    link_pk: int
    target: GradeTarget
    score: Score


@dataclass(frozen=True)
class Result:
    """What one try did: delivered (no error), to retry at `retry_at`, or failed for good."""

    id: int
    link_pk: int
    lineitem: str | None = None  # a line item found or made for the link, to remember
    error: str | None = None
    retry_at: datetime | None = None


_COLUMNS = (
    ScoreOutbox.id,
    ScoreOutbox.attempts,
    ScoreOutbox.score_given,
    ScoreOutbox.score_maximum,
    ScoreOutbox.activity_progress,
    ScoreOutbox.grading_progress,
    ScoreOutbox.scored_at,
    ScoreOutbox.comment,
    Learner.subject,
    ResourceLink.id.label("link_pk"),
    ResourceLink.link_id,
    ResourceLink.title,
    ResourceLink.ags_lineitem,
    ResourceLink.ags_lineitems,
    ResourceLink.ags_scopes,
    Platform.auth_token_url,
    Platform.client_id,
    Platform.auth_audience,
)  # plain columns: loading four ORM objects per score cost more than sending it


def _claimed(row: Any, targets: dict[int, GradeTarget]) -> Claimed:
    target = targets.get(row.link_pk)
    if target is None:
        target = targets[row.link_pk] = GradeTarget(
            endpoint=TokenEndpoint(row.auth_token_url, row.client_id, row.auth_audience),
            scopes=frozenset(row.ags_scopes.split()),
            resource_link_id=row.link_id,
            lineitem=row.ags_lineitem,
            lineitems=row.ags_lineitems,
            label=row.title or "Capacity programme",
        )
    score = Score(
        user_id=row.subject,
        score_given=row.score_given,
        score_maximum=row.score_maximum,
        activity_progress=row.activity_progress,
        grading_progress=row.grading_progress,
        timestamp=row.scored_at,
        comment=row.comment,
    )
    return Claimed(row.id, row.attempts, row.link_pk, target, score)


_CANDIDATE, _EARLIER = aliased(ScoreOutbox), aliased(ScoreOutbox)  # built once: cached SQL
_IDS: BindParameter[list[int]] = bindparam(
    "ids", expanding=True
)  # a list bound whole, not coerced value by value


def claim_due(
    db: Database, *, owner: str, now: datetime, lease: timedelta, limit: int
) -> list[Claimed]:
    """Lease up to `limit` due rows to `owner`, each the oldest pending of its learner + link.

    One UPDATE over a ``FOR UPDATE SKIP LOCKED`` subquery: on PostgreSQL concurrent workers
    skip each other's rows; on SQLite the statement runs under the single writer lock.
    """
    candidate, earlier = _CANDIDATE, _EARLIER
    due = (
        select(candidate.id)
        .where(
            candidate.state == PENDING,
            candidate.next_attempt_at <= now,
            or_(candidate.leased_until.is_(None), candidate.leased_until < now),
            ~exists().where(
                earlier.resource_link_id == candidate.resource_link_id,
                earlier.learner_id == candidate.learner_id,
                earlier.state == PENDING,
                earlier.id < candidate.id,
            ),
        )
        .order_by(candidate.next_attempt_at, candidate.id)
        .limit(limit)
        .with_for_update(skip_locked=True, of=candidate)
    )
    with db.session() as session:
        claimed = session.execute(
            update(ScoreOutbox)
            .where(ScoreOutbox.id.in_(due.scalar_subquery()))
            .values(leased_until=now + lease, lease_owner=owner, attempts=ScoreOutbox.attempts + 1)
            .execution_options(synchronize_session=False)
        )
        if not claimed.rowcount:  # type: ignore[attr-defined]
            return []
        rows = session.execute(
            select(*_COLUMNS)
            .join(ResourceLink, ResourceLink.id == ScoreOutbox.resource_link_id)
            .join(Learner, Learner.id == ScoreOutbox.learner_id)
            .join(Platform, Platform.id == ResourceLink.platform_id)
            .where(ScoreOutbox.lease_owner == owner)
            .order_by(ScoreOutbox.next_attempt_at, ScoreOutbox.id)
        )
        targets: dict[int, GradeTarget] = {}
        return [_claimed(row, targets) for row in rows]


def record_results(db: Database, *, owner: str, now: datetime, results: list[Result]) -> None:
    """Write what happened, in one transaction; rows whose lease `owner` lost stay untouched."""
    released = {"leased_until": None, "lease_owner": None}
    delivered = [r.id for r in results if r.error is None]
    learned = {r.link_pk: r.lineitem for r in results if r.error is None and r.lineitem}
    with db.session() as session:
        if delivered:
            session.execute(
                update(ScoreOutbox)
                .where(ScoreOutbox.id.in_(_IDS), ScoreOutbox.lease_owner == owner)
                .values(state=DELIVERED, delivered_at=now, **released)
                .execution_options(synchronize_session=False),
                {"ids": delivered},
            )
        for link_pk, lineitem in learned.items():
            session.execute(
                update(ResourceLink)
                .where(ResourceLink.id == link_pk, ResourceLink.ags_lineitem.is_(None))
                .values(ags_lineitem=lineitem)
                .execution_options(synchronize_session=False)
            )
        for result in results:
            if result.error is None:
                continue
            values: dict[str, object] = {"last_error": result.error, **released}
            if result.retry_at is None:
                values["state"] = FAILED
            else:
                values["next_attempt_at"] = result.retry_at
            session.execute(
                update(ScoreOutbox)
                .where(ScoreOutbox.id == result.id, ScoreOutbox.lease_owner == owner)
                .values(**values)
                .execution_options(synchronize_session=False)
            )


def release(db: Database, *, owner: str, ids: list[int]) -> None:
    """Hand back leased rows unsent, as if never claimed."""
    with db.session() as session:
        session.execute(
            update(ScoreOutbox)
            .where(ScoreOutbox.id.in_(ids), ScoreOutbox.lease_owner == owner)
            .values(leased_until=None, lease_owner=None, attempts=ScoreOutbox.attempts - 1)
            .execution_options(synchronize_session=False)
        )
