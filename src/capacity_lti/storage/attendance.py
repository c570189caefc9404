"""Event attendance: an event a learner attended counts like a completed module.

Recording it is ``progress.record_completion`` for the event, in one transaction: the
UNIQUE (learner, item) completion awards the points once however often it is submitted,
the score of the course link that counts the event is queued, and the awards now due are
issued. An instructor records attendance for members of their own course only
(:func:`record_attendance`); an administrator names the platform and the learner's `sub`
(:func:`record_for_learner`).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from capacity_lti.awards.points import link_items
from capacity_lti.content import Programme
from capacity_lti.errors import LaunchError
from capacity_lti.storage.engine import Database
from capacity_lti.storage.progress import record_completion
from capacity_lti.storage.roster import Course, chunks
from capacity_lti.storage.tables import CourseMember, Learner, ResourceLink


def scoring_link(
    session: Session,
    platform_id: int,
    context_id: str,
    programme: Programme,
    item_id: str,
    prefer: int | None = None,
) -> int | None:
    """The course's link whose gradebook column counts the item: `prefer` if it does, else
    the most recently launched one that does; None when no link of the course is graded."""
    links = session.scalars(
        select(ResourceLink)
        .where(
            ResourceLink.platform_id == platform_id,
            ResourceLink.context_id == context_id,
            or_(ResourceLink.ags_lineitem.is_not(None), ResourceLink.ags_lineitems.is_not(None)),
        )
        .order_by(ResourceLink.updated_at.desc(), ResourceLink.id.desc())
    ).all()
    counting = [link for link in links if item_id in link_items(programme, link.module_id)]
    chosen = [link for link in counting if link.id == prefer] or counting
    return chosen[0].id if chosen else None


def _known_event(programme: Programme, event_id: str) -> None:
    if event_id not in programme.events:
        raise LaunchError("unknown-module", "This event is not part of the programme.")


def record_attendance(
    db: Database, course: Course, programme: Programme, event_id: str, learner_ids: Iterable[int]
) -> list[int]:
    """Record that the learners attended the event; the ids recorded now (not before).

    Every learner must be a member of the course (launched from it, or in its latest NRPS
    roster) on the course's platform; otherwise nothing is recorded.
    """
    _known_event(programme, event_id)
    wanted = sorted(set(learner_ids))
    with db.session() as session:
        members: set[int] = set()
        for chunk in chunks(wanted):
            members.update(
                session.scalars(
                    select(CourseMember.learner_id)
                    .join(Learner, Learner.id == CourseMember.learner_id)
                    .where(
                        CourseMember.platform_id == course.platform_id,
                        CourseMember.context_id == course.context_id,
                        Learner.platform_id == course.platform_id,
                        CourseMember.learner_id.in_(chunk),
                        or_(
                            CourseMember.launched_at.is_not(None), CourseMember.in_roster.is_(True)
                        ),
                    )
                )
            )
        if set(wanted) - members:
            raise LaunchError(
                "not-in-course",
                "Attendance can be recorded only for learners of this course; the list has "
                "changed. Please reload the page and try again.",
            )
        link = scoring_link(
            session, course.platform_id, course.context_id, programme, event_id, course.link_pk
        )
        return [
            learner_id
            for learner_id in wanted
            if record_completion(
                session,
                learner_id=learner_id,
                programme=programme,
                item_id=event_id,
                resource_link_id=link,
            )
        ]


@dataclass(frozen=True)
class AdminRecord:
    """What `record_for_learner` did: newly recorded or not, and the link scored (if any)."""

    learner_id: int
    recorded: bool
    link_pk: int | None


def record_for_learner(
    db: Database, *, platform_id: int, subject: str, programme: Programme, event_id: str
) -> AdminRecord | None:
    """Record attendance for the platform's learner `subject`; None when there is no such learner.

    The score goes to a graded link of the course the learner last launched from.
    """
    _known_event(programme, event_id)
    with db.session() as session:
        learner_id = session.scalar(
            select(Learner.id).where(Learner.platform_id == platform_id, Learner.subject == subject)
        )
        if learner_id is None:
            return None
        context_id = session.scalar(
            select(CourseMember.context_id)
            .where(CourseMember.learner_id == learner_id, CourseMember.platform_id == platform_id)
            .order_by(CourseMember.launched_at.desc().nulls_last(), CourseMember.updated_at.desc())
            .limit(1)
        )
        link = (
            scoring_link(session, platform_id, context_id, programme, event_id)
            if context_id is not None
            else None
        )
        recorded = record_completion(
            session,
            learner_id=learner_id,
            programme=programme,
            item_id=event_id,
            resource_link_id=link,
        )
        return AdminRecord(learner_id, recorded, link)
