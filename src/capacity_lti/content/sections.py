"""The fixed inner structure of a module, and the parser of a module file's body.

A module file is YAML front matter between `---` lines, then Markdown whose `##`
headings are the five sections and whose `###` headings are their sub-sections,
always under their English names. A *block* is one sub-section, or a section
without sub-sections: the unit of translation fallback and of progress.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from markdown_it import MarkdownIt

from capacity_lti.errors import ContentError


@dataclass(frozen=True)
class Section:
    key: str
    heading: str
    parts: tuple[tuple[str, str], ...] = ()  # (key, heading) of each sub-section

    def block_keys(self) -> tuple[str, ...]:
        if not self.parts:
            return (self.key,)
        return tuple(f"{self.key}/{part}" for part, _ in self.parts)


SECTIONS: tuple[Section, ...] = (
    Section("basics", "Basics", (("what", "What"), ("why", "Why"), ("key-information", "Key information"))),
    Section("key-questions", "Key questions"),
    Section("recommended-steps", "Recommended steps"),
    Section("processes", "Processes", (("people", "People"), ("politics", "Politics"), ("economics", "Economics"))),
    Section("guidance", "Guidance", (("tools", "Tools"), ("policy-context", "Policy context"), ("tips", "Tips"))),
)  # fmt: skip
BLOCKS: tuple[str, ...] = tuple(key for s in SECTIONS for key in s.block_keys())
_BY_HEADING = {s.heading.lower(): s for s in SECTIONS}
_BY_KEY = {s.key: s for s in SECTIONS}
# Every heading position in document order: a section, then its blocks.
_MARKERS: tuple[str, ...] = tuple(
    key for s in SECTIONS for key in ((s.key, *s.block_keys()) if s.parts else (s.key,))
)
_SECTION_LIST = ", ".join(f"'## {s.heading}'" for s in SECTIONS)

_md = MarkdownIt("commonmark")


@dataclass(frozen=True)
class Block:
    markdown: str
    line: int  # 1-based line in the file where the block's heading is
    text_line: int  # 1-based line in the file where its text begins


@dataclass(frozen=True)
class FrontMatter:
    text: str
    first_line: int  # file line of the first YAML line
    body: str
    body_first_line: int


def split_front_matter(text: str, path: Path) -> FrontMatter:
    """Split `---` YAML front matter from the Markdown body."""
    lines = text.split("\n")
    if not lines or lines[0].rstrip() != "---":
        raise ContentError(
            path, 1, "the file must start with a line '---' opening its front matter (title, ...)"
        )
    for index in range(1, len(lines)):
        if lines[index].rstrip() == "---":
            return FrontMatter(
                text="\n".join(lines[1:index]),
                first_line=2,
                body="\n".join(lines[index + 1 :]),
                body_first_line=index + 2,
            )
    raise ContentError(path, 1, "the front matter is never closed: add a line '---' after it")


def _norm(heading: str) -> str:
    return re.sub(r"\s+", " ", heading.strip().rstrip(":").strip()).lower()


def parse_body(
    body: str, path: Path, first_line: int, complete: bool
) -> tuple[dict[str, Block], list[ContentError]]:
    """Split a module body into blocks; `complete` requires every block with text."""
    errors: list[ContentError] = []
    lines = body.split("\n")
    headings: list[tuple[int, int, str]] = []  # (level, body index, text)
    tokens = _md.parse(body)
    for i, token in enumerate(tokens):
        if token.type == "heading_open" and token.tag in ("h1", "h2", "h3") and token.map:
            headings.append((int(token.tag[1]), token.map[0], tokens[i + 1].content))

    def at(index: int) -> int:
        return first_line + index

    def fail(index: int, message: str) -> None:
        errors.append(ContentError(path, at(index), message))

    first_heading = headings[0][1] if headings else len(lines)
    if "\n".join(lines[:first_heading]).strip():
        lead = next(i for i, line in enumerate(lines) if line.strip())
        fail(
            lead,
            f"text before the first section: begin the body with '## Basics' ({_SECTION_LIST})",
        )

    blocks: dict[str, Block] = {}
    seen: dict[str, int] = {}
    section: Section | None = None
    last_order = -1
    current_key: str | None = None
    spans: list[tuple[str, int, int]] = []  # (block key, heading index, content start)
    for level, index, text in headings:
        if level == 1:
            fail(index, f"'# {text}' is a level-1 heading: sections are level 2 ({_SECTION_LIST})")
            section, current_key = None, None
            continue
        if level == 2:
            section, current_key = _BY_HEADING.get(_norm(text)), None
            if section is None:
                fail(
                    index, f"unknown section '{text}': the sections are {_SECTION_LIST}, in English"
                )
                continue
            order = SECTIONS.index(section)
            if section.key in seen:
                fail(
                    index,
                    f"section '{section.heading}' appears twice (first on line {seen[section.key]}); keep one",
                )
                section = None
                continue
            if order < last_order:
                fail(
                    index,
                    f"section '{section.heading}' is out of order: the order is {_SECTION_LIST}",
                )
            seen[section.key] = at(index)
            last_order = max(last_order, order)
            if not section.parts:
                current_key = section.key
            spans.append((current_key or f"{section.key}/", index, index + 1))
            continue
        if section is None:
            fail(index, f"sub-section '### {text}' is not inside a known '## ' section")
            continue
        if not section.parts:
            fail(
                index,
                f"'### {text}': '{section.heading}' has no sub-sections; use '####' for a heading inside it",
            )
            continue
        part = next((key for key, heading in section.parts if heading.lower() == _norm(text)), None)
        if part is None:
            expected = ", ".join(f"'### {heading}'" for _, heading in section.parts)
            fail(index, f"unknown sub-section '{text}' in '{section.heading}': expected {expected}")
            current_key = None
            continue
        current_key = f"{section.key}/{part}"
        if current_key in seen:
            fail(
                index,
                f"sub-section '{text}' appears twice in '{section.heading}' (first on line {seen[current_key]})",
            )
            continue
        seen[current_key] = at(index)
        spans.append((current_key, index, index + 1))

    boundaries = [index for _, index, _ in headings] + [len(lines)]
    for key, index, start in spans:
        end = next(b for b in boundaries if b > index)
        content = "\n".join(lines[start:end]).strip()
        lead = next((n for n in range(start, end) if lines[n].strip()), start)
        if key.endswith("/"):
            if content:
                parent = _BY_KEY[key[:-1]]
                parts = ", ".join(f"'### {heading}'" for _, heading in parent.parts)
                fail(lead, f"text directly under '## {parent.heading}': move it under {parts}")
            continue
        if not content:
            advice = (
                "write its text"
                if complete
                else "write its text, or remove the heading to use the default language's"
            )
            fail(index, f"'{block_label(key)}' is empty: {advice}")
            continue
        blocks[key] = Block(content, at(index), at(lead))

    if complete:
        end_line = at(max(len(lines) - 1, 0))
        for key in BLOCKS:
            if key not in blocks and key not in seen:
                line = _where_missing(key, seen, end_line)
                errors.append(
                    ContentError(
                        path,
                        line,
                        f"missing '{block_label(key)}': the default-language file must have every block",
                    )
                )
    return blocks, errors


def block_label(key: str) -> str:
    """`basics/key-information` -> `## Basics / ### Key information`."""
    section_key, _, part = key.partition("/")
    section = _BY_KEY[section_key]
    if not part:
        return f"## {section.heading}"
    return f"## {section.heading} / ### {dict(section.parts)[part]}"


def _where_missing(key: str, seen: dict[str, int], end_line: int) -> int:
    """Where a missing block belongs: its own section's heading, else the next heading present."""
    section_key = key.partition("/")[0]
    if section_key in seen:
        after = _MARKERS[_MARKERS.index(key) + 1 :]
        same = [m for m in after if m.partition("/")[0] == section_key and m in seen]
        return seen[same[0]] if same else seen[section_key]
    later = [m for m in _MARKERS[_MARKERS.index(section_key) + 1 :] if m in seen]
    return seen[later[0]] if later else end_line
