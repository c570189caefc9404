"""Property: whatever an author does to a valid programme, loading it either works or
raises InvalidProgramme whose every error is a located ContentError; nothing else escapes."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from capacity_lti.content import Programme, load_programme
from capacity_lti.errors import ContentError, InvalidProgramme

from .conftest import BASE

TEXT_FILES = sorted(
    p.relative_to(BASE).as_posix() for p in BASE.rglob("*") if p.suffix in (".yaml", ".md")
)
# Characters that matter to YAML, Markdown and our parsers, plus ordinary text.
ALPHABET = st.sampled_from(
    [*"abc-:#[]{}!&*|>'\"%@`,?\t\n -_.0123456789é✓", "---", "##", "### ", "- ", "\r"]
)
NOISE = st.lists(ALPHABET, max_size=12).map("".join)


@st.composite
def mutation(draw: st.DrawFn) -> tuple[str, str, int, int, str]:
    file = draw(st.sampled_from(TEXT_FILES))
    kind = draw(st.sampled_from(["delete", "duplicate", "replace", "insert", "truncate", "swap"]))
    return file, kind, draw(st.integers(0, 400)), draw(st.integers(0, 400)), draw(NOISE)


def apply(folder: Path, change: tuple[str, str, int, int, str]) -> None:
    file, kind, a, b, noise = change
    path = folder / file
    lines = path.read_text(encoding="utf-8").split("\n")
    i, j = a % len(lines), b % len(lines)
    if kind == "delete":
        del lines[i]
    elif kind == "duplicate":
        lines.insert(i, lines[i])
    elif kind == "replace":
        lines[i] = noise
    elif kind == "insert":
        lines[i] = lines[i][: j % (len(lines[i]) + 1)] + noise + lines[i][j % (len(lines[i]) + 1) :]
    elif kind == "truncate":
        lines = lines[:i]
    else:
        lines[i], lines[j] = lines[j], lines[i]
    path.write_text("\n".join(lines), encoding="utf-8")


def _load(folder: Path) -> Programme | InvalidProgramme:
    """The programme, or the InvalidProgramme it raised; any other exception propagates."""
    try:
        return load_programme(folder)
    except InvalidProgramme as invalid:
        return invalid


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(mutation(), min_size=1, max_size=3))
def test_mutated_programme_yields_only_content_errors(
    changes: list[tuple[str, str, int, int, str]],
) -> None:
    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch) / "programme"
        shutil.copytree(BASE, folder)
        for change in changes:
            apply(folder, change)
        outcome = _load(folder)
        if isinstance(outcome, Programme):
            return
        assert outcome.errors
        for error in outcome.errors:
            assert isinstance(error, ContentError)
            assert error.path.is_relative_to(folder)
            assert error.line >= 0
            assert error.message


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=300))
def test_arbitrary_bytes_as_programme_yaml_yield_only_content_errors(data: bytes) -> None:
    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch)
        (folder / "programme.yaml").write_bytes(data)
        outcome = _load(folder)
        assert isinstance(outcome, InvalidProgramme)
        assert all(isinstance(e, ContentError) for e in outcome.errors)
