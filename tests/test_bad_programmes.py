"""One folder per bad programme under tests/cases/: each breaks the base programme once.

A case folder holds `case.yaml` (what it breaks, the edits to apply to a copy of
tests/fixtures/base, and the exact errors expected as 'file:line: message') and,
optionally, `files/` to add to the copy.
"""

from __future__ import annotations

import io
import shutil
from pathlib import Path

import pytest
import yaml

from capacity_lti.cli import main
from capacity_lti.content import load_programme
from capacity_lti.errors import InvalidProgramme

from .conftest import BASE, TESTS

CASES = sorted(p for p in (TESTS / "cases").iterdir() if (p / "case.yaml").is_file())


def build_case(case: Path, target: Path) -> dict[str, object]:
    spec = yaml.safe_load((case / "case.yaml").read_text(encoding="utf-8"))
    shutil.copytree(BASE, target)
    for edit in spec.get("edits", []):
        path = target / edit["file"]
        text = path.read_text(encoding="utf-8")
        assert text.count(edit["find"]) == 1, (
            f"{case.name}: edit must match exactly once in {edit['file']}"
        )
        path.write_text(text.replace(edit["find"], edit["replace"]), encoding="utf-8")
    for name in spec.get("remove", []):
        (target / name).unlink()
    if (case / "files").is_dir():
        shutil.copytree(case / "files", target, dirs_exist_ok=True)
    return spec


def errors_of(folder: Path) -> list[str]:
    with pytest.raises(InvalidProgramme) as caught:
        load_programme(folder)
    return [
        f"{e.path.relative_to(folder).as_posix() if e.path != folder else '.'}:{e.line}: {e.message}"
        for e in caught.value.errors
    ]


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_bad_programme_reports_exact_file_line_and_message(case: Path, tmp_path: Path) -> None:
    folder = tmp_path / "programme"
    spec = build_case(case, folder)
    assert spec["expect"], f"{case.name}: case.yaml lists no expected errors"
    assert errors_of(folder) == spec["expect"]


def test_there_is_a_case_per_kind_of_problem() -> None:
    assert len(CASES) >= 40


def test_validate_command_exits_1_and_prints_each_error(tmp_path: Path) -> None:
    folder = tmp_path / "programme"
    build_case(TESTS / "cases" / "unknown-module-in-path", folder)
    out, err = io.StringIO(), io.StringIO()
    assert main(["validate", str(folder)], out=out, err=err) == 1
    lines = err.getvalue().splitlines()
    assert lines[0] == (
        f"error: {folder / 'programme.yaml'}:26: path 'officers' lists 'lighting-expert', "
        "which is no module or event: did you mean 'lighting-advanced', 'lighting-beginner'?"
    )
    assert (
        lines[-1]
        == "1 error in the programme: nothing was changed; fix the lines above and run again"
    )
    assert out.getvalue() == ""
