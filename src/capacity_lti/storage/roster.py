"""Courses and their members for instructors, always scoped to one platform and one context.

A course is a platform + LTI context id, found from the instructor's own resource link.
Its members are the learners seen at a launch from a link of that context
(:func:`note_membership`, called by the launch) or listed in its NRPS roster (:func:`sync_roster`, which creates the
learner row of a member who never launched: ``subject`` = the NRPS ``user_id``, the same
value as their LTI ``sub`` on that platform). Attendance is recorded in
:mod:`capacity_lti.storage.attendance`, for members of the course only.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import TypeVar

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from capacity_lti.errors import LaunchError
from capacity_lti.lti.nrps import Member
from capacity_lti.lti.service_token import TokenEndpoint
from capacity_lti.storage.engine import Database
from capacity_lti.storage.tables import (
    Base,
    Completion,
    CourseMember,
    Learner,
    Platform,
    ResourceLink,
    utcnow,
)
from capacity_lti.storage.upsert import Executor, dialect_insert, upsert

CHUNK = 500  # ids per IN (...) list: well under SQLite's and PostgreSQL's parameter limits
_AGAIN = "Please open the tool again from the activity in your course."
_MEMBERS = Base.metadata.tables["course_member"]
T = TypeVar("T")


@dataclass(frozen=True)
class Course:
    """The course an instructor's link belongs to, and how to reach its NRPS roster."""

    platform_id: int
    context_id: str
    context_title: str
    link_pk: int
    nrps_url: str | None
    endpoint: TokenEndpoint


@dataclass(frozen=True)
class RosterRow:
    """One learner of the course with what they have completed."""

    learner_id: int
    subject: str
    name: str
    email: str
    active: bool
    launched: bool
    completed: frozenset[str]


def chunks(items: Sequence[T]) -> Iterator[Sequence[T]]:
    for start in range(0, len(items), CHUNK):
        yield items[start : start + CHUNK]


def course_of(db: Database, platform_id: int, link_pk: int | None) -> Course:
    """The course of the session's link; LaunchError when there is no course to speak of."""
    if link_pk is None:
        raise LaunchError("no-course", "The tool was not opened from a course activity. " + _AGAIN)
    with db.session() as session:
        found = session.execute(
            select(ResourceLink, Platform)
            .join(Platform, Platform.id == ResourceLink.platform_id)
            .where(ResourceLink.id == link_pk, ResourceLink.platform_id == platform_id)
        ).one_or_none()
        if found is None:
            raise LaunchError("no-course", "The tool does not know this course activity. " + _AGAIN)
        link, platform = found
        if not link.context_id:
            raise LaunchError(
                "no-course",
                "Your LMS opened the tool outside a course (the launch named no course), so "
                "there is no course roster to show.",
            )
        return Course(
            platform_id=platform.id,
            context_id=link.context_id,
            context_title=link.context_title,
            link_pk=link.id,
            nrps_url=link.nrps_url,
            endpoint=TokenEndpoint(
                platform.auth_token_url, platform.client_id, platform.auth_audience
            ),
        )


def note_membership(
    executor: Executor, *, learner_id: int, platform_id: int, context_id: str, teaching: bool
) -> None:
    """Remember, in the launch's transaction, that the learner launched from this course."""
    now = utcnow()
    upsert(
        executor,
        _MEMBERS,
        {
            "learner_id": learner_id,
            "platform_id": platform_id,
            "context_id": context_id,
            "teaching": teaching,
            "in_roster": False,
            "launched_at": now,
            "updated_at": now,
        },
        keys=["learner_id", "context_id"],
        update=["teaching", "launched_at", "updated_at"],
    )


def _mark_in_roster(session: Session, course: Course, learner_ids: Sequence[int]) -> None:
    """Upsert the course memberships of `learner_ids` as listed in the roster, in batches."""
    for chunk in chunks(learner_ids):
        now = utcnow()
        statement = dialect_insert(session, CourseMember).values(
            [
                {
                    "learner_id": i,
                    "platform_id": course.platform_id,
                    "context_id": course.context_id,
                    "teaching": False,
                    "in_roster": True,
                    "updated_at": now,
                }
                for i in chunk
            ]
        )
        session.execute(
            statement.on_conflict_do_update(
                index_elements=["learner_id", "context_id"],
                set_={"in_roster": True, "updated_at": now},
            )
        )


def _completed(session: Session, ids: Sequence[int]) -> dict[int, set[str]]:
    done: dict[int, set[str]] = {i: set() for i in ids}
    for chunk in chunks(ids):
        rows = session.execute(
            select(Completion.learner_id, Completion.item_id).where(
                Completion.learner_id.in_(chunk)
            )
        )
        for learner_id, item_id in rows:
            done[learner_id].add(item_id)
    return done


def _rows(
    session: Session, course: Course, learners: Iterable[Learner], active: dict[int, bool]
) -> list[RosterRow]:
    people = list(learners)
    ids = [p.id for p in people]
    done = _completed(session, ids)
    launched: set[int] = set()
    for chunk in chunks(ids):
        launched.update(
            session.scalars(
                select(CourseMember.learner_id).where(
                    CourseMember.context_id == course.context_id,
                    CourseMember.platform_id == course.platform_id,
                    CourseMember.learner_id.in_(chunk),
                    CourseMember.launched_at.is_not(None),
                )
            )
        )
    rows = [
        RosterRow(
            p.id,
            p.subject,
            p.name,
            p.email,
            active.get(p.id, True),
            p.id in launched,
            frozenset(done[p.id]),
        )
        for p in people
    ]
    return sorted(rows, key=lambda r: (r.name.casefold() or "\uffff", r.subject))


def sync_roster(db: Database, course: Course, members: Sequence[Member]) -> list[RosterRow]:
    """The course's learners as NRPS lists them; learner rows made for those who never launched.

    Members without a Learner role and members the platform marks Deleted are left out.
    """
    listed: dict[str, Member] = {}
    for member in members:  # a user_id longer than the column cannot be anyone's `sub` here
        if member.learner and member.status != "Deleted" and len(member.user_id) <= 255:
            listed.setdefault(member.user_id, member)
    subjects = list(listed)
    with db.session() as session:
        for chunk in chunks(subjects):
            session.execute(
                dialect_insert(session, Learner)
                .values(
                    [
                        {
                            "platform_id": course.platform_id,
                            "subject": s,
                            "name": listed[s].name[:255],
                            "email": listed[s].email[:255],
                            "created_at": utcnow(),
                            "last_launch_at": utcnow(),
                        }
                        for s in chunk
                    ]
                )
                .on_conflict_do_nothing(index_elements=["platform_id", "subject"])
            )
        learners: list[Learner] = []
        for chunk in chunks(subjects):
            learners += session.scalars(
                select(Learner).where(
                    Learner.platform_id == course.platform_id, Learner.subject.in_(chunk)
                )
            )
        learners.sort(key=lambda learner: learner.id)  # one lock order for concurrent syncs
        for learner in learners:
            member = listed[learner.subject]
            if member.name and learner.name != member.name[:255]:
                learner.name = member.name[:255]
            if member.email and learner.email != member.email[:255]:
                learner.email = member.email[:255]
        current = {learner.id for learner in learners}
        _mark_in_roster(session, course, sorted(current))
        listed_before = session.execute(
            select(CourseMember.id, CourseMember.learner_id).where(
                CourseMember.platform_id == course.platform_id,
                CourseMember.context_id == course.context_id,
                CourseMember.in_roster.is_(True),
            )
        ).all()
        gone = [row_id for row_id, learner_id in listed_before if learner_id not in current]
        for stale in chunks(gone):
            session.execute(
                update(CourseMember).where(CourseMember.id.in_(stale)).values(in_roster=False)
            )
        active = {learner.id: listed[learner.subject].status == "Active" for learner in learners}
        return _rows(session, course, learners, active)


def launched_roster(db: Database, course: Course) -> list[RosterRow]:
    """The course's learners known from their own launches (when the LMS offers no NRPS)."""
    with db.session() as session:
        learners = session.scalars(
            select(Learner)
            .join(CourseMember, CourseMember.learner_id == Learner.id)
            .where(
                CourseMember.platform_id == course.platform_id,
                CourseMember.context_id == course.context_id,
                CourseMember.launched_at.is_not(None),
                CourseMember.teaching.is_(False),
                Learner.platform_id == course.platform_id,
            )
        ).all()
        return _rows(session, course, learners, {})
