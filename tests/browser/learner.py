"""A scripted learner in the harness LMS, and the suspend_data format of docs/packaging.md."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # imported by the tests only once the browser fixture found playwright
    from playwright.sync_api import FrameLocator, Locator, Page

CHOICE_LETTERS = "abcdefghijklmnopqrstuvwxyz0123456789"
SUSPEND_DATA = re.compile(r"^v1\|([0-9a-v]*)\|(\d+)\|([a-z0-9.-]*)$")
FINISH = {"scorm12": "LMSFinish", "scorm2004": "Terminate"}
COMMIT = {"scorm12": "LMSCommit", "scorm2004": "Commit"}
SET = {"scorm12": "LMSSetValue", "scorm2004": "SetValue"}


@dataclass(frozen=True)
class Suspended:
    """suspend_data decoded: blocks seen (indexes), the last block, the last answers or None."""

    seen: frozenset[int]
    last: int
    answers: tuple[tuple[int, ...], ...] | None


def decode(text: str, blocks: int) -> Suspended:
    """v1|<one base-36 digit per five blocks>|<last block>|<letters per question, '.'-joined>."""
    match = SUSPEND_DATA.match(text)
    assert match, f"suspend_data {text!r} does not follow the v1 format"
    digits, last, answers = match.groups()
    assert len(digits) == (blocks + 4) // 5, f"{digits!r}: one digit per five of {blocks} blocks"
    seen = frozenset(i for i in range(blocks) if int(digits[i // 5], 36) >> (i % 5) & 1)
    chosen = None
    if answers:
        chosen = tuple(
            () if group == "-" else tuple(CHOICE_LETTERS.index(c) for c in group)
            for group in answers.split(".")
        )
    return Suspended(seen, int(last), chosen)


def letters(choices: list[int] | tuple[int, ...], separator: str) -> str:
    return separator.join(CHOICE_LETTERS[c] for c in sorted(choices))


@dataclass
class Learner:
    """Drives the harness page: launches a session, reads blocks, answers the check, leaves."""

    page: Page
    site: str  # base URL of the local server
    standard: str
    data: dict[str, Any] = field(default_factory=dict)
    direct: bool = False  # the module page opened on its own, with no LMS around it

    @property
    def frame(self) -> FrameLocator | Page:
        return self.page if self.direct else self.page.frame_locator("#sco")

    def launch(self, url: str, stored: dict[str, Any] | None, learner_name: str) -> None:
        """Open the harness LMS and launch the module page in its frame; wait for Initialize."""
        if not self.page.url.endswith("harness.html"):
            self.page.goto(f"{self.site}harness.html")
        self.page.evaluate(
            "options => lms.launch(options)",
            {"standard": self.standard, "src": url, "stored": stored, "learnerName": learner_name},
        )
        self.page.wait_for_function("() => lms.calls.length > 0")
        self.frame.locator(".capacity-status").wait_for(state="attached")

    # -- what the LMS saw

    def calls(self, fn: str | None = None) -> list[dict[str, Any]]:
        journal: list[dict[str, Any]] = self.page.evaluate("() => lms.calls")
        return [c for c in journal if fn is None or c["fn"] == fn]

    def commits(self) -> int:
        return len(self.calls(COMMIT[self.standard]))

    def sets(self, element: str) -> list[str]:
        return [c["args"][1] for c in self.calls(SET[self.standard]) if c["args"][0] == element]

    def live(self) -> dict[str, Any]:
        """The CMI in the LMS's memory now, as scorm-again would commit it."""
        cmi: dict[str, Any] = self.page.evaluate("() => lms.live()")
        return cmi

    def stored(self) -> dict[str, Any]:
        """What scorm-again committed last (on Commit or on Finish)."""
        cmi: dict[str, Any] = self.page.evaluate("() => lms.stored")
        return cmi

    # -- what the learner does

    def block(self, index: int) -> Locator:
        return self.frame.locator(f'section[data-block="{self.data["blocks"][index]}"]')

    def read(self, index: int) -> None:
        """Scroll block `index` to the top of the frame and wait until the runtime saw it."""
        block = self.block(index)
        block.evaluate(
            "el => window.scrollTo(0, el.getBoundingClientRect().top + window.pageYOffset)"
        )
        block.and_(self.frame.locator(".capacity-seen")).wait_for()

    def seen_in_page(self) -> set[int]:
        return {i for i in range(len(self.data["blocks"])) if self.is_seen(i)}

    def is_seen(self, index: int) -> bool:
        classes = self.block(index).get_attribute("class") or ""
        return "capacity-seen" in classes.split()

    def answer(self, answers: list[list[int]]) -> None:
        """Tick exactly these choice indexes for each question, then submit the check."""
        questions = self.data["check"]["questions"]
        for question, chosen in zip(questions, answers, strict=True):
            inputs = self.frame.locator(f'fieldset[data-question="{question["id"]}"] input')
            for i in range(inputs.count()):
                box = inputs.nth(i)
                if i in chosen:
                    box.check()
                elif question["multiple"]:
                    box.uncheck()
        self.frame.locator('#capacity-check [type="submit"]').click()
        self.frame.locator(".capacity-result:not(:empty)").wait_for()

    def leave(self) -> None:
        """Navigate the frame away (pagehide in the module page) and wait for Finish/Terminate.

        Every value the runtime wrote in the session must have been accepted by scorm-again.
        """
        self.page.evaluate("() => { document.getElementById('sco').src = 'about:blank'; }")
        finish = FINISH[self.standard]
        self.page.wait_for_function(f"() => lms.calls.some(c => c.fn === '{finish}')")
        refused = [c for c in self.calls(SET[self.standard]) if c["result"] != "true"]
        assert refused == [], f"scorm-again refused {refused}"

    # -- answers for a question set

    def choice_counts(self) -> list[int]:
        return [
            self.frame.locator(f'fieldset[data-question="{q["id"]}"] input').count()
            for q in self.data["check"]["questions"]
        ]

    def correct_answers(self) -> list[list[int]]:
        return [sorted(q["correct"]) for q in self.data["check"]["questions"]]

    def failing_answers(self) -> list[list[int]]:
        """The first question right, every other one wrong."""
        answers = self.correct_answers()
        for i, count in enumerate(self.choice_counts()):
            if i == 0:
                continue
            wrong = next(c for c in range(count) if c not in answers[i])
            answers[i] = [wrong]
        return answers
