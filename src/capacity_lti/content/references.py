"""Checks across files: ids that must exist, ids that must be unique, cycles, reachable rules."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path

from capacity_lti.content.model import Event, Item, Module, ProgrammeSpec
from capacity_lti.content.yamlsource import Loc, Located
from capacity_lti.errors import ContentError

Line = Callable[[tuple[str | int, ...]], int]


def _close(name: str, known: Iterable[str]) -> str:
    options = sorted(known)
    if not options:
        return "there are none yet"
    near = [o for o in options if o.split("-")[0] == name.split("-")[0]][:3]
    if near:
        return f"did you mean {', '.join(repr(n) for n in near)}?"
    return f"known: {', '.join(options[:12])}{' ...' if len(options) > 12 else ''}"


def _at(line: Callable[[Loc], int], *prefix: str | int) -> Callable[[int], int]:
    """A function from an index in the list at `prefix` to its source line."""

    def at(index: int) -> int:
        return line((*prefix, index))

    return at


def check_unique(
    ids: Sequence[str], what: str, path: Path, line: Callable[[int], int]
) -> list[ContentError]:
    """Each id once; the second occurrence is reported with the line of the first."""
    errors: list[ContentError] = []
    first: dict[str, int] = {}
    for index, item_id in enumerate(ids):
        if item_id in first:
            errors.append(
                ContentError(
                    path,
                    line(index),
                    f"{what} '{item_id}' is used twice (first on line {line(first[item_id])}); give each a unique id",
                )
            )
        else:
            first[item_id] = index
    return errors


def check_programme_references(
    spec: ProgrammeSpec,
    located: Located,
    path: Path,
    item_ids: set[str],
    points_of: Mapping[str, int],
) -> list[ContentError]:
    """Paths, diplomas and the self-assessment against the items and each other."""
    errors: list[ContentError] = []
    line = located.line_of
    errors += check_unique(
        [t.id for t in spec.themes], "theme", path, lambda i: line(("themes", i, "id"))
    )
    errors += check_unique(
        [p.id for p in spec.paths], "path", path, lambda i: line(("paths", i, "id"))
    )
    errors += check_unique(
        [d.id for d in spec.diplomas], "diploma", path, lambda i: line(("diplomas", i, "id"))
    )
    path_ids = {p.id for p in spec.paths}
    for pi, learning_path in enumerate(spec.paths):
        errors += check_unique(learning_path.items, "item", path, _at(line, "paths", pi, "items"))
        for ii, item_id in enumerate(learning_path.items):
            if item_id not in item_ids:
                errors.append(
                    ContentError(
                        path,
                        line(("paths", pi, "items", ii)),
                        f"path '{learning_path.id}' lists '{item_id}', which is no module or event: {_close(item_id, item_ids)}",
                    )
                )
        for ri, required in enumerate(learning_path.requires):
            if required not in path_ids:
                errors.append(
                    ContentError(
                        path,
                        line(("paths", pi, "requires", ri)),
                        f"path '{learning_path.id}' requires unknown path '{required}': {_close(required, path_ids)}",
                    )
                )
    errors += cycles(
        {p.id: list(p.requires) for p in spec.paths},
        lambda pid: (path, line(("paths", [p.id for p in spec.paths].index(pid), "requires"))),
        "path",
    )
    for di, diploma in enumerate(spec.diplomas):
        scope_items: Sequence[str] = sorted(item_ids)
        if diploma.path is not None:
            if diploma.path not in path_ids:
                errors.append(
                    ContentError(
                        path,
                        line(("diplomas", di, "path")),
                        f"diploma '{diploma.id}' names unknown path '{diploma.path}': {_close(diploma.path, path_ids)}",
                    )
                )
                continue
            scope_items = spec.paths[[p.id for p in spec.paths].index(diploma.path)].items
        if any(i not in points_of for i in scope_items):
            continue  # an item failed to load: its own error says why
        possible = sum(points_of[i] for i in scope_items)
        if diploma.min_points > possible:
            errors.append(
                ContentError(
                    path,
                    line(("diplomas", di, "min_points")),
                    f"diploma '{diploma.id}' needs {diploma.min_points} points but its items give at most {possible}: lower min_points",
                )
            )
    if spec.assessment is not None:
        questions = spec.assessment.questions
        errors += check_unique(
            [q.id for q in questions],
            "question",
            path,
            lambda i: line(("assessment", "questions", i, "id")),
        )
        for qi, question in enumerate(questions):
            answers_at = _at(line, "assessment", "questions", qi, "answers")
            errors += check_unique([a.id for a in question.answers], "answer", path, answers_at)
            for ai, answer in enumerate(question.answers):
                for target in answer.recommends:
                    if target not in path_ids:
                        errors.append(
                            ContentError(
                                path,
                                line(
                                    (
                                        "assessment",
                                        "questions",
                                        qi,
                                        "answers",
                                        ai,
                                        "recommends",
                                        target,
                                    )
                                ),
                                f"answer '{answer.id}' recommends unknown path '{target}': {_close(target, path_ids)}",
                            )
                        )
    return errors


def check_item_references(
    spec: ProgrammeSpec,
    path: Path,
    located: Located,
    item_ids: set[str],
    modules: Mapping[str, Module],
    events: Mapping[str, Event],
    line_in_item: Callable[[str, str], tuple[Path, int]],
) -> list[ContentError]:
    """Themes and prerequisites of items, and prerequisite order within each path."""
    errors: list[ContentError] = []
    theme_ids = {t.id for t in spec.themes}
    for module in modules.values():
        if module.theme not in theme_ids:
            file, line = line_in_item(module.id, "theme")
            errors.append(
                ContentError(
                    file,
                    line,
                    f"unknown theme '{module.theme}': {_close(module.theme, theme_ids)} (themes are listed in programme.yaml)",
                )
            )
    requires: dict[str, list[str]] = {}
    every: list[Item] = [*modules.values(), *events.values()]
    for item in every:
        requires[item.id] = list(item.requires)
        for required in item.requires:
            if required not in item_ids:
                file, line = line_in_item(item.id, "requires")
                errors.append(
                    ContentError(
                        file,
                        line,
                        f"requires unknown module or event '{required}': {_close(required, item_ids)}",
                    )
                )
    errors += cycles(requires, lambda item_id: line_in_item(item_id, "requires"), "item")
    for pi, learning_path in enumerate(spec.paths):
        position: dict[str, int] = {}
        for n, item_id in enumerate(learning_path.items):
            position.setdefault(item_id, n)
        for item_id, n in position.items():
            for required in requires.get(item_id, []):
                if position.get(required, -1) > n:
                    errors.append(
                        ContentError(
                            path,
                            located.line_of(("paths", pi, "items", n)),
                            f"'{item_id}' requires '{required}', which comes later in path '{learning_path.id}': move '{required}' before it",
                        )
                    )
    return errors


def cycles(
    graph: Mapping[str, list[str]], where: Callable[[str], tuple[Path, int]], what: str
) -> list[ContentError]:
    """One error per prerequisite cycle, reported at the first node of the cycle."""
    errors: list[ContentError] = []
    state: dict[str, int] = {}  # 1 = on the stack, 2 = done
    reported: set[frozenset[str]] = set()

    def visit(node: str, stack: list[str]) -> None:
        state[node] = 1
        stack.append(node)
        for nxt in graph.get(node, []):
            if nxt not in graph:
                continue
            if state.get(nxt) == 1:
                loop = stack[stack.index(nxt) :]
                key = frozenset(loop)
                if key not in reported:
                    reported.add(key)
                    file, line = where(loop[0])
                    chain = " -> ".join([*loop, loop[0]])
                    errors.append(
                        ContentError(
                            file,
                            line,
                            f"{what} prerequisites form a cycle: {chain}; remove one of these requirements",
                        )
                    )
            elif state.get(nxt) is None:
                visit(nxt, stack)
        stack.pop()
        state[node] = 2

    for node in graph:
        if node not in state:
            visit(node, [])
    return errors
