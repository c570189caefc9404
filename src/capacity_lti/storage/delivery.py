"""The score worker: sends outbox rows to the LMS, with retries, and never loses or doubles one.

A worker claims due rows with a *lease* (``leased_until``, ``lease_owner``) in one short
transaction (PostgreSQL: ``FOR UPDATE SKIP LOCKED``, so several workers share the queue;
SQLite: the claiming UPDATE is one statement under SQLite's single writer), sends them over
HTTP outside any transaction, then records each outcome guarded by its lease owner.

Why a score is never lost: a row leaves ``pending`` only when the LMS answered 2xx
(``delivered``) or refused it for good (``failed``, with the LMS's message). A worker killed
at any point leaves its rows ``pending`` with a lease that expires, after which any worker
sends them again; transient failures (timeouts, connection errors, 408/429/5xx, refused
tokens) are rescheduled with exponential backoff and jitter, or after ``Retry-After``.

Why a score is never doubled: that re-send is byte-identical to the first send, including
the AGS ``timestamp`` fixed at enqueue. AGS 2.0 makes the platform keep one result per
user and line item and decide by timestamp: it must not apply a score older than the one on
record, and a score with the same timestamp and values leaves that one result as it was
(Moodle compares timestamps and stores the same grade again). So at-least-once sending of an
unchanging document gives exactly one score in the gradebook. Rows of one learner + link go
one at a time, oldest first (see storage.outbox), so an older score never overtakes a newer.
"""

from __future__ import annotations

import logging
import random
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import exists, or_, select, update
from sqlalchemy.orm import aliased

from capacity_lti.errors import CapacityError, ServiceError
from capacity_lti.lti.ags import AgsClient, GradeTarget, Score
from capacity_lti.lti.keys import KeyRing, SigningKey
from capacity_lti.lti.service_token import ServiceTokens, TokenEndpoint
from capacity_lti.settings import Settings
from capacity_lti.storage.engine import Database
from capacity_lti.storage.keys import key_ring
from capacity_lti.storage.outbox import DELIVERED, FAILED, PENDING
from capacity_lti.storage.tables import Learner, Platform, ResourceLink, ScoreOutbox

log = logging.getLogger("capacity_lti.delivery")
KEY_RELOAD_SECONDS = 60.0  # picks up `keys rotate` well within the shortest key retention
REQUESTS_PER_SCORE = 4  # worst case: token, line items, new line item, score


@dataclass(frozen=True)
class DeliveryPolicy:
    """Timeouts and the retry schedule (seconds); tests make them small."""

    timeout: float = 10.0
    backoff: float = 5.0
    backoff_max: float = 3600.0
    lease: float = 120.0
    poll: float = 2.0
    batch: int = 100

    @classmethod
    def from_settings(cls, settings: Settings) -> DeliveryPolicy:
        return cls(
            timeout=settings.delivery_timeout_seconds,
            backoff=settings.delivery_backoff_seconds,
            backoff_max=settings.delivery_backoff_max_seconds,
            lease=settings.delivery_lease_seconds,
            poll=settings.worker_poll_seconds,
        )

    def delay(self, attempts: int, error: ServiceError, rng: random.Random) -> float:
        """When to try again: what the LMS asked for, else doubling backoff with jitter."""
        if error.retry_after is not None:
            return min(error.retry_after, self.backoff_max)
        ceiling = min(self.backoff_max, self.backoff * 2.0 ** max(0, attempts - 1))
        return ceiling * rng.uniform(0.5, 1.0)


@dataclass(frozen=True)
class _Job:
    id: int
    link_pk: int
    target: GradeTarget
    score: Score


@dataclass
class _Outcome:
    job: _Job
    error: ServiceError | None
    attempts: int
    lineitem: str | None = None


class Worker:
    """Claims, sends and records scores; `run_once` is one pass, `run_forever` a loop."""

    def __init__(
        self,
        db: Database,
        *,
        policy: DeliveryPolicy | None = None,
        key_retention: timedelta = timedelta(hours=1),
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        rng: random.Random | None = None,
    ) -> None:
        self.db = db
        self.policy = policy or DeliveryPolicy()
        self._retention = key_retention
        self._clock = clock
        self._rng = rng or random.Random()  # noqa: S311 (jitter, not secrets)
        self._ring: KeyRing | None = None
        self._ring_loaded = 0.0
        self.tokens = ServiceTokens(self._signing_key, timeout=self.policy.timeout)
        self.ags = AgsClient(self.tokens, timeout=self.policy.timeout)

    def _signing_key(self) -> SigningKey:
        if self._ring is None or time.monotonic() - self._ring_loaded > KEY_RELOAD_SECONDS:
            self._ring = key_ring(self.db, self._retention)
            self._ring_loaded = time.monotonic()
        return self._ring.signing

    def close(self) -> None:
        self.ags.close()

    def _claim(self, owner: str) -> list[tuple[_Job, int]]:
        now = self._clock()
        candidate, earlier = aliased(ScoreOutbox), aliased(ScoreOutbox)
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
            .limit(self.policy.batch)
            .with_for_update(skip_locked=True, of=candidate)
        )
        with self.db.session() as session:
            claimed = session.execute(
                update(ScoreOutbox)
                .where(ScoreOutbox.id.in_(due.scalar_subquery()))
                .values(
                    leased_until=now + timedelta(seconds=self.policy.lease),
                    lease_owner=owner,
                    attempts=ScoreOutbox.attempts + 1,
                )
                .returning(ScoreOutbox.id)
                .execution_options(synchronize_session=False)
            )
            ids = list(claimed.scalars())
            if not ids:
                return []
            rows = session.execute(
                select(*_COLUMNS)
                .join(ResourceLink, ResourceLink.id == ScoreOutbox.resource_link_id)
                .join(Learner, Learner.id == ScoreOutbox.learner_id)
                .join(Platform, Platform.id == ResourceLink.platform_id)
                .where(ScoreOutbox.id.in_(ids))
                .order_by(ScoreOutbox.next_attempt_at, ScoreOutbox.id)
            )
            targets: dict[int, GradeTarget] = {}
            return [(_job(row, targets), row.attempts) for row in rows]

    def _send(self, job: _Job, attempts: int) -> _Outcome:
        try:
            lineitem = self.ags.lineitem_for(job.target, job.score.score_maximum)
            self.ags.post_score(job.target, lineitem, job.score)
        except ServiceError as error:
            return _Outcome(job, error, attempts)
        except CapacityError as error:  # e.g. the tool has no key yet: try again later
            return _Outcome(job, ServiceError(str(error), retryable=True), attempts)
        return _Outcome(job, None, attempts, lineitem=lineitem)

    def _record(self, owner: str, outcomes: list[_Outcome]) -> None:
        """Write what happened, in one transaction; rows whose lease we lost are left alone."""
        now = self._clock()
        released = {"leased_until": None, "lease_owner": None}
        delivered = [o.job.id for o in outcomes if o.error is None]
        learned = {
            o.job.link_pk: o.lineitem
            for o in outcomes
            if o.error is None and o.lineitem and not o.job.target.lineitem
        }
        with self.db.session() as session:
            if delivered:
                session.execute(
                    update(ScoreOutbox)
                    .where(ScoreOutbox.id.in_(delivered), ScoreOutbox.lease_owner == owner)
                    .values(state=DELIVERED, delivered_at=now, **released)
                    .execution_options(synchronize_session=False)
                )
            for link_pk, lineitem in learned.items():
                session.execute(
                    update(ResourceLink)
                    .where(ResourceLink.id == link_pk, ResourceLink.ags_lineitem.is_(None))
                    .values(ags_lineitem=lineitem)
                    .execution_options(synchronize_session=False)
                )
            for outcome in outcomes:
                error = outcome.error
                if error is None:
                    continue
                if error.retryable:
                    wait = self.policy.delay(outcome.attempts, error, self._rng)
                    values: dict[str, object] = {
                        "next_attempt_at": now + timedelta(seconds=wait),
                        "last_error": error.message,
                    }
                else:
                    values = {"state": FAILED, "last_error": error.message}
                session.execute(
                    update(ScoreOutbox)
                    .where(ScoreOutbox.id == outcome.job.id, ScoreOutbox.lease_owner == owner)
                    .values(**values, **released)
                    .execution_options(synchronize_session=False)
                )
        for outcome in outcomes:
            _log(outcome)

    def run_once(self) -> int:
        """Claim due scores, send them, record what happened; returns how many were handled."""
        owner = uuid.uuid4().hex
        jobs = self._claim(owner)
        if not jobs:
            return 0
        started = time.monotonic()
        budget = self.policy.lease - REQUESTS_PER_SCORE * self.policy.timeout
        outcomes: list[_Outcome] = []
        for job, attempts in jobs:
            if outcomes and time.monotonic() - started > budget:
                self._release(owner, [j.id for j, _ in jobs[len(outcomes) :]])
                break
            outcomes.append(self._send(job, attempts))
        self._record(owner, outcomes)
        return len(outcomes)

    def _release(self, owner: str, ids: list[int]) -> None:
        """Hand back rows this pass has no lease time left for, as if never claimed."""
        with self.db.session() as session:
            session.execute(
                update(ScoreOutbox)
                .where(ScoreOutbox.id.in_(ids), ScoreOutbox.lease_owner == owner)
                .values(leased_until=None, lease_owner=None, attempts=ScoreOutbox.attempts - 1)
                .execution_options(synchronize_session=False)
            )

    def run_forever(self, stop: threading.Event) -> None:
        """Deliver until `stop` is set; an unreachable database is waited out, not fatal."""
        while not stop.is_set():
            try:
                handled = self.run_once()
            except CapacityError as error:
                log.warning("score worker: %s; trying again in %g s", error, self.policy.poll)
                handled = 0
            except Exception:  # a bug must not stop grades for good: claimed rows come back
                log.exception(
                    "score worker: unexpected error; trying again in %g s", self.policy.poll
                )
                handled = 0
            if not handled:
                stop.wait(self.policy.poll)


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


def _job(row: Any, targets: dict[int, GradeTarget]) -> _Job:
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
    return _Job(row.id, row.link_pk, target, score)


def _log(outcome: _Outcome) -> None:
    job, error = outcome.job, outcome.error
    if error is None:
        log.info("score %d delivered (attempt %d)", job.id, outcome.attempts)
    elif error.retryable:
        log.warning("score %d attempt %d failed, will retry: %s", job.id, outcome.attempts, error)
    else:
        log.error("score %d refused for good: %s", job.id, error)


class WorkerThread:
    """The embedded default: a worker in a daemon thread of the web process."""

    def __init__(self, worker: Worker) -> None:
        self.worker = worker
        self.stop_event = threading.Event()
        self.thread = threading.Thread(
            target=worker.run_forever,
            args=(self.stop_event,),
            name="capacity-lti-worker",
            daemon=True,
        )

    def stop(self, timeout: float | None = None) -> None:
        self.stop_event.set()
        self.thread.join(timeout)
        self.worker.close()


def start_in_thread(db: Database, settings: Settings) -> WorkerThread:
    """Start a score worker thread for `capacity-lti serve`; call `.stop()` on shutdown."""
    worker = Worker(
        db,
        policy=DeliveryPolicy.from_settings(settings),
        key_retention=timedelta(seconds=settings.key_retention_seconds),
    )
    running = WorkerThread(worker)
    running.thread.start()
    return running
