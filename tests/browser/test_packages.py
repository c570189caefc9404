"""Whole packages in a real SCORM runtime: every package `--all` makes for the climate example,
and a path as one SCO, each launched from its manifest in scorm-again, record completion and score.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from lxml import etree

from capacity_lti import content, packaging
from tests.browser.conftest import EXAMPLES, PROGRAMME, Package
from tests.browser.learner import FINISH, Learner, decode

if TYPE_CHECKING:
    from playwright.sync_api import Page

Site = tuple[Path, str]
Packages = Callable[..., Package]
PLAN = [(s.standard, s.language) for s in packaging.plan_all(content.load_programme(PROGRAMME))]
MOBILITY = EXAMPLES / "mobility-innovation"
PARSER = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)


def first_sco(pkg: Package) -> str:
    """The launch page of the first SCO the manifest's organisation names."""
    root = etree.parse(str(pkg.folder / "imsmanifest.xml"), PARSER).getroot()
    ns = {"cp": root.nsmap[None]}
    scos = {
        r.get("identifier"): r.get("href")
        for r in root.iterfind("cp:resources/cp:resource", ns)
        if "sco" in {v for k, v in r.attrib.items() if k.lower().endswith("scormtype")}
    }
    for item in root.iterfind(".//cp:organization//cp:item", ns):
        if item.get("identifierref") in scos:
            return scos[item.get("identifierref")]
    raise AssertionError("no SCO in the organisation")


def complete(learner: Learner, url: str) -> dict[str, Any]:
    """One session: read every block, answer every question right, leave; what was stored."""
    learner.launch(url, None, "Doe, Jane" if learner.standard == "scorm12" else "Jane Doe")
    for index in range(len(learner.data["blocks"])):
        learner.read(index)
    if learner.data["check"]:
        learner.answer(learner.correct_answers())
    learner.leave()
    assert learner.calls()[-1]["fn"] == FINISH[learner.standard]
    return learner.stored()


def expect_done(stored: dict[str, Any], standard: str, blocks: int) -> None:
    if standard == "scorm12":
        core = stored["core"]
        assert (core["lesson_status"], core["exit"]) == ("passed", "")
        assert (core["score"]["raw"], core["score"]["min"], core["score"]["max"]) == (
            "100",
            "0",
            "100",
        )
    else:
        assert (stored["completion_status"], stored["success_status"]) == ("completed", "passed")
        assert (stored["exit"], stored["progress_measure"]) == ("normal", "1")
        assert (stored["score"]["scaled"], stored["score"]["raw"]) == ("1", "100")
    assert decode(stored["suspend_data"], blocks).seen == frozenset(range(blocks))


@pytest.mark.parametrize(("standard", "language"), PLAN, ids=[f"{s}-{lang}" for s, lang in PLAN])
def test_every_package_of_the_climate_example_records_completion_and_score(
    page: Page, site: Site, package: Packages, standard: str, language: str
) -> None:
    pkg = package(standard, language, None)
    launch = first_sco(pkg)
    data = pkg.pages()[launch]
    assert (data["standard"], data["language"]) == (standard, language)
    learner = Learner(page, site[1], standard, data)
    expect_done(complete(learner, f"{pkg.url}{launch}"), standard, len(data["blocks"]))


@pytest.mark.parametrize("standard", packaging.FORMATS)
def test_a_path_as_one_sco_records_completion_and_score(
    page: Page, site: Site, package: Packages, standard: str
) -> None:
    pkg = package(standard, "it", None, MOBILITY, "decision-makers", True)
    assert first_sco(pkg) == "index.html"
    data = pkg.pages()["index.html"]
    assert data["module"] == "decision-makers"
    assert len({block.split("/")[0] for block in data["blocks"]}) == 2  # the path's two modules
    learner = Learner(page, site[1], standard, data)
    stored = complete(learner, f"{pkg.url}index.html")
    expect_done(stored, standard, len(data["blocks"]))
    ids = [stored["interactions"][str(i)]["id"] for i in range(len(data["check"]["questions"]))]
    assert ids == [f"decision-makers-{q['id']}" for q in data["check"]["questions"]]
    assert len(stored["suspend_data"]) < 4096
