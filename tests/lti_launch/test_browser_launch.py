"""A cross-site iframe launch in headless Chromium with third-party cookies blocked.

The LMS page is on http://127.0.0.1:<port>, the tool on http://localhost:<port2> (another
site). The profile blocks third-party cookies (Chromium's `cookie_controls_mode` = 1); a
recorder around the tool's WSGI app proves the framed tool set cookies but never got one
back, while the launch completes and the learner moves between pages on the token alone.
A control run with third-party cookies allowed shows the same flow does carry the cookie.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import pytest
from flask import url_for

from capacity_lti.settings import Settings
from capacity_lti.storage.platforms import add_platform
from capacity_lti.web import create_app
from tests.conftest import CHROMIUM, CHROMIUM_ARGS
from tests.lti_launch.conftest import Tool, probe, serve
from tests.lti_launch.platforms import MoodleLike

if TYPE_CHECKING:
    from playwright.sync_api import BrowserContext, Playwright

ARGS = [*CHROMIUM_ARGS, "--host-resolver-rules=MAP localhost 127.0.0.1"]


@dataclass
class Recorder:
    """WSGI middleware noting, for each request, the Cookie header it brought and the cookies set."""

    app: Callable[..., Any]
    seen: list[dict[str, Any]] = field(default_factory=list)

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        entry: dict[str, Any] = {
            "method": environ["REQUEST_METHOD"],
            "path": environ["PATH_INFO"],
            "cookie": environ.get("HTTP_COOKIE"),
        }
        self.seen.append(entry)

        def recording(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            entry["status"] = int(status.split()[0])
            entry["set_cookie"] = [
                v.split("=", 1)[0] for k, v in headers if k.lower() == "set-cookie"
            ]
            return start_response(status, headers, exc_info)

        return self.app(environ, recording)


@contextmanager
def chromium_context(
    playwright: Playwright, profile: Path, block_third_party: bool
) -> Iterator[BrowserContext]:
    (profile / "Default").mkdir(parents=True)
    preferences = {"profile": {"cookie_controls_mode": 1 if block_third_party else 0}}
    (profile / "Default" / "Preferences").write_text(json.dumps(preferences))
    context = playwright.chromium.launch_persistent_context(
        str(profile), executable_path=str(CHROMIUM), args=ARGS, headless=True
    )
    yield context
    context.close()


@pytest.fixture
def framed(
    tmp_path: Path, database_url: str, moodle: MoodleLike
) -> Iterator[tuple[Tool, Recorder]]:
    """The tool, addressed as http://localhost:<port>, registered with the Moodle-like LMS."""
    app = create_app(Settings(instance_path=tmp_path / "instance", database_url=database_url))
    probe(app)
    recorder = Recorder(app.wsgi_app)
    app.wsgi_app = recorder  # type: ignore[method-assign]
    tool = serve(app)
    tool.url = tool.url.replace("127.0.0.1", "localhost")
    with app.app_context():
        from capacity_lti.web.services import services

        add_platform(
            services().db,
            issuer=moodle.issuer,
            client_id=moodle.client_id,
            auth_login_url=moodle.auth_url,
            auth_token_url=moodle.token_url,
            key_set_url=moodle.keyset_url,
            deployment_ids=(moodle.deployment_id,),
        )
    moodle.tool_login = tool.url + "/lti/login"
    moodle.redirect_uri = moodle.target = tool.url + "/launch"
    yield tool, recorder
    tool.server.shutdown()
    tool.server.server_close()


def open_course(context: BrowserContext, moodle: MoodleLike, tool: Tool) -> Any:
    page = context.new_page()
    page.goto(moodle.issuer + "/course/view.php?id=2")
    frame = page.frame_locator("#tool")
    frame.locator("a[href*='s=']").first.wait_for(timeout=15000)
    return page, frame


def _tool_requests(recorder: Recorder) -> list[dict[str, Any]]:
    """Page and form requests (not stylesheets, scripts or the favicon)."""
    return [e for e in recorder.seen if e["path"] != "/favicon.ico" and "/static/" not in e["path"]]


def test_launch_and_navigation_without_third_party_cookies(
    framed: tuple[Tool, Recorder],
    moodle: MoodleLike,
    tmp_path: Path,
    playwright_driver: Playwright,
) -> None:
    tool, recorder = framed
    with chromium_context(
        playwright_driver, tmp_path / "profile", block_third_party=True
    ) as context:
        page, frame = open_course(context, moodle, tool)
        tool_frame = page.frame(name="tool")
        assert tool_frame is not None
        first = tool_frame.url
        with tool.app.test_request_context():
            home = url_for("learner.home")
        assert urlsplit(first).path == home  # address.js put the page's address in place
        with tool_frame.expect_navigation():  # so a reload asks for the page, not the launch
            tool_frame.evaluate("location.reload()")
        frame.locator("a[href*='s=']").first.click()
        tool_frame.wait_for_url(lambda url: url != first)
        tool_frame.wait_for_load_state("load")
        assert context.cookies("http://localhost") == []  # nothing stored for the tool's site
    seen = _tool_requests(recorder)
    steps = [(e["method"], e["path"].split("?")[0], e["status"]) for e in seen]
    assert steps[0][:2] == ("POST", "/lti/login")
    assert steps[0][2] == 302
    assert steps[1] == ("POST", "/launch", 200)  # the launch answers with the home page
    assert steps[2] == ("GET", home, 200)  # the reload
    assert len(steps) >= 4  # and the page the learner clicked through to, still signed in
    assert [s[2] for s in steps[3:]] == [200] * (len(steps) - 3)
    assert steps[3][1] != home
    # the tool tried to use cookies, and the browser never sent one back
    assert any(name.startswith("capacity_login_") for name in seen[0]["set_cookie"])
    assert "capacity_session" in seen[1]["set_cookie"]
    assert [e["cookie"] for e in recorder.seen] == [None] * len(recorder.seen)


def test_control_with_third_party_cookies_allowed_the_cookie_comes_back(
    framed: tuple[Tool, Recorder],
    moodle: MoodleLike,
    tmp_path: Path,
    playwright_driver: Playwright,
) -> None:
    tool, recorder = framed
    with chromium_context(
        playwright_driver, tmp_path / "profile", block_third_party=False
    ) as context:
        open_course(context, moodle, tool)
    launch = next(e for e in recorder.seen if e["path"] == "/launch")
    assert launch["status"] == 200
    assert launch["cookie"] is not None
    assert "capacity_login_" in launch["cookie"]


def test_platform_storage_binds_the_login_to_the_browser(
    framed: tuple[Tool, Recorder],
    moodle: MoodleLike,
    tmp_path: Path,
    playwright_driver: Playwright,
) -> None:
    """Canvas-style: lti_storage_target names a frame that answers lti.put_data / lti.get_data."""
    tool, recorder = framed
    moodle.storage_target = "post_message_forwarding"
    with chromium_context(
        playwright_driver, tmp_path / "profile", block_third_party=True
    ) as context:
        page, _ = open_course(context, moodle, tool)
        assert page.evaluate("window.storageLog") == ["lti.put_data", "lti.get_data"]
    steps = [(e["method"], e["path"], e["status"]) for e in _tool_requests(recorder)][:3]
    # login answers with the put_data page; the first /launch with the get_data page; the
    # second is the launch, which answers with the home page
    assert steps == [
        ("POST", "/lti/login", 200),
        ("POST", "/launch", 200),
        ("POST", "/launch", 200),
    ]
    assert all(e["cookie"] is None for e in recorder.seen)
