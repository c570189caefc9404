"""Points, statuses and link scores over the example and test programmes."""

from __future__ import annotations

from pathlib import Path

import pytest

from capacity_lti.awards.points import (
    Score,
    Status,
    earned,
    item_status,
    link_items,
    link_score,
    missing_prerequisites,
    module_blocks,
    module_ready,
    path_progress,
    total_earned,
)
from capacity_lti.content import BLOCKS, Programme, load_programme
from tests.conftest import EXAMPLES


@pytest.fixture(scope="module")
def climate() -> Programme:
    return load_programme(EXAMPLES / "climate-action")


@pytest.fixture(scope="module")
def mobility() -> Programme:
    return load_programme(EXAMPLES / "mobility-innovation")


def test_a_module_link_is_scored_on_that_module(climate: Programme) -> None:
    assert link_items(climate, "waste-beginner") == ("waste-beginner",)
    assert link_score(climate, "waste-beginner", set()) == Score(0.0, 1.0, complete=False)
    done = link_score(climate, "waste-beginner", {"waste-beginner", "water-beginner"})
    assert done == Score(1.0, 1.0, complete=True)
    assert (done.activity_progress, done.grading_progress) == ("Completed", "FullyGraded")


def test_the_home_link_is_scored_on_the_whole_programme(mobility: Programme) -> None:
    # five modules of 1 point and four events of 2 points
    assert len(link_items(mobility, None)) == 9
    score = link_score(
        mobility, None, {"inspire-why-innovation-stalls", "study-visit-mobility-hub"}
    )
    assert score == Score(3.0, 13.0, complete=False)
    assert score.activity_progress == "InProgress"
    everything = {item.id for item in mobility.items()}
    assert link_score(mobility, None, everything) == Score(13.0, 13.0, complete=True)


def test_unknown_ids_count_nothing(climate: Programme) -> None:
    assert link_items(climate, "no-such-module") == ()
    assert link_score(climate, "no-such-module", {"no-such-module"}) == Score(0.0, 0.0, False)
    assert total_earned(climate, {"removed-module", "waste-beginner"}) == 1
    assert earned(climate, {"waste-beginner"}, ["water-beginner"]) == 0


def test_path_progress(mobility: Programme) -> None:
    progress = path_progress(mobility, "decision-makers", {"inspire-why-innovation-stalls"})
    assert (progress.done, progress.total, progress.earned, progress.possible) == (1, 4, 1, 6)
    assert not progress.complete
    path = mobility.path("decision-makers")
    assert path_progress(mobility, "decision-makers", set(path.items)).complete


def test_a_module_is_ready_when_every_block_is_seen_and_the_check_passed(
    climate: Programme,
) -> None:
    module = climate.modules["waste-beginner"]
    assert module_blocks(module) == BLOCKS
    assert module.check is not None
    assert not module_ready(module, set(BLOCKS), check_passed=False)
    assert not module_ready(module, set(BLOCKS[:-1]), check_passed=True)
    assert module_ready(module, set(BLOCKS), check_passed=True)


def test_a_module_without_a_check_needs_only_its_blocks(base_programme: Path) -> None:
    programme = load_programme(base_programme)
    module = programme.modules["lighting-advanced"].model_copy(update={"check": None})
    assert module_ready(module, set(BLOCKS), check_passed=False)


def test_status_and_prerequisites(base_programme: Path) -> None:
    programme = load_programme(base_programme)
    assert item_status("a", {"a"}, {"a"}) is Status.COMPLETED
    assert item_status("a", set(), {"a"}) is Status.IN_PROGRESS
    assert item_status("a", set(), set()) is Status.NOT_STARTED
    assert missing_prerequisites(programme, "site-visit", set()) == ("lighting-advanced",)
    assert missing_prerequisites(programme, "site-visit", {"lighting-advanced"}) == ()
