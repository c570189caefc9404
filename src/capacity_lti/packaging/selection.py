"""Which package to build: the checked request, its file name, and what goes into it."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from capacity_lti.content import Event, Module, Programme
from capacity_lti.errors import PackagingError

FORMATS = ("scorm12", "scorm2004")

Item = Module | Event
Texts = Mapping[str, str]


@dataclass(frozen=True)
class PackageSpec:
    """One package to build: a format, a language, and the whole programme, a path or a module."""

    programme_id: str
    standard: str
    language: str
    path_id: str | None = None
    module_id: str | None = None
    single_sco: bool = False

    @property
    def filename(self) -> str:
        """`climate-action-officers-single-sv-scorm2004.zip`: safe ASCII, one per package."""
        parts = [self.programme_id, self.path_id or self.module_id or ""]
        if self.single_sco and self.module_id is None:
            parts.append("single")
        parts += [self.language, self.standard]
        return "-".join(p for p in parts if p) + ".zip"


@dataclass(frozen=True)
class Group:
    """Items grouped in the organisation under a title (a theme), or ungrouped (a path's items).

    `label` names a package text (ui.Labels) used as the title instead, e.g. "events".
    """

    title: Texts | None
    items: tuple[Item, ...]
    label: str | None = None


@dataclass(frozen=True)
class Selection:
    """What a package holds: its title, its items in groups, and prerequisites between modules."""

    scope: str  # "programme", "path" or "module"
    id: str
    title: Texts
    description: Texts
    groups: tuple[Group, ...]
    requires: dict[str, tuple[str, ...]] = field(default_factory=dict)  # module -> modules

    @property
    def modules(self) -> list[Module]:
        return [i for g in self.groups for i in g.items if isinstance(i, Module)]

    @property
    def events(self) -> list[Event]:
        return [i for g in self.groups for i in g.items if isinstance(i, Event)]


def _choices(values: list[str]) -> str:
    return ", ".join(sorted(values))


def check_spec(
    programme: Programme,
    standard: str,
    language: str,
    *,
    path_id: str | None,
    module_id: str | None,
    single_sco: bool,
) -> PackageSpec:
    """The request as a PackageSpec, or PackagingError saying what to choose instead."""
    if standard not in FORMATS:
        raise PackagingError(
            f"unknown package format '{standard}': choose one of {', '.join(FORMATS)}"
        )
    if language not in programme.languages:
        raise PackagingError(
            f"language '{language}' is not in the programme: choose one of "
            f"{_choices(programme.languages)}"
        )
    if path_id is not None and module_id is not None:
        raise PackagingError("give a path or a module, not both")
    if path_id is not None and path_id not in {p.id for p in programme.paths}:
        if not programme.paths:
            raise PackagingError(f"path '{path_id}' is not in the programme: it has no paths")
        raise PackagingError(
            f"path '{path_id}' is not in the programme: choose one of "
            f"{_choices([p.id for p in programme.paths])}"
        )
    if module_id is not None and module_id not in programme.modules:
        if module_id in programme.events:
            raise PackagingError(
                f"'{module_id}' is an event, not a module: events go into path and programme "
                "packages as pages without tracking"
            )
        raise PackagingError(
            f"module '{module_id}' is not in the programme: choose one of "
            f"{_choices(list(programme.modules))}"
        )
    return PackageSpec(programme.id, standard, language, path_id, module_id, single_sco)


def plan_all(programme: Programme) -> list[PackageSpec]:
    """The packages `--all` builds: the whole programme in every format x language."""
    return [
        PackageSpec(programme.id, standard, language)
        for standard in FORMATS
        for language in programme.languages
    ]


def select(programme: Programme, spec: PackageSpec) -> Selection:
    """The items of the package `spec` describes (checked by check_spec)."""
    if spec.module_id is not None:
        module = programme.modules[spec.module_id]
        return Selection(
            "module", module.id, module.title, module.summary, (Group(None, (module,)),)
        )
    if spec.path_id is not None:
        path = programme.path(spec.path_id)
        items = tuple(programme.item(i) for i in path.items)
        requires: dict[str, tuple[str, ...]] = {}
        previous: str | None = None
        for item in items:
            if isinstance(item, Module):
                requires[item.id] = (previous,) if previous else ()
                previous = item.id
        return Selection(
            "path", path.id, path.title, path.description, (Group(None, items),), requires
        )
    groups = [
        Group(theme.title, tuple(programme.theme_modules(theme.id)))
        for theme in programme.themes
        if programme.theme_modules(theme.id)
    ]
    if programme.events:
        groups.append(Group(None, tuple(programme.events.values()), label="events"))
    requires = {
        m.id: tuple(r for r in m.requires if r in programme.modules)
        for m in programme.modules.values()
    }
    return Selection(
        "programme", programme.id, programme.title, programme.description, tuple(groups), requires
    )
