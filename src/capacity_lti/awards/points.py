"""Points, statuses and scores computed from a programme and a learner's records.

Pure functions: they take the programme and plain sets of ids (what the learner
completed, which blocks they saw) and never touch storage. A *link* is one
placement of the tool in a course: a link to one module is scored on that
module's points, a link to the programme home (module id None) on the whole
programme's.
"""

from __future__ import annotations

from collections.abc import Collection, Set
from dataclasses import dataclass
from enum import StrEnum

from capacity_lti.content import BLOCKS, Module, Programme


class Status(StrEnum):
    NOT_STARTED = "not-started"
    IN_PROGRESS = "in-progress"
    COMPLETED = "completed"


@dataclass(frozen=True)
class Score:
    """A score for one link, in the form AGS wants it (given out of maximum)."""

    given: float
    maximum: float
    complete: bool

    @property
    def activity_progress(self) -> str:
        return "Completed" if self.complete else "InProgress"

    @property
    def grading_progress(self) -> str:
        # Moodle records a score in the gradebook only when it is FullyGraded; every
        # score we send is final for what the learner has done so far.
        return "FullyGraded"


@dataclass(frozen=True)
class PathProgress:
    path_id: str
    done: int
    total: int
    earned: int
    possible: int

    @property
    def complete(self) -> bool:
        return self.done == self.total


def module_blocks(module: Module) -> tuple[str, ...]:
    """The blocks a learner must see to finish `module`, in reading order."""
    return tuple(key for key in BLOCKS if key in module.blocks)


def module_ready(module: Module, seen: Set[str], check_passed: bool) -> bool:
    """Whether a module is done: every block seen and, when it has a check, the check passed."""
    if module.check is not None and not check_passed:
        return False
    return all(key in seen for key in module_blocks(module))


def link_items(programme: Programme, module_id: str | None) -> tuple[str, ...]:
    """The items a link is scored on: its module, or every item of the programme."""
    if module_id is None:
        return tuple(item.id for item in programme.items())
    return (module_id,) if module_id in programme.modules else ()


def earned(programme: Programme, completed: Collection[str], item_ids: Collection[str]) -> int:
    """Points of the items of `item_ids` that are in `completed` (unknown ids count nothing)."""
    known = {item.id: item.points for item in programme.items()}
    return sum(known[i] for i in item_ids if i in completed and i in known)


def total_earned(programme: Programme, completed: Collection[str]) -> int:
    """Every point the learner holds in this programme."""
    return earned(programme, completed, [item.id for item in programme.items()])


def link_score(programme: Programme, module_id: str | None, completed: Collection[str]) -> Score:
    """Points earned / points possible for a link; `complete` once every item of it is done."""
    items = link_items(programme, module_id)
    return Score(
        given=float(earned(programme, completed, items)),
        maximum=float(programme.points_possible(items)),
        complete=bool(items) and all(i in completed for i in items),
    )


def path_progress(programme: Programme, path_id: str, completed: Collection[str]) -> PathProgress:
    path = programme.path(path_id)
    return PathProgress(
        path_id=path.id,
        done=sum(1 for i in path.items if i in completed),
        total=len(path.items),
        earned=earned(programme, completed, path.items),
        possible=programme.points_possible(path.items),
    )


def item_status(item_id: str, completed: Collection[str], started: Collection[str]) -> Status:
    if item_id in completed:
        return Status.COMPLETED
    if item_id in started:
        return Status.IN_PROGRESS
    return Status.NOT_STARTED


def missing_prerequisites(
    programme: Programme, item_id: str, completed: Collection[str]
) -> tuple[str, ...]:
    """The items `item_id` requires that the learner has not completed yet, in authored order."""
    return tuple(i for i in programme.item(item_id).requires if i not in completed)
