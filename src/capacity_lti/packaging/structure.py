"""A package's organisation and resources, independent of the SCORM version that writes them."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Node:
    """An item of the organisation: a SCO, an untracked page (an event) or a titled group."""

    ident: str
    title: str
    resource: str | None = None  # the resource it launches; None for a group
    children: tuple[Node, ...] = ()
    objective: str | None = None  # the SCO's own objective key (a module or SCO id)
    mastery: int | None = None  # pass mark of the SCO's knowledge check
    requires: tuple[str, ...] = ()  # objective keys that must be satisfied first
    tracked: bool = True


@dataclass(frozen=True)
class Resource:
    ident: str
    href: str | None
    files: tuple[str, ...]
    sco: bool
    depends: tuple[str, ...] = ()


@dataclass(frozen=True)
class Structure:
    identifier: str
    title: str
    description: str
    language: str
    nodes: tuple[Node, ...]
    resources: tuple[Resource, ...]
    objectives: str  # prefix of the package's global objective ids, a URN
