"""Assemble one module or event from its files, one per language.

The default-language file gives the structure and every block; translations add
text. Every problem is appended to `errors` and the item is still built where
possible, so one run reports everything.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from capacity_lti.content import frontmatter as fm
from capacity_lti.content.markdown import render
from capacity_lti.content.model import (
    Choice,
    Event,
    KnowledgeCheck,
    Module,
    Question,
    Resource,
    Texts,
)
from capacity_lti.content.sections import Block, parse_body, split_front_matter
from capacity_lti.content.validation import validate
from capacity_lti.content.yamlsource import Located, parse_yaml
from capacity_lti.errors import ContentError


@dataclass
class SourceFile:
    """One authored file of an item: its language, front matter and body."""

    path: Path
    language: str
    front: Located
    body: str
    body_line: int


def read_source(path: Path, language: str, errors: list[ContentError]) -> SourceFile | None:
    """Read and split one item file; on failure record why and return None."""
    text = read_text(path, errors)
    if text is None:
        return None
    try:
        parts = split_front_matter(text, path)
        front = parse_yaml(parts.text, path, line_offset=parts.first_line - 1)
    except ContentError as error:
        errors.append(error)
        return None
    if front.data is None:
        front = Located({}, front.lines)
    return SourceFile(path, language, front, parts.body, parts.body_first_line)


def read_text(path: Path, errors: list[ContentError]) -> str | None:
    """Read an authored file as UTF-8 with LF line ends, reporting the line of a bad byte."""
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        errors.append(ContentError(path, line, "not UTF-8 text: save the file as UTF-8"))
        return None
    return text.removeprefix("\ufeff").replace("\r\n", "\n").replace("\r", "\n")


def _render_into(
    target: dict[str, Texts],
    assets: set[str],
    key: str,
    language: str,
    block: Block,
    source: Path,
    root: Path,
    errors: list[ContentError],
) -> None:
    rendered = render(block.markdown, source, root)
    for problem in rendered.problems:
        errors.append(ContentError(source, block.text_line + problem.line - 1, problem.message))
    assets.update(rendered.assets)
    target.setdefault(key, {})[language] = rendered.html


def _structural_mismatch(
    source: SourceFile, default: SourceFile, errors: list[ContentError]
) -> None:
    data = source.front.data if isinstance(source.front.data, dict) else {}
    base = default.front.data if isinstance(default.front.data, dict) else {}
    for key in fm.STRUCTURAL:
        if key in data and data[key] != base.get(key):
            errors.append(
                ContentError(
                    source.path,
                    source.front.line_of((key,)),
                    f"'{key}' is {data[key]!r} here but {base.get(key)!r} in "
                    f"{default.path.name}: remove it from this file (the default-language file decides)",
                )
            )


def _resources(
    front: fm.ModuleFront, default: SourceFile, root: Path, errors: list[ContentError]
) -> tuple[list[Resource], set[str]]:
    resources, files = [], set()
    for index, item in enumerate(front.resources):
        line = default.front.line_of(("resources", index))
        if (item.url is None) == (item.file is None):
            errors.append(
                ContentError(default.path, line, "a resource needs exactly one of 'url' or 'file'")
            )
        elif item.url is not None and urlsplit(item.url).scheme not in ("https", "http"):
            url_line = default.front.line_of(("resources", index, "url"))
            errors.append(
                ContentError(
                    default.path, url_line, f"resource url {item.url!r} must start with https://"
                )
            )
        elif item.file is not None:
            target = (root / item.file).resolve()
            if not target.is_relative_to(root.resolve()) or not target.is_file():
                errors.append(
                    ContentError(
                        default.path,
                        default.front.line_of(("resources", index, "file")),
                        f"resource file {item.file!r} does not exist inside the programme folder "
                        "(write it relative to the folder that holds programme.yaml)",
                    )
                )
            else:
                files.add(target.relative_to(root.resolve()).as_posix())
        resources.append(
            Resource(
                title={default.language: item.title}, kind=item.kind, url=item.url, file=item.file
            )
        )
    return resources, files


def _check(
    front: fm.ModuleFront, default: SourceFile, errors: list[ContentError]
) -> KnowledgeCheck | None:
    if front.check is None:
        return None
    questions, seen = [], set()
    language = default.language
    for index, q in enumerate(front.check.questions):
        line = default.front.line_of(("check", "questions", index))
        if q.id in seen:
            errors.append(
                ContentError(
                    default.path, line, f"question id '{q.id}' is used twice; make it unique"
                )
            )
        seen.add(q.id)
        if not any(choice.correct for choice in q.choices):
            errors.append(
                ContentError(
                    default.path,
                    line,
                    f"question '{q.id}' has no correct answer: add 'correct: true' to the right choice(s)",
                )
            )
        questions.append(
            Question(
                id=q.id,
                prompt={language: q.prompt},
                choices=[Choice(text={language: c.text}, correct=c.correct) for c in q.choices],
                feedback_correct={language: q.feedback.correct} if q.feedback.correct else {},
                feedback_incorrect={language: q.feedback.incorrect} if q.feedback.incorrect else {},
            )
        )
    return KnowledgeCheck(pass_percent=front.check.pass_percent, questions=questions)


def _choices(count: int) -> str:
    return f"{count} choice{'s' if count != 1 else ''}"


def _translate_check(
    check: KnowledgeCheck | None,
    tr: fm.CheckTranslation,
    source: SourceFile,
    errors: list[ContentError],
) -> None:
    """Merge a translation's check texts into `check` (models are frozen; dicts are not)."""
    by_id: dict[str, Question] = {}
    for original in check.questions if check else []:
        by_id.setdefault(original.id, original)
    for index, tq in enumerate(tr.questions):
        line = source.front.line_of(("check", "questions", index))
        question = by_id.get(tq.id)
        if question is None:
            known = ", ".join(by_id) or "none: the default-language file has no check"
            errors.append(
                ContentError(
                    source.path,
                    line,
                    f"question '{tq.id}' is not in the default-language check (its questions: {known})",
                )
            )
            continue
        if tq.prompt:
            question.prompt[source.language] = tq.prompt
        if tq.feedback:
            if tq.feedback.correct:
                question.feedback_correct[source.language] = tq.feedback.correct
            if tq.feedback.incorrect:
                question.feedback_incorrect[source.language] = tq.feedback.incorrect
        if tq.choices is None:
            continue
        if len(tq.choices) != len(question.choices):
            errors.append(
                ContentError(
                    source.path,
                    source.front.line_of(("check", "questions", index, "choices")),
                    f"question '{tq.id}' has {_choices(len(tq.choices))} here but "
                    f"{len(question.choices)} in the default language: keep the same choices in the same order",
                )
            )
            continue
        for number, (tc, choice) in enumerate(zip(tq.choices, question.choices, strict=True)):
            if tc.correct is not None and tc.correct != choice.correct:
                errors.append(
                    ContentError(
                        source.path,
                        source.front.line_of(
                            ("check", "questions", index, "choices", number, "correct")
                        ),
                        "'correct' differs from the default-language file: remove it here",
                    )
                )
            if tc.text:
                choice.text[source.language] = tc.text


def build_module(
    item_id: str,
    files: list[SourceFile],
    root: Path,
    points_default: int,
    certificate_default: bool,
    errors: list[ContentError],
) -> Module | None:
    """Build a module from its files; files[0] is the default-language file."""
    default = files[0]
    front, problems = validate(fm.ModuleFront, default.front, default.path)
    errors.extend(problems)
    blocks, problems = parse_body(default.body, default.path, default.body_line, complete=True)
    errors.extend(problems)
    html: dict[str, Texts] = {}
    assets: set[str] = set()
    for key, block in blocks.items():
        _render_into(html, assets, key, default.language, block, default.path, root, errors)
    resources, files_linked = _resources(front, default, root, errors) if front else ([], set())
    assets |= files_linked
    check = _check(front, default, errors) if front else None
    title = {default.language: front.title} if front else {}
    summary = {default.language: front.summary} if front and front.summary else {}
    for source in files[1:]:
        tr, problems = validate(fm.ModuleTranslation, source.front, source.path)
        errors.extend(problems)
        _structural_mismatch(source, default, errors)
        tr_blocks, problems = parse_body(source.body, source.path, source.body_line, complete=False)
        errors.extend(problems)
        for key, block in tr_blocks.items():
            _render_into(html, assets, key, source.language, block, source.path, root, errors)
        if tr is None or front is None:
            continue
        if tr.title:
            title[source.language] = tr.title
        if tr.summary:
            summary[source.language] = tr.summary
        if tr.check is not None:
            _translate_check(check, tr.check, source, errors)
        for index, rt in enumerate(tr.resources or []):
            if index >= len(resources):
                line = source.front.line_of(("resources", index))
                errors.append(
                    ContentError(
                        source.path,
                        line,
                        f"resource {index + 1} has no counterpart in the default-language file: remove it",
                    )
                )
            elif rt.title:
                resources[index].title[source.language] = rt.title
    if front is None:
        return None
    return Module(
        id=item_id,
        theme=front.theme,
        level=front.level,
        minutes=front.minutes,
        points=points_default if front.points is None else front.points,
        certificate=certificate_default if front.certificate is None else front.certificate,
        requires=tuple(front.requires),
        title=title,
        summary=summary,
        blocks=html,
        resources=tuple(resources),
        check=check,
        assets=tuple(sorted(assets)),
        sources={source.language: source.path for source in files},
    )


def build_event(
    item_id: str,
    files: list[SourceFile],
    root: Path,
    points_default: int,
    errors: list[ContentError],
) -> Event | None:
    """Build an event from its files; files[0] is the default-language file."""
    default = files[0]
    front, problems = validate(fm.EventFront, default.front, default.path)
    errors.extend(problems)
    title: Texts = {}
    description: Texts = {}
    assets: set[str] = set()
    for source in files:
        if source is not default:
            tr, problems = validate(fm.EventTranslation, source.front, source.path)
            errors.extend(problems)
            _structural_mismatch(source, default, errors)
            if tr is not None and tr.title:
                title[source.language] = tr.title
        text = source.body.strip()
        if not text:
            if source is default:
                errors.append(
                    ContentError(
                        source.path,
                        source.body_line,
                        "the event has no description: write one below the front matter",
                    )
                )
            continue
        lead = source.body_line + next(
            i for i, line in enumerate(source.body.split("\n")) if line.strip()
        )
        wrapper: dict[str, Texts] = {}
        _render_into(
            wrapper,
            assets,
            "description",
            source.language,
            Block(text, lead, lead),
            source.path,
            root,
            errors,
        )
        description.update(wrapper["description"])
    if front is None:
        return None
    title[default.language] = front.title
    return Event(
        id=item_id,
        kind=front.kind,
        minutes=front.minutes,
        points=points_default if front.points is None else front.points,
        requires=tuple(front.requires),
        title=title,
        description=description,
        assets=tuple(sorted(assets)),
        sources={source.language: source.path for source in files},
    )
