"""Read authored YAML into plain data plus a map from data locations to source lines.

Authors are not programmers, so two YAML 1.1 traps are closed: only `true`/`false`
are booleans (`no`, `yes`, `on`, `off` stay text: `no` is Norwegian's language code),
and a key written twice is an error instead of silently keeping the last value.
Anchors, aliases and tags are refused: an authored file has no use for them and they
are how YAML files grow into billion-laughs bombs.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from capacity_lti.errors import ContentError

Loc = tuple[str | int, ...]

_INT = re.compile(r"[-+]?[0-9]+\Z")
_FLOAT = re.compile(r"[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?\Z")
_NULL = {"", "~", "null", "Null", "NULL"}
_BOOL = {"true": True, "True": True, "TRUE": True, "false": False, "False": False, "FALSE": False}


@dataclass
class Located:
    """Parsed YAML data with the 1-based line of every mapping key and sequence item."""

    data: Any
    lines: dict[Loc, int] = field(default_factory=dict)

    def line_of(self, loc: Loc) -> int:
        """The line of `loc`, or of its nearest located ancestor (0 when none is known)."""
        for end in range(len(loc), -1, -1):
            line = self.lines.get(tuple(loc[:end]))
            if line is not None:
                return line
        return 0


class _Walker:
    def __init__(self, path: Path, line_offset: int) -> None:
        self.path = path
        self.offset = line_offset
        self.lines: dict[Loc, int] = {}

    def line(self, node: yaml.Node) -> int:
        return node.start_mark.line + 1 + self.offset

    def fail(self, node: yaml.Node, message: str) -> ContentError:
        return ContentError(self.path, self.line(node), message)

    def convert(self, node: yaml.Node, loc: Loc) -> Any:
        self.lines.setdefault(loc, self.line(node))
        if isinstance(node, yaml.MappingNode):
            return self._mapping(node, loc)
        if isinstance(node, yaml.SequenceNode):
            return [self.convert(item, (*loc, i)) for i, item in enumerate(node.value)]
        assert isinstance(node, yaml.ScalarNode)
        return self._scalar(node)

    def _mapping(self, node: yaml.MappingNode, loc: Loc) -> dict[str, Any]:
        result: dict[str, Any] = {}
        for key_node, value_node in node.value:
            if not isinstance(key_node, yaml.ScalarNode):
                raise self.fail(key_node, "a key must be a plain word, not a list or mapping")
            key = str(key_node.value)
            if key == "<<":
                raise self.fail(key_node, "merge keys ('<<') are not allowed; write the keys out")
            if key in result:
                first = self.lines[(*loc, key)]
                raise self.fail(
                    key_node, f"'{key}' is written twice (first on line {first}); keep one"
                )
            self.lines[(*loc, key)] = self.line(key_node)
            result[key] = self.convert(value_node, (*loc, key))
        return result

    @staticmethod
    def _scalar(node: yaml.ScalarNode) -> Any:
        text: str = node.value
        if node.style in ("'", '"', "|", ">"):  # quoted or block text stays text
            return text
        if text in _NULL:
            return None
        if text in _BOOL:
            return _BOOL[text]
        if _INT.match(text):
            return int(text)
        if _FLOAT.match(text):
            return float(text)
        return text


class _PurePythonEvents(yaml.parser.Parser, yaml.scanner.Scanner, yaml.reader.Reader):
    def __init__(self, stream: str) -> None:
        yaml.reader.Reader.__init__(self, stream)
        yaml.scanner.Scanner.__init__(self)
        yaml.parser.Parser.__init__(self)


# libyaml's C parser when PyYAML was built with it (it is in the wheels); same events.
_EVENTS: Any = getattr(yaml, "cyaml", None) and getattr(yaml.cyaml, "CParser", None)
_EVENTS = _EVENTS or _PurePythonEvents


class _Events(_EVENTS):  # type: ignore[misc]
    """The event source, whichever parser it is."""


class _Composer(yaml.composer.Composer, _Events, yaml.resolver.Resolver):
    """PyYAML's composer over the fastest available parser, refusing anchors,
    aliases and tags as it composes."""

    def __init__(self, stream: str) -> None:
        _EVENTS.__init__(self, stream)
        yaml.composer.Composer.__init__(self)
        yaml.resolver.Resolver.__init__(self)

    def compose_node(self, parent: Any, index: Any) -> Any:
        event: Any = self.peek_event()
        if self.check_event(yaml.AliasEvent):
            raise yaml.MarkedYAMLError(
                None,
                None,
                "aliases ('*name') are not allowed; write the value out",
                event.start_mark,
            )
        if getattr(event, "anchor", None):
            raise yaml.MarkedYAMLError(
                None, None, "anchors ('&name') are not allowed; remove them", event.start_mark
            )
        if getattr(event, "tag", None) not in (None, "!"):
            raise yaml.MarkedYAMLError(
                None,
                None,
                f"YAML tags ('{event.tag}') are not allowed; remove it",
                event.start_mark,
            )
        return super().compose_node(parent, index)


_ADVICE = (
    ("expected <block end>", "this line's indentation does not match the lines above it"),
    (
        "did not find expected '-' indicator",
        "this line's indentation does not match the list above it",
    ),
    ("did not find expected key", "this line's indentation does not match the lines above it"),
    ("mapping values are not allowed", "a ': ' inside a value: put the whole value in quotes"),
    (
        "cannot start any token",
        "a character YAML cannot start a value with (a tab?): indent with spaces, quote the value",
    ),
    (
        "could not find expected ':'",
        "a line that is not 'key: value': add the ':' or quote the text",
    ),
    ("found unexpected end of stream", "a quote or bracket that is never closed"),
    ("while scanning a quoted scalar", "a quote that is never closed"),
)


def _advice(problem: str) -> str:
    for needle, advice in _ADVICE:
        if needle in problem:
            return f"{advice} ({problem})"
    return problem


def parse_yaml(text: str, path: Path, line_offset: int = 0) -> Located:
    """Parse one YAML document; raise ContentError naming the line on any syntax problem."""
    try:
        loader = _Composer(text)
        try:
            node = loader.get_single_node()
        finally:
            loader.dispose()
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 + line_offset if mark else 0
        problem = exc.problem or exc.context or "invalid YAML"
        raise ContentError(path, line, f"YAML syntax: {_advice(problem)}") from None
    except yaml.YAMLError as exc:
        raise ContentError(path, 0, f"YAML syntax: {exc}") from None
    if node is None:
        return Located(None, {(): 1 + line_offset})
    walker = _Walker(path, line_offset)
    data = walker.convert(node, ())
    return Located(data, walker.lines)
