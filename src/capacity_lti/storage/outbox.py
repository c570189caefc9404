"""The score outbox: a score for the LMS is written in the same transaction as its award.

:func:`enqueue_score` runs inside the caller's session, so the award and the row commit (or
roll back) together; :mod:`capacity_lti.storage.delivery` sends the rows later.

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

from sqlalchemy import func, or_, select, update
from sqlalchemy.orm import Session

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
