"""A learner's progress: blocks seen, resume point, knowledge-check attempts, completions.

Every change to one module runs in one transaction that first takes that learner's
progress row for writing (an INSERT ... ON CONFLICT DO NOTHING, which takes SQLite's
write lock, then SELECT ... FOR UPDATE, which takes PostgreSQL's row lock), so two tabs
or a double submit are applied one after the other. When a change finishes the module,
the same transaction inserts the completion (UNIQUE learner + item: a second insert
does nothing), queues the link's new score in the outbox and issues the awards now
due; so points are awarded exactly once, and never without their score.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import (
    BindParameter,
    CompoundSelect,
    CursorResult,
    Integer,
    Row,
    bindparam,
    inspect,
    literal_column,
    null,
    select,
    union_all,
)
from sqlalchemy.orm import Session

from capacity_lti.awards.points import link_items, link_score, module_blocks, module_ready
from capacity_lti.content import Programme
from capacity_lti.storage import awards, outbox
from capacity_lti.storage.engine import Database
from capacity_lti.storage.tables import (
    Base,
    Completion,
    CourseMember,
    Learner,
    ModuleProgress,
    ResourceLink,
    SelfAssessment,
    utcnow,
)
from capacity_lti.storage.upsert import dialect_insert

Answers = dict[str, tuple[int, ...]]


@dataclass(frozen=True)
class ModuleState:
    """Where one learner is in one module."""

    module_id: str
    seen: frozenset[str]
    last_block: str | None
    attempts: int
    last_answers: Answers | None
    check_passed: bool
    completed_at: datetime | None


@dataclass(frozen=True)
class Outcome:
    """The module after a change; `awarded` is the points this very change awarded (0: none)."""

    state: ModuleState
    awarded: int


@dataclass(frozen=True)
class LearnerProgress:
    """What the programme home needs: items completed, modules started, the self-assessment."""

    completed: frozenset[str]
    started: frozenset[str]
    assessment: dict[str, str]
    recommended_path: str | None


def _state(row: ModuleProgress | Row[Any] | None, module_id: str) -> ModuleState:
    """The state in a progress row (an ORM object, or a plain row of its columns)."""
    if row is None:
        return ModuleState(module_id, frozenset(), None, 0, None, False, None)
    answers = None
    if row.last_answers is not None:
        answers = {q: tuple(c) for q, c in json.loads(row.last_answers).items()}
    return ModuleState(
        module_id=module_id,
        seen=frozenset(row.seen.split()),
        last_block=row.last_block,
        attempts=row.attempts,
        last_answers=answers,
        check_passed=row.check_passed,
        completed_at=row.completed_at,
    )


def _insert_ignore(session: Session, table: type[Base], **values: Any) -> bool:
    """INSERT ... ON CONFLICT DO NOTHING; True when the row was inserted.

    PostgreSQL reports it through RETURNING (its rowcount is not available here); SQLite
    through the row count, which works from SQLite 3.24 on (RETURNING needs 3.35).
    """
    statement = dialect_insert(session, table).values(**values).on_conflict_do_nothing()
    if session.get_bind().dialect.name == "postgresql":
        key = inspect(table).primary_key
        return session.execute(statement.returning(*key)).first() is not None
    return cast(CursorResult[Any], session.execute(statement)).rowcount == 1


def _locked(session: Session, learner_id: int, module_id: str) -> ModuleProgress:
    now = utcnow()
    _insert_ignore(
        session,
        ModuleProgress,
        learner_id=learner_id,
        module_id=module_id,
        seen="",
        attempts=0,
        check_passed=False,
        started_at=now,
        updated_at=now,
    )
    query = (
        select(ModuleProgress)
        .where(ModuleProgress.learner_id == learner_id, ModuleProgress.module_id == module_id)
        .with_for_update()
    )
    return session.scalars(query).one()


_MODULE = select(*ModuleProgress.__table__.columns).where(
    ModuleProgress.learner_id == bindparam("learner_id"),
    ModuleProgress.module_id == bindparam("module_id"),
)


def module_state(db: Database, learner_id: int, module_id: str) -> ModuleState:
    with db.engine.connect() as connection:
        row = connection.execute(
            _MODULE, {"learner_id": learner_id, "module_id": module_id}
        ).one_or_none()
    return _state(row, module_id)


# The home's whole read in one statement: (kind, id, answers) rows of the learner's
# completions, started modules and self-assessment (its id: the path it recommends).
_LEARNER: BindParameter[int] = bindparam("learner_id", type_=Integer)
_PROGRESS: CompoundSelect[str, Any, Any] = union_all(
    select(literal_column("'completed'"), Completion.item_id, null()).where(
        Completion.learner_id == _LEARNER
    ),
    select(literal_column("'started'"), ModuleProgress.module_id, null()).where(
        ModuleProgress.learner_id == _LEARNER
    ),
    select(literal_column("'assessment'"), SelfAssessment.path_id, SelfAssessment.answers).where(
        SelfAssessment.learner_id == _LEARNER
    ),
)


def learner_progress(db: Database, learner_id: int) -> LearnerProgress:
    with db.engine.connect() as connection:
        rows = connection.execute(_PROGRESS, {"learner_id": learner_id}).all()
    completed = frozenset(item for kind, item, _ in rows if kind == "completed")
    started = frozenset(item for kind, item, _ in rows if kind == "started")
    assessment = next(
        ((path, answers) for kind, path, answers in rows if kind == "assessment"), None
    )
    return LearnerProgress(
        completed=completed,
        started=started,
        assessment=json.loads(assessment[1]) if assessment else {},
        recommended_path=assessment[0] if assessment else None,
    )


def mark_seen(
    db: Database,
    *,
    learner_id: int,
    programme: Programme,
    module_id: str,
    blocks: Sequence[str],
    last_block: str | None,
    resource_link_id: int | None,
    language: str | None = None,
) -> Outcome:
    """Record `blocks` of a module as seen and `last_block` as where to resume."""
    known = module_blocks(programme.modules[module_id])
    with db.session() as session:
        row = _locked(session, learner_id, module_id)
        seen = set(row.seen.split()) | {b for b in blocks if b in known}
        row.seen = " ".join(b for b in known if b in seen)
        if last_block in known:
            row.last_block = last_block
        row.updated_at = utcnow()
        return _finish(session, row, programme, resource_link_id, language)


def submit_check(
    db: Database,
    *,
    learner_id: int,
    programme: Programme,
    module_id: str,
    answers: Mapping[str, Sequence[int]],
    resource_link_id: int | None,
    language: str | None = None,
) -> Outcome:
    """Grade and keep one knowledge-check attempt; a passed check is final (later tries ignored)."""
    check = programme.modules[module_id].check
    if check is None:
        raise ValueError(f"module {module_id!r} has no knowledge check")
    with db.session() as session:
        row = _locked(session, learner_id, module_id)
        if row.check_passed:
            return Outcome(_state(row, module_id), 0)
        chosen = {
            q.id: sorted({i for i in answers.get(q.id, ()) if 0 <= i < len(q.choices)})
            for q in check.questions
        }
        row.attempts += 1
        row.last_answers = json.dumps(chosen, sort_keys=True)
        row.check_passed = check.passed(chosen)
        row.updated_at = utcnow()
        return _finish(session, row, programme, resource_link_id, language)


def _finish(
    session: Session,
    row: ModuleProgress,
    programme: Programme,
    resource_link_id: int | None,
    language: str | None,
) -> Outcome:
    awarded = 0
    module = programme.modules[row.module_id]
    if row.completed_at is None and module_ready(module, set(row.seen.split()), row.check_passed):
        if record_completion(
            session,
            learner_id=row.learner_id,
            programme=programme,
            item_id=module.id,
            resource_link_id=resource_link_id,
            language=language,
        ):
            awarded = module.points
        row.completed_at = utcnow()
    return Outcome(_state(row, row.module_id), awarded)


def record_completion(
    session: Session,
    *,
    learner_id: int,
    programme: Programme,
    item_id: str,
    resource_link_id: int | None,
    language: str | None = None,
) -> bool:
    """Complete an item inside the caller's transaction; False when it was already complete.

    A conflicting insert changes nothing, so nothing has to be undone and the learner
    sees no error. A new completion queues a score for each gradebook column it changes
    (`_scored_links`) and issues the awards now due, written in `language` (the
    learner's). `resource_link_id` None (an instructor trying a module out) queues none.
    """
    item = programme.item(item_id)
    if not _insert_ignore(
        session,
        Completion,
        learner_id=learner_id,
        item_id=item_id,
        points=item.points,
        resource_link_id=resource_link_id,
        completed_at=utcnow(),
    ):
        return False
    completed = set(
        session.scalars(select(Completion.item_id).where(Completion.learner_id == learner_id))
    )
    for link in _scored_links(session, programme, learner_id, item_id, resource_link_id):
        score = link_score(programme, link.module_id, completed)
        if score.maximum > 0:
            outbox.enqueue_score(
                session,
                resource_link_id=link.id,
                learner_id=learner_id,
                score_given=score.given,
                score_maximum=score.maximum,
                activity_progress=score.activity_progress,
                grading_progress=score.grading_progress,
            )
    awards.issue_due_awards(
        session,
        learner_id=learner_id,
        programme=programme,
        completed_item_ids={
            i for i in completed if i in programme.modules or i in programme.events
        },
        language=language,
    )
    return True


def _scored_links(
    session: Session, programme: Programme, learner_id: int, item_id: str, through: int | None
) -> list[ResourceLink]:
    """The graded links whose score a completion made through the link `through` changes:
    that link, and the other links of the learner's courses on their platform that count
    the item (a programme home, when a module was done through its own link)."""
    own = _own_link(session, learner_id, through)
    if own is None:
        return []
    courses = select(CourseMember.context_id).where(
        CourseMember.learner_id == learner_id, CourseMember.context_id != ""
    )
    others = session.scalars(
        select(ResourceLink)
        .where(
            ResourceLink.platform_id == own.platform_id,
            ResourceLink.id != own.id,
            ResourceLink.context_id.in_(courses),
        )
        .order_by(ResourceLink.id)
    )
    return [
        link
        for link in (own, *others)
        if (link.ags_lineitem or link.ags_lineitems)
        and item_id in link_items(programme, link.module_id)
    ]


def _own_link(session: Session, learner_id: int, link_id: int | None) -> ResourceLink | None:
    """The resource link, only when it belongs to the learner's own platform."""
    if link_id is None:
        return None
    query = (
        select(ResourceLink)
        .join(Learner, Learner.platform_id == ResourceLink.platform_id)
        .where(ResourceLink.id == link_id, Learner.id == learner_id)
    )
    return session.scalars(query).one_or_none()


def save_assessment(
    db: Database, *, learner_id: int, programme: Programme, answers: Mapping[str, str]
) -> str | None:
    """Keep the learner's self-assessment answers (unknown ids dropped); the path they recommend."""
    assessment = programme.assessment
    if assessment is None:
        raise ValueError("the programme has no self-assessment")
    valid = {
        q.id: answers[q.id]
        for q in assessment.questions
        if answers.get(q.id) in {a.id for a in q.answers}
    }
    path_id = assessment.recommend(valid, [p.id for p in programme.paths])
    with db.session() as session:
        _insert_ignore(
            session, SelfAssessment, learner_id=learner_id, answers="{}", updated_at=utcnow()
        )
        row = session.get_one(SelfAssessment, learner_id, with_for_update=True)
        row.answers = json.dumps(valid, sort_keys=True)
        row.path_id = path_id
        row.updated_at = utcnow()
    return path_id
