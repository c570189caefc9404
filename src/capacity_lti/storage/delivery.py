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
record, and a score with the same timestamp and values either is ignored or writes the
same values again; the one result stays as it was. So at-least-once sending of an
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

from capacity_lti.errors import CapacityError, ServiceError
from capacity_lti.lti.ags import AgsClient
from capacity_lti.lti.service_token import ServiceTokens
from capacity_lti.settings import Settings
from capacity_lti.storage.engine import Database
from capacity_lti.storage.keys import KeyStore
from capacity_lti.storage.outbox import Claimed, Result, claim_due, record_results, release

log = logging.getLogger("capacity_lti.delivery")
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


class Worker:
    """Claims, sends and records scores; `run_once` is one pass, `run_forever` a loop.

    `keys`: the process's KeyStore (default: one of its own, configured from the environment).
    """

    def __init__(
        self,
        db: Database,
        *,
        policy: DeliveryPolicy | None = None,
        keys: KeyStore | None = None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        rng: random.Random | None = None,
    ) -> None:
        self.db = db
        self.policy = policy or DeliveryPolicy()
        self.clock = clock
        self._rng = rng or random.Random()  # noqa: S311 (jitter, not secrets)
        self.keys = keys or KeyStore.from_settings(db, Settings())
        self.tokens = ServiceTokens(self.keys.signing, timeout=self.policy.timeout)
        self.ags = AgsClient(self.tokens, timeout=self.policy.timeout)

    def close(self) -> None:
        self.ags.close()

    def claim(self, owner: str) -> list[Claimed]:
        return claim_due(
            self.db,
            owner=owner,
            now=self.clock(),
            lease=timedelta(seconds=self.policy.lease),
            limit=self.policy.batch,
        )

    def send(self, job: Claimed) -> Result:
        """One try at one score; what happened, with the retry time when it may pass later."""
        try:
            lineitem = self.ags.lineitem_for(job.target, job.score.score_maximum)
            self.ags.post_score(job.target, lineitem, job.score)
        except ServiceError as error:
            return self._failed(job, error)
        except CapacityError as error:  # e.g. the tool has no key yet: try again later
            return self._failed(job, ServiceError(str(error), retryable=True))
        log.info("score %d delivered (attempt %d)", job.id, job.attempts)
        learned = None if job.target.lineitem else lineitem
        return Result(job.id, job.link_pk, lineitem=learned)

    def _failed(self, job: Claimed, error: ServiceError) -> Result:
        if not error.retryable:
            log.error("score %d refused for good: %s", job.id, error)
            return Result(job.id, job.link_pk, error=error.message)
        log.warning("score %d attempt %d failed, will retry: %s", job.id, job.attempts, error)
        wait = timedelta(seconds=self.policy.delay(job.attempts, error, self._rng))
        return Result(job.id, job.link_pk, error=error.message, retry_at=self.clock() + wait)

    def run_once(self) -> int:
        """Claim due scores, send them, record what happened; returns how many were handled."""
        owner = uuid.uuid4().hex
        jobs = self.claim(owner)
        started = time.monotonic()
        budget = self.policy.lease - REQUESTS_PER_SCORE * self.policy.timeout
        results: list[Result] = []
        for job in jobs:
            if results and time.monotonic() - started > budget:  # the lease would run out
                release(self.db, owner=owner, ids=[j.id for j in jobs[len(results) :]])
                break
            results.append(self.send(job))
        if results:
            record_results(self.db, owner=owner, now=self.clock(), results=results)
        return len(results)

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


def start_in_thread(db: Database, settings: Settings, keys: KeyStore | None = None) -> WorkerThread:
    """Start a score worker thread for `capacity-lti serve` (pass the web app's KeyStore, so
    one process has one); call `.stop()` on shutdown."""
    worker = Worker(
        db,
        policy=DeliveryPolicy.from_settings(settings),
        keys=keys or KeyStore.from_settings(db, settings),
    )
    running = WorkerThread(worker)
    running.thread.start()
    return running
