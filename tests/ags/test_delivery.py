"""The outbox and its worker against the Moodle-shaped LMS, on SQLite and PostgreSQL."""

from __future__ import annotations

import random
import threading
import time
from datetime import timedelta

import pytest
from sqlalchemy import select

from capacity_lti.lti.ags import scores_url
from capacity_lti.settings import Settings
from capacity_lti.storage import Database
from capacity_lti.storage.delivery import DeliveryPolicy, Worker, start_in_thread
from capacity_lti.storage.outbox import enqueue_score, record_results
from capacity_lti.storage.tables import ResourceLink, ScoreOutbox
from tests.ags.conftest import Clock, Placement, place
from tests.ags.fake_lms import FakeMoodle

POLICY = DeliveryPolicy(timeout=0.5, backoff=2.0, backoff_max=600.0, lease=30.0, poll=0.05)


def enqueue(db: Database, where: Placement, given: float = 6.0, maximum: float = 10.0) -> None:
    with db.session() as session:
        enqueue_score(
            session,
            resource_link_id=where.link_pk,
            learner_id=where.learner_id,
            score_given=given,
            score_maximum=maximum,
            activity_progress="Completed",
            grading_progress="FullyGraded",
        )


def rows(db: Database) -> list[ScoreOutbox]:
    with db.session() as session:
        return list(session.scalars(select(ScoreOutbox).order_by(ScoreOutbox.id)))


def with_lineitem(db: Database, lms: FakeMoodle, **kwargs: str) -> tuple[Placement, str]:
    url = lms.lineitem_url(lms.add_lineitem("Climate action", 100, "rl-42"))
    return place(db, lms, lineitem=url, **kwargs), url


def test_a_score_lands_rescaled_to_the_grade_item(tool_db: Database, lms: FakeMoodle) -> None:
    where, url = with_lineitem(tool_db, lms)
    enqueue(tool_db, where)
    worker = Worker(tool_db, policy=POLICY)
    assert worker.run_once() == 1
    [row] = rows(tool_db)
    assert (row.state, row.attempts, row.last_error, row.leased_until) == (
        "delivered",
        1,
        None,
        None,
    )
    stamp = row.scored_at.isoformat(timespec="microseconds")
    assert lms.landed == [(1, where.subject, stamp, 60.0)]
    assert url.endswith("/lineitem?type_id=1")
    assert lms.score_posts == 1
    assert worker.run_once() == 0


def test_five_failures_then_exactly_one_score(tool_db: Database, lms: FakeMoodle) -> None:
    where, url = with_lineitem(tool_db, lms)
    target = f"score for {where.subject} to {scores_url(url)}"
    lms.script = ["500", "503", "429:7", "timeout", "drop"]
    enqueue(tool_db, where)
    clock = Clock()
    worker = Worker(tool_db, policy=POLICY, clock=clock, rng=random.Random(3))

    def attempt(error: str) -> float:
        assert worker.run_once() == 1
        [row] = rows(tool_db)
        assert (row.state, row.last_error, row.leased_until) == ("pending", error, None)
        return (row.next_attempt_at - clock.now).total_seconds()

    assert 1.0 <= attempt(f"{target}: HTTP 500: database busy") <= 2.0
    clock.advance(2)
    assert attempt(f"{target}: HTTP 503: database busy") == 3.0  # Retry-After: 3
    clock.advance(3)
    assert attempt(f"{target}: HTTP 429: slow down") == 7.0  # Retry-After: 7
    clock.advance(6.9)
    assert worker.run_once() == 0  # not before the LMS said
    clock.advance(0.1)
    assert 8.0 <= attempt(f"{target}: no answer from {scores_url(url)} within 0.5 s") <= 16.0
    clock.advance(16)
    assert 16.0 <= attempt(f"{target}: cannot reach {scores_url(url)}: ConnectionError") <= 32.0
    clock.advance(32)
    assert worker.run_once() == 1
    [row] = rows(tool_db)
    assert (row.state, row.attempts) == ("delivered", 6)
    assert len(lms.landed) == 1
    assert lms.score_posts == 6
    assert lms.token_requests == 1  # one token for every attempt


def test_a_resend_after_a_crash_is_the_same_score(tool_db: Database, lms: FakeMoodle) -> None:
    where, _ = with_lineitem(tool_db, lms)
    enqueue(tool_db, where)
    clock = Clock()
    crashed = Worker(tool_db, policy=POLICY, clock=clock)
    [job] = crashed.claim("crashed-worker")
    assert crashed.send(job).error is None  # the LMS applied it; no record was written
    later = Worker(tool_db, policy=POLICY, clock=clock)
    assert later.run_once() == 0  # still leased by the dead worker
    clock.advance(POLICY.lease + 1)
    assert later.run_once() == 1
    [row] = rows(tool_db)
    assert (row.state, row.attempts) == ("delivered", 2)
    assert lms.score_posts == 2
    assert len(lms.landed) == 1  # same timestamp, same values: one score in the gradebook
    [result] = lms.results.values()
    assert result["score"]["timestamp"] == row.scored_at.isoformat(timespec="microseconds")


def test_a_newer_score_supersedes_an_unsent_one(tool_db: Database, lms: FakeMoodle) -> None:
    where, _ = with_lineitem(tool_db, lms)
    enqueue(tool_db, where, given=3)
    enqueue(tool_db, where, given=5)
    first, second = rows(tool_db)
    assert (first.state, second.state) == ("superseded", "pending")
    assert second.scored_at > first.scored_at
    assert Worker(tool_db, policy=POLICY).run_once() == 1
    assert [entry[3] for entry in lms.landed] == [50.0]


def test_scores_of_one_learner_go_one_at_a_time(tool_db: Database, lms: FakeMoodle) -> None:
    where, _ = with_lineitem(tool_db, lms)
    enqueue(tool_db, where, given=3)
    sending = Worker(tool_db, policy=POLICY)
    [job] = sending.claim("first")
    enqueue(tool_db, where, given=5)  # arrives while the first is on the wire
    assert [r.state for r in rows(tool_db)] == ["pending", "pending"]
    other = Worker(tool_db, policy=POLICY)
    assert other.run_once() == 0  # the newer one waits for the older
    record_results(tool_db, owner="first", now=sending.clock(), results=[sending.send(job)])
    assert other.run_once() == 1
    assert [entry[3] for entry in lms.landed] == [30.0, 50.0]


def test_the_award_and_the_outbox_row_commit_together(tool_db: Database, lms: FakeMoodle) -> None:
    where, _ = with_lineitem(tool_db, lms)

    def award_then_fail() -> None:
        with tool_db.session() as session:
            enqueue_score(
                session,
                resource_link_id=where.link_pk,
                learner_id=where.learner_id,
                score_given=1,
                score_maximum=2,
                activity_progress="Completed",
                grading_progress="FullyGraded",
            )
            raise RuntimeError("award failed")

    with pytest.raises(RuntimeError, match="award failed"):
        award_then_fail()
    assert rows(tool_db) == []


def test_a_refused_score_fails_for_good_with_the_lms_message(
    tool_db: Database, lms: FakeMoodle
) -> None:
    where, url = with_lineitem(tool_db, lms)
    lms.enrolled.clear()
    enqueue(tool_db, where)
    worker = Worker(tool_db, policy=POLICY)
    assert worker.run_once() == 1
    [row] = rows(tool_db)
    assert row.state == "failed"
    assert row.last_error == (
        f"score for {where.subject} to {scores_url(url)}: HTTP 400: "
        f"No user with id {where.subject} in this course"
    )
    assert worker.run_once() == 0


def test_the_line_item_is_found_across_pages_then_reused(
    tool_db: Database, lms: FakeMoodle
) -> None:
    for n in range(4):
        lms.add_lineitem(f"other {n}", 10, f"rl-{n}")
    lms.add_lineitem("Climate action", 20, "rl-42")  # the third page, two per page
    where = place(tool_db, lms, lineitems=lms.lineitems_url())
    enqueue(tool_db, where)
    assert Worker(tool_db, policy=POLICY).run_once() == 1
    assert lms.landed[0][0] == 5
    assert lms.created == []
    with tool_db.session() as session:
        link = session.get(ResourceLink, where.link_pk)
        assert link is not None
        assert link.ags_lineitem == lms.lineitem_url(lms.items[5])


def test_a_missing_line_item_is_created_once(tool_db: Database, lms: FakeMoodle) -> None:
    lms.add_lineitem("other", 10, "rl-1")
    where = place(tool_db, lms, lineitems=lms.lineitems_url())
    enqueue(tool_db, where, given=4, maximum=8)
    worker = Worker(tool_db, policy=POLICY)
    assert worker.run_once() == 1
    assert lms.created == [
        {
            "scoreMaximum": 8.0,
            "label": "Climate action",
            "resourceLinkId": "rl-42",
            "tag": "capacity-lti",
        }
    ]
    enqueue(tool_db, where, given=8, maximum=8)
    assert worker.run_once() == 1
    assert len(lms.created) == 1
    assert lms.requests["GET lineitems"] == 1
    assert [(entry[0], entry[3]) for entry in lms.landed] == [(2, 4.0), (2, 8.0)]


def test_a_refused_token_is_replaced_once(tool_db: Database, lms: FakeMoodle) -> None:
    where, _ = with_lineitem(tool_db, lms)
    worker = Worker(tool_db, policy=POLICY)
    enqueue(tool_db, where, given=1)
    worker.run_once()
    lms.revoked.update(lms.issued)  # the platform forgets every token it gave out
    enqueue(tool_db, where, given=2)
    assert worker.run_once() == 1
    assert [r.attempts for r in rows(tool_db)] == [1, 1]
    assert lms.token_requests == 2
    assert len(lms.landed) == 2


def test_one_token_and_one_connection_for_many_scores(tool_db: Database, lms: FakeMoodle) -> None:
    where, url = with_lineitem(tool_db, lms)
    enqueue(tool_db, where)
    for n in range(19):
        other = place(
            tool_db,
            lms,
            lineitem=url,
            subject=f"user-{n}",
            link_id=f"rl-x{n}",
            platform_id=where.platform_id,
        )
        enqueue(tool_db, other)
    assert Worker(tool_db, policy=POLICY).run_once() == 20
    assert len(lms.landed) == 20
    assert lms.token_requests == 1
    assert len(lms.connections) == 1  # keep-alive: the token and 20 scores on one connection


def test_several_workers_send_each_score_once(tool_db: Database, lms: FakeMoodle) -> None:
    where, url = with_lineitem(tool_db, lms)
    enqueue(tool_db, where)
    for n in range(29):
        other = place(
            tool_db,
            lms,
            lineitem=url,
            subject=f"user-{n}",
            link_id=f"rl-x{n}",
            platform_id=where.platform_id,
        )
        enqueue(tool_db, other)
    policy = DeliveryPolicy(timeout=2, backoff=0, lease=30, batch=3)

    def drain() -> None:
        worker = Worker(tool_db, policy=policy)
        while worker.run_once():
            pass

    threads = [threading.Thread(target=drain) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert {r.state for r in rows(tool_db)} == {"delivered"}
    assert lms.score_posts == 30
    assert len(lms.landed) == 30


def test_the_embedded_worker_thread_delivers_and_stops(
    tool_db: Database, lms: FakeMoodle, settings: Settings
) -> None:
    where, _ = with_lineitem(tool_db, lms)
    running = start_in_thread(tool_db, settings.model_copy(update={"worker_poll_seconds": 0.05}))
    enqueue(tool_db, where)
    deadline = time.monotonic() + 30
    while rows(tool_db)[0].state != "delivered" and time.monotonic() < deadline:
        time.sleep(0.05)
    running.stop(timeout=10)
    assert not running.thread.is_alive()
    assert rows(tool_db)[0].state == "delivered"
    assert len(lms.landed) == 1
    assert timedelta(0) < rows(tool_db)[0].delivered_at - rows(tool_db)[0].created_at  # type: ignore[operator]
