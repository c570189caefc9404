"""The example programmes authors copy: valid, complete, and what the issue promises."""

from __future__ import annotations

import io
import re
import shutil
from pathlib import Path

import pytest

from capacity_lti.cli import main
from capacity_lti.content import BLOCKS, Event, load_programme, pick
from capacity_lti.content.summary import coverage

from .conftest import EXAMPLES

CLIMATE = EXAMPLES / "climate-action"
MOBILITY = EXAMPLES / "mobility-innovation"
THEMES = ["ghg-inventory", "plan-development", "stakeholder-engagement", "procurement",
          "buildings", "transport", "waste", "water"]  # fmt: skip


def words(html: str) -> int:
    return len(re.sub(r"<[^>]+>", " ", html).split())


def test_climate_programme_has_the_promised_shape() -> None:
    programme = load_programme(CLIMATE)
    assert [t.id for t in programme.themes] == THEMES
    assert sorted(programme.modules) == sorted(
        f"{t}-{lvl}" for t in THEMES for lvl in ("beginner", "advanced")
    )
    assert [p.audience.value for p in programme.paths] == [
        "decision-makers",
        "officers",
        "trainers",
    ]
    assert programme.assessment is not None
    assert any(d.path is None for d in programme.diplomas)
    assert programme.languages[:3] == ["en", "sv", "fr"]


@pytest.mark.parametrize(
    "module_id", [f"{t}-{lvl}" for t in THEMES for lvl in ("beginner", "advanced")]
)
def test_every_climate_module_is_complete_in_english(module_id: str) -> None:
    module = load_programme(CLIMATE).modules[module_id]
    assert all("en" in module.blocks[key] for key in BLOCKS)
    assert module.check is not None
    assert len(module.check.questions) >= 3
    assert 10 <= module.minutes <= 15
    body = sum(words(module.blocks[key]["en"]) for key in BLOCKS)
    # The claimed time must be honest: between fast reading (220 words a minute, no time
    # for the check) and careful reading in a second language (130 words a minute plus a
    # minute per knowledge-check question, plus one).
    fastest = body / 220
    slowest = body / 130 + len(module.check.questions) + 1
    assert fastest <= module.minutes <= slowest, f"{module_id}: {body} words, {module.minutes} min"


@pytest.mark.parametrize("language", ["sv", "fr"])
def test_every_beginner_module_is_translated_and_advanced_ones_fall_back(language: str) -> None:
    programme = load_programme(CLIMATE)
    for module in programme.modules.values():
        translated = [key for key in BLOCKS if language in module.blocks[key]]
        if module.level.value == "beginner":
            assert translated == list(BLOCKS), f"{module.id} lacks {language} blocks"
            assert language in module.title
            assert module.check is not None
            assert all(language in q.prompt for q in module.check.questions)
        else:
            chain = programme.chain(language)
            assert pick(module.blocks["basics/what"], chain) == module.blocks["basics/what"]["en"]


def test_uk_variant_overrides_only_policy_context() -> None:
    programme = load_programme(CLIMATE)
    module = programme.modules["ghg-inventory-beginner"]
    uk = programme.chain("en-GB")
    assert (
        pick(module.blocks["guidance/policy-context"], uk)
        == module.blocks["guidance/policy-context"]["en-GB"]
    )
    assert [key for key in BLOCKS if "en-GB" in module.blocks[key]] == ["guidance/policy-context"]


def test_validate_and_show_on_the_climate_example() -> None:
    out, err = io.StringIO(), io.StringIO()
    assert main(["validate", str(CLIMATE)], out=out, err=err) == 0
    assert (
        out.getvalue()
        == "ok: climate-action (8 themes, 16 modules, 0 events, 3 paths, 4 languages)\n"
    )
    out = io.StringIO()
    assert main(["show", str(CLIMATE)], out=out, err=err) == 0
    text = out.getvalue()
    assert "8 themes, 16 modules, 0 events, 3 paths, 4 languages" in text
    rows = {row.language: row for row in coverage(load_programme(CLIMATE))}
    assert rows["en"].percent == 100
    assert rows["sv"].full == rows["fr"].full == 8
    for language in ("en", "sv", "fr", "en-GB"):
        assert re.search(rf"^  {re.escape(language)} ", text, re.M), (
            f"no coverage row for {language}"
        )


@pytest.mark.parametrize(
    ("file", "find", "replace", "line_of"),
    [
        ("modules/waste-beginner.en.md", "\n## Guidance\n", "\n## Guide\n", "## Guide"),
        (
            "modules/water-advanced.en.md",
            "\nlevel: advanced\n",
            "\nlevel: expert\n",
            "level: expert",
        ),
        (
            "programme.yaml",
            "      - waste-beginner\n",
            "      - waste-beginer\n",
            "- waste-beginer",
        ),
        ("modules/buildings-beginner.sv.md", "\n## Basics\n", "\n## Grunderna\n", "## Grunderna"),
    ],
)
def test_breaking_an_example_names_the_file_and_line(
    tmp_path: Path, file: str, find: str, replace: str, line_of: str
) -> None:
    copy = tmp_path / "climate"
    shutil.copytree(CLIMATE, copy)
    target = copy / file
    text = target.read_text(encoding="utf-8")
    assert find in text
    text = text.replace(find, replace, 1)
    target.write_text(text, encoding="utf-8")
    line = next(n for n, content in enumerate(text.split("\n"), 1) if line_of in content)
    err = io.StringIO()
    assert main(["validate", str(copy)], out=io.StringIO(), err=err) == 1
    assert f"error: {target}:{line}: " in err.getvalue()


def test_mobility_programme_mixes_modules_and_events_that_award_points() -> None:
    programme = load_programme(MOBILITY)
    assert [t.id for t in programme.themes] == [
        "inspire",
        "inform",
        "initiate",
        "integrate",
        "implement",
    ]
    kinds = {event.kind.value for event in programme.events.values()}
    assert {"webinar", "study-visit", "co-creation-workshop", "peer-review-workshop"} <= kinds
    assert all(event.points > 0 for event in programme.events.values())
    for path in programme.paths:
        items = [programme.item(i) for i in path.items]
        if len(items) > 4:
            assert any(isinstance(i, Event) for i in items)
            assert not all(isinstance(i, Event) for i in items)
    assert "it" in programme.languages
