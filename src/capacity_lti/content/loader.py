"""Load a programme folder into a :class:`Programme`, or raise :class:`InvalidProgramme`.

Every problem in every file is collected in one run; each names its file, its line
and what to change. Nothing here prints.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path

from pydantic import BaseModel

from capacity_lti.content.items import SourceFile, build_event, build_module, read_source, read_text
from capacity_lti.content.languages import check_tag
from capacity_lti.content.model import Event, Item, Module, Programme, ProgrammeSpec, Texts
from capacity_lti.content.references import check_item_references, check_programme_references
from capacity_lti.content.validation import dotted, validate
from capacity_lti.content.yamlsource import Loc, Located, parse_yaml
from capacity_lti.errors import ContentError, InvalidProgramme

PROGRAMME_FILE = "programme.yaml"
_ITEM_FILE = re.compile(
    r"(?P<id>[a-z0-9]+(?:-[a-z0-9]+)*)\.(?P<lang>[A-Za-z0-9]+(?:-[A-Za-z0-9]+)*)\.md\Z"
)


def load_programme(folder: Path | str) -> Programme:
    """Read, validate and assemble the programme in `folder`."""
    root = Path(folder)
    manifest = root / PROGRAMME_FILE
    if not root.is_dir():
        raise InvalidProgramme(
            [ContentError(root, 0, "no such folder: give the folder that holds programme.yaml")]
        )
    if not manifest.is_file():
        raise InvalidProgramme(
            [
                ContentError(
                    manifest,
                    0,
                    "missing: every programme folder needs a programme.yaml (see `capacity-lti new`)",
                )
            ]
        )
    errors: list[ContentError] = []
    spec, located = _read_spec(manifest, errors)
    if spec is None or located is None:
        raise InvalidProgramme(errors)
    _check_languages(spec, located, manifest, errors)
    if spec.default_language not in spec.languages:
        raise InvalidProgramme(errors)  # every other text check would only repeat this one
    present: set[str] = set()
    modules, module_files = _load_items(root, "modules", spec, present, errors)
    events, event_files = _load_items(root, "events", spec, present, errors)
    for item_id in sorted(set(module_files) & set(event_files)):
        errors.append(
            ContentError(
                event_files[item_id][0].path,
                0,
                f"'{item_id}' is both a module and an event: rename one of them",
            )
        )
    all_files = {**module_files, **event_files}

    def line_in_item(item_id: str, key: str) -> tuple[Path, int]:
        default = all_files[item_id][0]
        return default.path, default.front.line_of((key,))

    built_modules = {k: v for k, v in modules.items() if isinstance(v, Module)}
    built_events = {k: v for k, v in events.items() if isinstance(v, Event)}
    built: list[Item] = [*built_modules.values(), *built_events.values()]
    points = {i.id: i.points for i in built}
    errors += check_programme_references(spec, located, manifest, present, points)
    errors += check_item_references(
        spec, manifest, located, present, built_modules, built_events, line_in_item
    )
    for item in built:
        _check_item_texts(item, spec, all_files[item.id][0], errors)
    if errors:
        raise InvalidProgramme(errors)
    theme_order = {t.id: n for n, t in enumerate(spec.themes)}
    ordered = sorted(
        built_modules.values(), key=lambda m: (theme_order[m.theme], m.level != "beginner", m.id)
    )
    return Programme.model_construct(
        **dict(spec),
        root=root,
        modules={m.id: m for m in ordered},
        events=dict(sorted(built_events.items())),
    )


def _read_spec(
    path: Path, errors: list[ContentError]
) -> tuple[ProgrammeSpec | None, Located | None]:
    text = read_text(path, errors)
    if text is None:
        return None, None
    try:
        located = parse_yaml(text, path)
    except ContentError as error:
        errors.append(error)
        return None, None
    spec, problems = validate(ProgrammeSpec, located, path)
    errors.extend(problems)
    return spec, located


def _check_languages(
    spec: ProgrammeSpec, located: Located, path: Path, errors: list[ContentError]
) -> None:
    for index, tag in enumerate(spec.languages):
        problem = check_tag(tag)
        if problem:
            errors.append(ContentError(path, located.line_of(("languages", index)), problem))
    if spec.default_language not in spec.languages:
        errors.append(
            ContentError(
                path,
                located.line_of(("default_language",)),
                f"default_language '{spec.default_language}' is not in languages: add it there",
            )
        )
    for index, tag in enumerate(spec.languages):
        if spec.languages.index(tag) != index:
            errors.append(
                ContentError(
                    path,
                    located.line_of(("languages", index)),
                    f"language '{tag}' is listed twice; keep one",
                )
            )
    if spec.default_language not in spec.languages:
        return
    for loc, texts in _texts_in(spec, ()):
        _check_texts(texts, spec, path, located.line_of(loc), dotted(loc), errors)


def _texts_in(model: BaseModel, loc: Loc) -> list[tuple[Loc, Texts]]:
    """Every translatable text map in a model tree, with its location."""
    found: list[tuple[Loc, Texts]] = []
    for name, field in type(model).model_fields.items():
        value = getattr(model, name)
        if field.annotation == Texts:
            found.append(((*loc, name), value))
        elif isinstance(value, BaseModel):
            found += _texts_in(value, (*loc, name))
        elif isinstance(value, list):
            for index, element in enumerate(value):
                if isinstance(element, BaseModel):
                    found += _texts_in(element, (*loc, name, index))
    return found


def _check_texts(
    texts: Mapping[str, str],
    spec: ProgrammeSpec,
    path: Path,
    line: int,
    where: str,
    errors: list[ContentError],
) -> None:
    for tag in texts:
        if tag not in spec.languages:
            errors.append(
                ContentError(
                    path,
                    line,
                    f"'{where}' has text in '{tag}', which is not in languages ({', '.join(spec.languages)}): add it there or remove this text",
                )
            )
    if texts and not texts.get(spec.default_language, "").strip():
        errors.append(
            ContentError(
                path,
                line,
                f"'{where}' has no text in the default language: add a line '{spec.default_language}: ...' to it",
            )
        )


def _check_item_texts(
    item: Module | Event, spec: ProgrammeSpec, default: SourceFile, errors: list[ContentError]
) -> None:
    if default.language != spec.default_language:
        return
    if isinstance(item, Module) and item.check is not None:
        for question in item.check.questions:
            for label, texts in (
                ("correct", question.feedback_correct),
                ("incorrect", question.feedback_incorrect),
            ):
                if not texts:
                    errors.append(
                        ContentError(
                            default.path,
                            default.front.line_of(
                                ("check", "questions", item.check.questions.index(question))
                            ),
                            f"question '{question.id}' has no '{label}' feedback: add feedback: {{{label}: ...}}",
                        )
                    )


def _load_items(
    root: Path, folder: str, spec: ProgrammeSpec, present: set[str], errors: list[ContentError]
) -> tuple[dict[str, Module | Event | None], dict[str, list[SourceFile]]]:
    """Read every `<id>.<lang>.md` in `folder` and build one item per id.

    `present` collects every id that has a correctly named file, even one that
    failed to read, so that references to it are not reported as unknown too.
    """
    directory = root / folder
    by_id: dict[str, list[SourceFile]] = {}
    if directory.is_dir():
        for path in sorted(directory.iterdir()):
            if path.suffix != ".md" or not path.is_file():
                continue
            match = _ITEM_FILE.match(path.name)
            if not match:
                errors.append(
                    ContentError(
                        path,
                        0,
                        "file name must be '<id>.<language>.md' with a lower-case id, e.g. 'energy-basics-beginner.en.md'",
                    )
                )
                continue
            language = match["lang"]
            if language not in spec.languages:
                errors.append(
                    ContentError(
                        path,
                        0,
                        f"language '{language}' is not in programme.yaml's languages ({', '.join(spec.languages)}): add it there or rename the file",
                    )
                )
                continue
            present.add(match["id"])
            source = read_source(path, language, errors)
            if source is not None:
                by_id.setdefault(match["id"], []).append(source)
    items: dict[str, Module | Event | None] = {}
    files: dict[str, list[SourceFile]] = {}
    order = {tag: n for n, tag in enumerate(spec.languages)}
    for item_id, sources in by_id.items():
        sources.sort(key=lambda s: (s.language != spec.default_language, order[s.language]))
        if sources[0].language != spec.default_language:
            for source in sources:
                errors.append(
                    ContentError(
                        source.path,
                        0,
                        f"translation without a default-language file: write {folder}/{item_id}.{spec.default_language}.md first",
                    )
                )
            continue
        files[item_id] = sources
        if folder == "modules":
            items[item_id] = build_module(
                item_id, sources, root, spec.points.module, spec.certificates.modules, errors
            )
        else:
            items[item_id] = build_event(item_id, sources, root, spec.points.event, errors)
    return items, files
