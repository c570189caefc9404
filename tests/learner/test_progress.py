"""Progress, completion and exactly-once points on a real SQLite and a real PostgreSQL."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TypeVar

import pytest

from capacity_lti.content import BLOCKS, Programme
from capacity_lti.storage import Database, awards, outbox, progress
from capacity_lti.storage.progress import Outcome
from capacity_lti.storage.tables import CourseMember, ResourceLink, utcnow
from tests.learner.conftest import LINEITEMS, Seat, completions, scores, seat

RIGHT = {"q1": [0], "q2": [0, 2]}
WRONG = {"q1": [1], "q2": [0]}
T = TypeVar("T")


def seen(
    db: Database, who: Seat, programme: Programme, blocks: list[str], link: int | None = None
) -> Outcome:
    return progress.mark_seen(
        db,
        learner_id=who.learner_id,
        programme=programme,
        module_id="lighting-beginner",
        blocks=blocks,
        last_block=blocks[-1] if blocks else None,
        resource_link_id=who.module_link if link is None else link,
    )


def answer(
    db: Database,
    who: Seat,
    programme: Programme,
    answers: dict[str, list[int]],
    link: int | None = None,
) -> Outcome:
    return progress.submit_check(
        db,
        learner_id=who.learner_id,
        programme=programme,
        module_id="lighting-beginner",
        answers=answers,
        resource_link_id=who.module_link if link is None else link,
    )


def test_blocks_seen_accumulate_in_reading_order_and_resume_at_the_last(
    db: Database, programme: Programme, alice: Seat
) -> None:
    assert progress.module_state(db, alice.learner_id, "lighting-beginner").seen == frozenset()
    seen(db, alice, programme, ["processes/people", "basics/what"])
    state = seen(db, alice, programme, ["no-such-block", "basics/why"]).state
    assert state.seen == {"basics/what", "basics/why", "processes/people"}
    assert state.last_block == "basics/why"
    assert state.completed_at is None
    reread = progress.module_state(db, alice.learner_id, "lighting-beginner")
    assert reread == state
    assert progress.learner_progress(db, alice.learner_id).started == {"lighting-beginner"}


def test_check_attempts_keep_the_last_answers_and_a_pass_is_final(
    db: Database, programme: Programme, alice: Seat
) -> None:
    first = answer(db, alice, programme, {"q1": [1, 1, 7], "q2": [0]}).state
    assert (first.attempts, first.check_passed) == (1, False)
    assert first.last_answers == {"q1": (1,), "q2": (0,)}  # out-of-range choice dropped
    passed = answer(db, alice, programme, {"q1": [0], "q2": [2]}).state  # 1 of 2 = 50 %
    assert (passed.attempts, passed.check_passed) == (2, True)
    after = answer(db, alice, programme, WRONG).state
    assert after == passed  # ignored: a passed check is locked
    assert completions(db, alice.learner_id) == 0  # blocks not read yet


def test_completing_awards_once_and_queues_the_module_links_score(
    db: Database, programme: Programme, alice: Seat
) -> None:
    answer(db, alice, programme, RIGHT)
    assert seen(db, alice, programme, list(BLOCKS[:-1])).awarded == 0
    done = seen(db, alice, programme, [BLOCKS[-1]])
    assert done.awarded == 2
    assert done.state.completed_at is not None
    again = seen(db, alice, programme, list(BLOCKS))
    assert again.awarded == 0
    assert again.state.completed_at == done.state.completed_at
    assert completions(db, alice.learner_id) == 1
    assert scores(db, alice.learner_id) == [(alice.module_link, 2.0, 2.0, "Completed")]
    with db.session() as session:
        held = awards.learner_awards(
            session, learner_id=alice.learner_id, programme_id=programme.id
        )
    assert [a.key for a in held] == ["module:lighting-beginner"]


def test_the_home_link_is_scored_on_the_whole_programme(
    db: Database, programme: Programme, alice: Seat
) -> None:
    answer(db, alice, programme, RIGHT, link=alice.home_link)
    seen(db, alice, programme, list(BLOCKS), link=alice.home_link)
    assert scores(db, alice.learner_id) == [(alice.home_link, 2.0, 7.0, "InProgress")]


def _in_course(db: Database, who: Seat, context_id: str) -> None:
    """Both of the seat's links placed in the course `context_id`, the learner a member."""
    with db.session() as session:
        for link in (who.home_link, who.module_link):
            session.get_one(ResourceLink, link).context_id = context_id
        session.add(
            CourseMember(
                learner_id=who.learner_id,
                platform_id=who.platform_id,
                context_id=context_id,
                launched_at=utcnow(),
            )
        )


def _home_link(db: Database, platform_id: int, context_id: str, link_id: str) -> int:
    with db.session() as session:
        link = ResourceLink(
            platform_id=platform_id,
            deployment_id="1",
            link_id=link_id,
            context_id=context_id,
            ags_lineitems=LINEITEMS,
        )
        session.add(link)
        session.flush()
        return link.id


def test_a_module_done_through_its_own_link_scores_the_courses_programme_home_too(
    db: Database, programme: Programme, alice: Seat, bob: Seat
) -> None:
    _in_course(db, alice, "course-1")
    _in_course(db, bob, "course-1")  # the same course id, on another platform
    elsewhere = _home_link(db, alice.platform_id, "course-2", "home-of-a-course-she-is-not-in")
    answer(db, alice, programme, RIGHT)
    seen(db, alice, programme, list(BLOCKS))
    assert scores(db, alice.learner_id) == [
        (alice.module_link, 2.0, 2.0, "Completed"),
        (alice.home_link, 2.0, 7.0, "InProgress"),  # her points out of the programme's
    ]
    assert elsewhere not in {link for link, *_ in scores(db, alice.learner_id)}
    assert scores(db, bob.learner_id) == []
    with db.session() as session:  # she joins course 2 too
        session.add(
            CourseMember(
                learner_id=alice.learner_id, platform_id=alice.platform_id, context_id="course-2"
            )
        )
    attend(db, programme, alice, link=alice.home_link)  # the event counts on every home
    assert scores(db, alice.learner_id)[2:] == [
        (alice.home_link, 5.0, 7.0, "InProgress"),
        (elsewhere, 5.0, 7.0, "InProgress"),
    ]


def test_a_completion_without_a_link_scores_nowhere(
    db: Database, programme: Programme, alice: Seat
) -> None:
    _in_course(db, alice, "course-1")
    attend(db, programme, alice, link=None)  # an instructor trying the tool out
    assert completions(db, alice.learner_id) == 1
    assert scores(db, alice.learner_id) == []


def attend(db: Database, programme: Programme, who: Seat, link: int | None) -> None:
    with db.session() as session:
        progress.record_completion(
            session,
            learner_id=who.learner_id,
            programme=programme,
            item_id="site-visit",
            resource_link_id=link,
        )


def test_no_score_for_a_link_that_does_not_count_the_module_or_has_no_gradebook(
    db: Database, programme: Programme, alice: Seat
) -> None:
    other = seat(db, "https://lms-a.example", "alice-2", module_id="lighting-advanced")
    answer(db, other, programme, RIGHT)
    assert seen(db, other, programme, list(BLOCKS)).awarded == 2  # points, but no score:
    assert scores(db, other.learner_id) == []  # that link is for another module
    with db.session() as session:
        session.get_one(progress.ResourceLink, alice.home_link).ags_lineitems = None
    answer(db, alice, programme, RIGHT, link=alice.home_link)
    assert seen(db, alice, programme, list(BLOCKS), link=alice.home_link).awarded == 2
    assert scores(db, alice.learner_id) == []


def test_a_link_of_another_platform_never_gets_the_score(
    db: Database, programme: Programme, alice: Seat, bob: Seat
) -> None:
    answer(db, alice, programme, RIGHT, link=bob.module_link)
    assert seen(db, alice, programme, list(BLOCKS), link=bob.module_link).awarded == 2
    assert scores(db, alice.learner_id) == []
    assert scores(db, bob.learner_id) == []


def test_one_learner_never_sees_another_learners_progress(
    db: Database, programme: Programme, alice: Seat, bob: Seat
) -> None:
    answer(db, alice, programme, RIGHT)
    seen(db, alice, programme, list(BLOCKS))
    progress.save_assessment(
        db, learner_id=alice.learner_id, programme=programme, answers={"role": "officer"}
    )
    assert progress.module_state(db, bob.learner_id, "lighting-beginner").seen == frozenset()
    theirs = progress.learner_progress(db, bob.learner_id)
    assert (theirs.completed, theirs.started, theirs.assessment) == (frozenset(), frozenset(), {})
    mine = progress.learner_progress(db, alice.learner_id)
    assert mine.completed == {"lighting-beginner"}


def test_self_assessment_keeps_valid_answers_and_recommends_a_path(
    db: Database, programme: Programme, alice: Seat
) -> None:
    chosen = progress.save_assessment(
        db,
        learner_id=alice.learner_id,
        programme=programme,
        answers={"role": "trainer", "unknown": "x"},
    )
    assert chosen == "trainers"
    record = progress.learner_progress(db, alice.learner_id)
    assert (record.assessment, record.recommended_path) == ({"role": "trainer"}, "trainers")
    assert (
        progress.save_assessment(
            db, learner_id=alice.learner_id, programme=programme, answers={"role": "nobody"}
        )
        is None
    )
    assert progress.learner_progress(db, alice.learner_id).assessment == {}


def race(count: int, work: Callable[[], T]) -> list[T]:
    """Run `work` in `count` real threads released at the same instant; re-raise any error."""
    barrier = threading.Barrier(count)
    results: list[T] = []
    errors: list[BaseException] = []
    lock = threading.Lock()

    def run() -> None:
        barrier.wait()
        try:
            result = work()
        except BaseException as error:
            with lock:
                errors.append(error)
            return
        with lock:
            results.append(result)

    threads = [threading.Thread(target=run) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors, errors
    assert len(results) == count
    return results


@pytest.mark.parametrize("last_step", ["read", "answer"])
def test_concurrent_finishing_requests_award_points_exactly_once(
    db: Database, programme: Programme, alice: Seat, last_step: str
) -> None:
    if last_step == "read":
        answer(db, alice, programme, RIGHT)
        seen(db, alice, programme, list(BLOCKS[:-1]))
        outcomes = race(8, lambda: seen(db, alice, programme, [BLOCKS[-1]]))
    else:
        seen(db, alice, programme, list(BLOCKS))
        outcomes = race(8, lambda: answer(db, alice, programme, RIGHT))
    assert sorted(o.awarded for o in outcomes) == [0] * 7 + [2]
    assert completions(db, alice.learner_id) == 1
    assert scores(db, alice.learner_id) == [(alice.module_link, 2.0, 2.0, "Completed")]
    state = progress.module_state(db, alice.learner_id, "lighting-beginner")
    assert state.attempts == 1  # the attempts after the pass were ignored


def test_concurrent_completions_of_one_item_insert_once(
    db: Database, programme: Programme, alice: Seat, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The UNIQUE (learner, item) key alone, without the progress lock (e.g. an event)."""
    queued: list[int] = []
    real = outbox.enqueue_score

    def counting(session: object, **fields: object) -> None:
        queued.append(1)
        real(session, **fields)  # type: ignore[arg-type]

    monkeypatch.setattr(outbox, "enqueue_score", counting)

    def complete() -> bool:
        with db.session() as session:
            return progress.record_completion(
                session,
                learner_id=alice.learner_id,
                programme=programme,
                item_id="site-visit",
                resource_link_id=alice.home_link,
            )

    assert sorted(race(8, complete)) == [False] * 7 + [True]
    assert completions(db, alice.learner_id) == 1
    assert len(queued) == 1
    assert scores(db, alice.learner_id) == [(alice.home_link, 3.0, 7.0, "InProgress")]
