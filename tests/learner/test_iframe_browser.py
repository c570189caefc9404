"""Headless Chromium: a course page on one site frames the tool on another, third-party
cookies blocked; the learner launches, reads a module and passes its check inside the frame.

The Moodle-like course page is on http://127.0.0.1:<port>, the tool on http://localhost:<port>
(another site). A WSGI wrapper records every Cookie header the tool receives: there must be
none, so everything worked on the session token alone.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from sqlalchemy import select

from capacity_lti.content import load_programme
from capacity_lti.settings import Settings
from capacity_lti.storage.platforms import add_platform
from capacity_lti.storage.tables import Completion, ScoreOutbox
from capacity_lti.web import create_app
from tests.conftest import CHROMIUM, CHROMIUM_ARGS, EXAMPLES
from tests.lti_launch.conftest import Tool, serve
from tests.lti_launch.platforms import MoodleLike

if TYPE_CHECKING:
    from playwright.sync_api import BrowserContext, Playwright

MODULE = "ghg-inventory-beginner"
CHECK = load_programme(EXAMPLES / "climate-action").modules[MODULE].check
Wsgi = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


class CookieLog:
    """Wraps the tool's WSGI app and keeps (path, Cookie header) of each request that had one."""

    def __init__(self, app: Wsgi) -> None:
        self.app = app
        self.seen: list[tuple[str, str]] = []
        self.paths: list[str] = []

    def __call__(self, environ: dict[str, Any], start: Callable[..., Any]) -> Iterable[bytes]:
        self.paths.append(environ["PATH_INFO"])
        if environ.get("HTTP_COOKIE"):
            self.seen.append((environ["PATH_INFO"], environ["HTTP_COOKIE"]))
        return self.app(environ, start)


@pytest.fixture
def cross_site_tool(
    tmp_path: Path, database_url: str, moodle: MoodleLike
) -> Iterator[tuple[Tool, CookieLog]]:
    app = create_app(Settings(instance_path=tmp_path / "instance", database_url=database_url))
    log = CookieLog(app.wsgi_app)
    app.wsgi_app = log  # type: ignore[method-assign]
    tool = serve(app, host="localhost")
    add_platform(
        tool.db(),
        issuer=moodle.issuer,
        client_id=moodle.client_id,
        auth_login_url=moodle.auth_url,
        auth_token_url=moodle.token_url,
        key_set_url=moodle.keyset_url,
        deployment_ids=(moodle.deployment_id,),
    )
    moodle.tool_login = tool.url + "/lti/login"
    moodle.redirect_uri = tool.url + "/launch"
    moodle.target = tool.url + "/launch"
    moodle.custom = {"module": MODULE}
    moodle.locale = "sv"
    yield tool, log
    tool.server.shutdown()
    tool.server.server_close()


@pytest.fixture
def chromium(tmp_path: Path, playwright_driver: Playwright) -> Iterator[BrowserContext]:
    profile = tmp_path / "profile"
    (profile / "Default").mkdir(parents=True)
    # Chromium's own setting "Block third-party cookies", as a learner's browser may have it.
    prefs = {"profile": {"cookie_controls_mode": 1, "block_third_party_cookies": True}}
    (profile / "Default" / "Preferences").write_text(json.dumps(prefs))
    context = playwright_driver.chromium.launch_persistent_context(
        str(profile),
        executable_path=str(CHROMIUM),
        headless=True,
        args=[*CHROMIUM_ARGS, "--test-third-party-cookie-phaseout"],
    )
    yield context
    context.close()


def test_a_learner_completes_a_module_in_a_cross_site_frame_without_cookies(
    cross_site_tool: tuple[Tool, CookieLog], moodle: MoodleLike, chromium: BrowserContext
) -> None:
    from playwright.sync_api import expect

    tool, log = cross_site_tool
    assert CHECK is not None
    page = chromium.new_page()
    page.set_default_timeout(20_000)
    page.goto(moodle.issuer + "/course/view.php")
    frame = page.frame_locator("#tool")
    status = frame.locator("#status")
    status.wait_for()
    assert frame.locator("html").get_attribute("lang") == "sv"
    assert frame.locator("form#check h2").inner_text() == "Kunskapskontroll"

    # The script marks what is in view as read, posting with the token in a header.
    frame.locator("#b-basics-why").scroll_into_view_if_needed()
    frame.locator("#read-label").filter(has_not_text="Lästa delar: 0 av 11").wait_for()
    assert any(path == f"/modules/{MODULE}/progress" for path in log.paths)

    # Opening the activity again (a new launch) scrolls back to where the learner was.
    page.reload()
    status.wait_for()
    tool_frame = page.frame(name="tool")
    assert tool_frame is not None
    resume = tool_frame.locator("#learner-module").get_attribute("data-resume")
    assert resume in ("b-basics-what", "b-basics-why")
    assert tool_frame.evaluate("() => window.scrollY") > 0
    top = tool_frame.evaluate(
        f"() => document.getElementById('{resume}').getBoundingClientRect().top"
    )
    assert 0 <= top <= 10  # at the top of the frame, but for its scroll margin

    # The plain forms: one button per section; each post reloads the page in the frame,
    # where the section read no longer has a button.
    buttons = frame.locator("form.mark button")
    for _ in range(6):
        left = buttons.count()
        if not left:
            break
        buttons.first.click()
        expect(buttons).not_to_have_count(left)
    frame.locator("#read-label").filter(has_text="Lästa delar: 11 av 11").wait_for()

    for question in CHECK.questions:
        for index in question.correct_indexes:
            frame.locator(f"fieldset[data-question='{question.id}'] input[value='{index}']").check()
    frame.get_by_role("button", name="Rätta mina svar").click()
    frame.locator("#status").filter(has_text="Modulen är klar.").wait_for()
    assert "Du fick 1 poäng." in frame.locator("#status").inner_text()
    assert frame.locator("p.result").inner_text() == (
        f"Godkänt: {len(CHECK.questions)} av {len(CHECK.questions)} rätt."
    )

    assert log.seen == []  # not one cookie reached the tool
    with tool.db().session() as session:
        assert session.scalars(select(Completion.item_id)).all() == [MODULE]
        given = session.execute(select(ScoreOutbox.score_given, ScoreOutbox.score_maximum)).all()
        assert [tuple(row) for row in given] == [(1.0, 1.0)]
