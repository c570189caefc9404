"""scorm/runtime.js in a real SCORM runtime: scorm-again (npm) as the LMS, Debian's Chromium.

A scripted learner reads part of a module, fails the knowledge check, leaves, resumes in a
second session from what scorm-again stored, reads the rest, passes and leaves. Every assertion
is on the CMI values scorm-again recorded, or on what the learner sees in the page.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from tests.browser.conftest import MODULE, READING, Package
from tests.browser.learner import FINISH, Learner, decode, letters

if TYPE_CHECKING:
    from playwright.sync_api import Page

Site = tuple[Path, str]
Packages = Callable[..., Package]

# Session times: HHHH:MM:SS.SS as the runtime writes it in SCORM 1.2, CMITimespan as scorm-again
# keeps it, and an ISO 8601 duration in SCORM 2004.
TIME_12_WRITTEN = re.compile(r"^\d{4}:\d{2}:\d{2}\.\d{2}$")
TIME_12 = re.compile(r"^\d{2,4}:\d{2}:\d{2}(\.\d{1,2})?$")
TIME_2004 = re.compile(r"^PT(\d+H)?(\d+M)?\d+(\.\d{1,2})?S$")
LEARNER = {"scorm12": "Doe, Jane", "scorm2004": "Jane Doe"}  # 1.2 LMSs send "Last, First"
SECOND_LANGUAGE = "sv"


def fill(template: str, **values: object) -> str:
    return re.sub(r"\{(\w+)\}", lambda m: str(values.get(m[1], m[0])), template)


def the_module(pkg: Package) -> tuple[str, dict[str, Any]]:
    pages = pkg.pages()
    name = f"{MODULE}.html" if f"{MODULE}.html" in pages else next(iter(pages))
    return name.removesuffix(".html"), pages[name]


def interactions(cmi: dict[str, Any]) -> list[dict[str, Any]]:
    found = cmi["interactions"]
    return [found[str(i)] for i in range(len(found))]


def expect_interactions(
    cmi: dict[str, Any], standard: str, module: str, data: dict[str, Any], answers: list[list[int]]
) -> None:
    """One interaction per question, within SCORM 1.2's and 2004's formats."""
    is12 = standard == "scorm12"
    separator = "," if is12 else "[,]"
    questions = data["check"]["questions"]
    recorded = interactions(cmi)
    assert len(recorded) == len(questions)
    for interaction, question, chosen in zip(recorded, questions, answers, strict=True):
        right = sorted(chosen) == sorted(question["correct"])
        assert interaction["id"] == f"{module}-{question['id']}"
        assert re.fullmatch(r"[A-Za-z0-9_-]{1,255}", interaction["id"])
        assert interaction["type"] == "choice"
        response = interaction["student_response" if is12 else "learner_response"]
        assert response == letters(chosen, separator)
        if is12:
            assert all(len(part) == 1 for part in response.split(","))
        assert interaction["correct_responses"]["0"]["pattern"] == letters(
            question["correct"], separator
        )
        assert interaction["result"] == ("correct" if right else "wrong" if is12 else "incorrect")
        assert interaction["weighting"] == "1"
        if is12:
            assert re.fullmatch(r"\d{2}:\d{2}:\d{2}", interaction["time"])
        else:
            assert re.fullmatch(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}", interaction["timestamp"])


def status_of(cmi: dict[str, Any], standard: str) -> dict[str, str]:
    if standard == "scorm12":
        core = cmi["core"]
        return {"status": core["lesson_status"], "exit": core["exit"], **core["score"]}
    return {
        "completion": cmi["completion_status"],
        "success": cmi["success_status"],
        "progress": cmi["progress_measure"],
        "exit": cmi["exit"],
        **cmi["score"],
    }


def expect_feedback(learner: Learner, data: dict[str, Any], answers: list[list[int]]) -> None:
    """Each question shows its own feedback text in the page, in an aria-live region."""
    for question, chosen in zip(data["check"]["questions"], answers, strict=True):
        result = "correct" if sorted(chosen) == sorted(question["correct"]) else "incorrect"
        fieldset = learner.frame.locator(f'fieldset[data-question="{question["id"]}"]')
        assert fieldset.get_attribute("data-result") == result
        feedback = fieldset.locator(".capacity-feedback")
        assert feedback.get_attribute("aria-live") == "polite"
        assert feedback.text_content() == question["feedback"][result]


@pytest.mark.parametrize("language", ["en", SECOND_LANGUAGE])
@pytest.mark.parametrize("standard", ["scorm12", "scorm2004"])
def test_learner_fails_leaves_resumes_and_passes(
    page: Page, site: Site, package: Packages, standard: str, language: str
) -> None:
    pkg = package(standard, language)
    module, data = the_module(pkg)
    assert data["standard"] == standard
    assert data["language"] == language
    is12 = standard == "scorm12"
    ui = data["ui"]
    blocks = len(data["blocks"])
    questions = data["check"]["questions"]
    mastery = data["mastery"]
    learner = Learner(page, site[1], standard, data)

    # -- first session: read the first half, fail the check, leave
    learner.launch(pkg.page_url(module), None, LEARNER[standard])
    assert learner.frame.locator(".capacity-banner").count() == 0
    for index in range(blocks // 2):
        learner.read(index)
    assert learner.frame.locator(".capacity-seen").count() < blocks
    failing = learner.failing_answers()
    learner.answer(failing)
    expect_feedback(learner, data, failing)
    right = sum(sorted(a) == sorted(q["correct"]) for a, q in zip(failing, questions, strict=True))
    percent = round(100 * right / len(questions))
    assert percent < mastery
    assert learner.frame.locator(".capacity-result").text_content() == fill(
        ui["failed"], correct=right, total=len(questions), percent=percent, mastery=mastery
    )
    assert learner.frame.locator(".capacity-result").get_attribute("role") == "status"
    live = learner.live()
    expect_interactions(live, standard, module, data, failing)
    assert learner.commits() == 0, "a change must not commit: only the timer, hiding and leaving"
    seen_first = learner.seen_in_page()
    assert set(range(blocks // 2)) <= seen_first
    assert len(seen_first) < blocks
    learner.leave()

    stored = learner.stored()
    assert learner.calls()[-1]["fn"] == FINISH[standard], "Finish, once, and nothing after it"
    assert len(learner.calls(FINISH[standard])) == 1
    assert learner.commits() == 0, "leaving finishes (which stores) without a separate commit"
    assert len(learner.calls("LMSSetValue" if is12 else "SetValue")) > 10
    expect_interactions(stored, standard, module, data, failing)
    if is12:
        assert status_of(stored, standard) == {
            "status": "failed",
            "exit": "suspend",
            "raw": "0",
            "min": "0",
            "max": "100",
        }
        (written,) = learner.sets("cmi.core.session_time")
        assert TIME_12_WRITTEN.match(written), written
        assert TIME_12.match(stored["core"]["session_time"])
    else:
        progress = f"{int(100 * len(seen_first) / blocks) / 100:g}"
        assert status_of(stored, standard) == {
            "completion": "incomplete",
            "success": "failed",
            "progress": progress,
            "exit": "suspend",
            "scaled": "0",
            "raw": "0",
            "min": "0",
            "max": "100",
        }
        (written,) = learner.sets("cmi.session_time")
        assert TIME_2004.match(written), written
        assert stored["session_time"] == written
    suspended = decode(stored["suspend_data"], blocks)
    assert len(stored["suspend_data"]) < 4096
    assert suspended.seen == seen_first
    assert suspended.answers == tuple(tuple(a) for a in failing)
    assert suspended.last in seen_first

    # -- second session: resume from what scorm-again stored
    learner.launch(pkg.page_url(module), stored, LEARNER[standard])
    live = learner.live()
    assert (live["core"]["entry"] if is12 else live["entry"]) == "resume"
    assert learner.seen_in_page() >= seen_first
    at_last_block = learner.block(suspended.last).evaluate(
        """el => Math.abs(el.getBoundingClientRect().top) < 2 ||
            (el.getBoundingClientRect().top < innerHeight &&
             scrollY + innerHeight >= document.documentElement.scrollHeight - 2)"""
    )
    assert at_last_block, "resume scrolls to the block the learner was reading"
    for question, chosen in zip(questions, failing, strict=True):
        boxes = learner.frame.locator(f'fieldset[data-question="{question["id"]}"] input')
        ticked = [i for i in range(boxes.count()) if boxes.nth(i).is_checked()]
        assert ticked == sorted(chosen)
    expect_feedback(learner, data, failing)
    for index in range(blocks):
        if not learner.is_seen(index):
            learner.read(index)
    correct = learner.correct_answers()
    learner.answer(correct)
    expect_feedback(learner, data, correct)
    assert learner.frame.locator(".capacity-result").text_content() == fill(
        ui["passed"], correct=len(questions), total=len(questions), percent=100, mastery=mastery
    )
    assert learner.frame.locator("#capacity-check input:enabled").count() == 0
    assert ui["completed"] in (learner.frame.locator(".capacity-done").text_content() or "")
    expect_interactions(learner.live(), standard, module, data, correct)
    assert learner.commits() == 0

    if data.get("certificate"):
        with page.context.expect_page() as opened:
            learner.frame.locator(".capacity-certificate-link").click()
        certificate = opened.value
        certificate.wait_for_load_state()
        name = certificate.locator("#capacity-learner")
        name.filter(has_text="Jane Doe").wait_for()
        assert (name.text_content() or "").strip() == "Jane Doe"
        certificate.close()

    learner.leave()
    stored = learner.stored()
    assert learner.calls()[-1]["fn"] == FINISH[standard]
    assert len(learner.calls(FINISH[standard])) == 1
    assert learner.commits() == 0
    expect_interactions(stored, standard, module, data, correct)
    if is12:
        assert status_of(stored, standard) == {
            "status": "passed",
            "exit": "",
            "raw": "100",
            "min": "0",
            "max": "100",
        }
        (written,) = learner.sets("cmi.core.session_time")
        assert TIME_12_WRITTEN.match(written), written
        assert TIME_12.match(stored["core"]["total_time"])
    else:
        assert status_of(stored, standard) == {
            "completion": "completed",
            "success": "passed",
            "progress": "1",
            "exit": "normal",
            "scaled": "1",
            "raw": "100",
            "min": "0",
            "max": "100",
        }
        (written,) = learner.sets("cmi.session_time")
        assert TIME_2004.match(written), written
        assert TIME_2004.match(stored["total_time"])
    suspended = decode(stored["suspend_data"], blocks)
    assert suspended.seen == frozenset(range(blocks))
    assert suspended.answers == tuple(tuple(a) for a in correct)


def test_without_an_lms_the_page_says_so_and_still_works(
    page: Page, site: Site, package: Packages
) -> None:
    pkg = package("scorm12", SECOND_LANGUAGE)
    module, data = the_module(pkg)
    page.goto(pkg.page_url(module))
    learner = Learner(page, site[1], "scorm12", data, direct=True)
    banner = page.locator(".capacity-banner")
    assert banner.text_content() == data["ui"]["no_lms"]
    assert banner.is_visible()
    correct = learner.correct_answers()
    learner.answer(correct)
    expect_feedback(learner, data, correct)
    learner.read(len(data["blocks"]) - 1)


def test_commits_every_60_seconds_only_when_something_changed(
    page: Page, site: Site, package: Packages
) -> None:
    pkg = package("scorm12", "en")
    module, data = the_module(pkg)
    page.clock.install()
    learner = Learner(page, site[1], "scorm12", data)
    learner.launch(pkg.page_url(module), None, LEARNER["scorm12"])
    learner.read(1)
    assert learner.commits() == 0
    page.clock.run_for(59_000)
    assert learner.commits() == 0
    page.clock.run_for(2_000)
    assert learner.commits() == 1
    assert learner.frame.locator(".capacity-saved").text_content() == data["ui"]["saved"]
    page.clock.run_for(120_000)
    assert learner.commits() == 1, "nothing changed: no commit"
    learner.read(3)
    page.clock.run_for(60_000)
    assert learner.commits() == 2
    assert decode(learner.stored()["suspend_data"], len(data["blocks"])).seen >= {1, 3}


def test_commits_when_the_page_is_hidden(page: Page, site: Site, package: Packages) -> None:
    pkg = package("scorm2004", "en")
    module, data = the_module(pkg)
    learner = Learner(page, site[1], "scorm2004", data)
    learner.launch(pkg.page_url(module), None, LEARNER["scorm2004"])
    learner.read(2)
    assert learner.commits() == 0
    # Headless Chromium keeps every tab visible: tell the module page it was hidden, as a
    # browser does when the learner switches tabs or locks the phone.
    hide = """(html, state) => {
        Object.defineProperty(document, 'visibilityState', {configurable: true, get: () => state});
        document.dispatchEvent(new Event('visibilitychange'));
    }"""
    learner.frame.locator("html").evaluate(hide, "hidden")
    assert learner.commits() == 1
    assert learner.calls(FINISH["scorm2004"]) == []
    assert 2 in decode(learner.stored()["suspend_data"], len(data["blocks"])).seen
    learner.frame.locator("html").evaluate(hide, "visible")
    learner.frame.locator("html").evaluate(hide, "hidden")
    assert learner.commits() == 1, "hidden again with nothing changed: no commit"


def test_suspend_data_of_the_largest_module_fits_scorm12(
    page: Page, site: Site, package: Packages
) -> None:
    """Every block seen and every choice ticked in the module with most questions and choices."""
    pkg = package("scorm12", "en", None)
    pages = pkg.pages()

    def size(item: tuple[str, dict[str, Any]]) -> int:
        check = item[1]["check"] or {"questions": []}
        return len(item[1]["blocks"]) + sum(len(q["correct"]) + 5 for q in check["questions"])

    name, data = max(pages.items(), key=size)
    learner = Learner(page, site[1], "scorm12", data)
    learner.launch(f"{pkg.url}{name}", None, LEARNER["scorm12"])
    for index in range(len(data["blocks"])):
        learner.read(index)
    if data["check"]:
        everything = [
            list(range(count)) if q["multiple"] else [count - 1]
            for q, count in zip(data["check"]["questions"], learner.choice_counts(), strict=True)
        ]
        learner.answer(everything)
    learner.leave()
    suspend_data = learner.stored()["suspend_data"]
    assert len(suspend_data) < 4096
    assert decode(suspend_data, len(data["blocks"])).seen == frozenset(range(len(data["blocks"])))


@pytest.mark.parametrize("standard", ["scorm12", "scorm2004"])
def test_a_module_without_a_check_completes_once_every_block_was_seen(
    page: Page, site: Site, package: Packages, standard: str
) -> None:
    pkg = package(standard, "en", "fixture-reading", READING)
    data = pkg.data("fixture-reading")
    blocks = len(data["blocks"])
    learner = Learner(page, site[1], standard, data)
    learner.launch(pkg.page_url("fixture-reading"), None, LEARNER[standard])
    learner.read(0)
    live = learner.live()
    if standard == "scorm12":
        assert status_of(live, standard) == {
            "status": "incomplete",
            "exit": "suspend",
            "raw": "",
            "min": "",
            "max": "100",  # scorm-again's default
        }
    else:
        assert status_of(live, standard)["completion"] == "incomplete"
        assert live["score"]["scaled"] == ""
    for index in range(1, blocks):
        learner.read(index)
    done = learner.frame.locator(".capacity-done").text_content() or ""
    assert done.startswith(data["ui"]["completed"])
    learner.leave()
    stored = learner.stored()
    if standard == "scorm12":
        assert status_of(stored, standard) == {
            "status": "completed",
            "exit": "",
            "raw": "100",
            "min": "0",
            "max": "100",
        }
    else:
        assert status_of(stored, standard) == {
            "completion": "completed",
            "success": "unknown",
            "progress": "1",
            "exit": "normal",
            "scaled": "1",
            "raw": "100",
            "min": "0",
            "max": "100",
        }
    assert stored["interactions"] == {}
    assert decode(stored["suspend_data"], blocks).seen == frozenset(range(blocks))
