"""Turn pydantic validation errors on authored YAML into ContentErrors with lines and advice."""

from __future__ import annotations

import types
import typing
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from capacity_lti.content.yamlsource import Loc, Located
from capacity_lti.errors import ContentError

M = TypeVar("M", bound=BaseModel)


def dotted(loc: Loc) -> str:
    """('paths', 0, 'items', 2) -> 'paths[1].items[3]' (1-based, as authors count)."""
    out = ""
    for part in loc:
        out += f"[{part + 1}]" if isinstance(part, int) else (f".{part}" if out else part)
    return out or "the top level"


def validate(model: type[M], located: Located, path: Path) -> tuple[M | None, list[ContentError]]:
    """Validate `located.data` as `model`; on failure return every error with its line."""
    try:
        return model.model_validate(located.data), []
    except ValidationError as exc:
        errors = []
        for error in exc.errors(include_url=False):
            loc = tuple(error["loc"])
            errors.append(ContentError(path, located.line_of(loc), _message(model, loc, error)))
        return None, errors


def _message(model: type[BaseModel], loc: Loc, error: Any) -> str:
    kind = error["type"]
    where = dotted(loc)
    if kind == "missing":
        return f"'{where}' is missing: add it"
    if kind == "extra_forbidden":
        allowed = _allowed_keys(model, loc[:-1])
        hint = f" (allowed here: {', '.join(allowed)})" if allowed else ""
        return (
            f"unknown key '{loc[-1]}' in '{dotted(loc[:-1])}': remove it or fix its spelling{hint}"
        )
    if kind == "string_pattern_mismatch":
        return (
            f"'{where}': {error['input']!r} is not a valid id: use lower-case letters, digits "
            "and single hyphens, e.g. 'ghg-inventory-beginner'"
        )
    if kind == "model_type" or kind == "dict_type":
        return f"'{where}' must be a set of 'key: value' lines, not {_kind(error['input'])}"
    if kind == "list_type":
        return f"'{where}' must be a list ('- item' lines or [a, b]), not {_kind(error['input'])}"
    return f"'{where}': {error['msg']}"


def _kind(value: object) -> str:
    if value is None:
        return "empty"
    if isinstance(value, str):
        return f"the text {value[:40]!r}"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    return repr(value)


def _allowed_keys(model: type[BaseModel], loc: Loc) -> list[str]:
    """The field names of the model found at `loc` inside `model`, if it is one."""
    current: Any = model
    for part in loc:
        current = _unwrap(current)
        if isinstance(part, int):
            args = typing.get_args(current)
            current = args[0] if args else None
        elif isinstance(current, type) and issubclass(current, BaseModel):
            field = current.model_fields.get(part)
            current = field.annotation if field else None
        else:
            return []
    current = _unwrap(current)
    if isinstance(current, type) and issubclass(current, BaseModel):
        return list(current.model_fields)
    return []


def _unwrap(annotation: Any) -> Any:
    """Strip Optional[...] / X | None down to the one non-None type."""
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType):
        options = [a for a in typing.get_args(annotation) if a is not type(None)]
        return options[0] if len(options) == 1 else annotation
    return annotation
