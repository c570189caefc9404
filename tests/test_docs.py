"""The worked example in docs/authoring.md is a valid programme, so the docs cannot drift."""

from __future__ import annotations

import re
from pathlib import Path

from capacity_lti.content import load_programme, pick

from .conftest import REPO

_FILE = re.compile(r"<!-- file: (?P<name>[^ ]+) -->\n```[a-z]*\n(?P<body>.*?)```\n", re.S)


def test_authoring_worked_example_validates_and_falls_back(tmp_path: Path) -> None:
    doc = (REPO / "docs" / "authoring.md").read_text(encoding="utf-8")
    files = {m["name"]: m["body"] for m in _FILE.finditer(doc)}
    assert sorted(files) == [
        "events/heat-pump-site-visit.en.md",
        "modules/heat-pumps-beginner.de-AT.md",
        "modules/heat-pumps-beginner.de.md",
        "modules/heat-pumps-beginner.en.md",
        "programme.yaml",
    ]
    for name, body in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(body, encoding="utf-8")
    programme = load_programme(tmp_path)
    module = programme.modules["heat-pumps-beginner"]
    austrian = programme.chain("de-AT")
    assert "Österreich" in pick(module.blocks["guidance/policy-context"], austrian)
    assert "Außenluft" in pick(module.blocks["basics/what"], austrian)
    assert "three units of heat" in pick(module.blocks["basics/why"], austrian)
    assert module.check is not None
    assert module.check.pass_percent == 70
