"""Which diplomas and certificates a learner has earned: pure functions over a programme.

Three kinds of award:

* a **diploma** for the whole programme (a :class:`DiplomaRule` with `path` None),
* a **path certificate** (a :class:`DiplomaRule` naming a path),
* a **module certificate** for each completed module whose `certificate` is true.

A diploma rule is met when every item in its scope (the path's items, or every module
and event of the programme) is completed; a rule with `min_points` is met instead once
the completed items *of its scope* give at least that many points, so an author can let a
learner miss one event (the validator refuses a `min_points` above what the scope
offers). Events whose attendance an instructor recorded arrive in the same set of
completed ids as modules and count exactly like them.

Each award has a `key` that is unique per learner and programme (`rule:<id>` or
`module:<id>`): storage puts a UNIQUE constraint on it so an award is issued once.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from enum import StrEnum

from capacity_lti.content.model import DiplomaRule, Programme


class AwardKind(StrEnum):
    DIPLOMA = "diploma"
    PATH_CERTIFICATE = "path-certificate"
    MODULE_CERTIFICATE = "module-certificate"


@dataclass(frozen=True)
class DueAward:
    """An award the learner has earned: what it is for and the points that earned it."""

    key: str
    kind: AwardKind
    rule_id: str | None  # the DiplomaRule id; None for a module certificate
    path_id: str | None
    module_id: str | None
    points: int  # points of the completed items in the award's scope


def scope_items(programme: Programme, rule: DiplomaRule) -> tuple[str, ...]:
    """The items a diploma rule looks at: its path's items, or every item of the programme."""
    if rule.path is not None:
        return tuple(programme.path(rule.path).items)
    return tuple(item.id for item in programme.items())


def points_of(programme: Programme, completed: Collection[str], item_ids: Sequence[str]) -> int:
    """Points of the items of `item_ids` the learner completed (unknown ids count nothing)."""
    points = {item.id: item.points for item in programme.items()}
    return sum(points.get(i, 0) for i in set(item_ids) if i in completed)


def rule_met(programme: Programme, rule: DiplomaRule, completed: Collection[str]) -> bool:
    """Whether `completed` meets `rule` (see the module docstring for the two readings)."""
    items = scope_items(programme, rule)
    if rule.min_points > 0:
        return points_of(programme, completed, items) >= rule.min_points
    return bool(items) and all(i in completed for i in items)


def rule_key(rule_id: str) -> str:
    return f"rule:{rule_id}"


def module_key(module_id: str) -> str:
    return f"module:{module_id}"


def due_awards(programme: Programme, completed: Collection[str]) -> list[DueAward]:
    """Every award `completed` earns in `programme`: module certificates first, in the
    programme's module order, then diplomas and path certificates in authored order."""
    due = [
        DueAward(
            key=module_key(module.id),
            kind=AwardKind.MODULE_CERTIFICATE,
            rule_id=None,
            path_id=None,
            module_id=module.id,
            points=module.points,
        )
        for module in programme.modules.values()
        if module.certificate and module.id in completed
    ]
    for rule in programme.diplomas:
        if rule_met(programme, rule, completed):
            due.append(
                DueAward(
                    key=rule_key(rule.id),
                    kind=AwardKind.DIPLOMA if rule.path is None else AwardKind.PATH_CERTIFICATE,
                    rule_id=rule.id,
                    path_id=rule.path,
                    module_id=None,
                    points=points_of(programme, completed, scope_items(programme, rule)),
                )
            )
    return due


def find_rule(programme: Programme, rule_id: str) -> DiplomaRule | None:
    return next((r for r in programme.diplomas if r.id == rule_id), None)
