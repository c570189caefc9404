"""In headless Chromium: the registration dialog closes by postMessage; the deep-linking answer auto-posts.

The LMS page (the fake Moodle on 127.0.0.1) frames the tool addressed as `localhost`, so
the two are different sites, as in a real installation.
"""

from __future__ import annotations

import time
import urllib.request
from collections.abc import Iterator
from typing import TYPE_CHECKING
from urllib.parse import urlencode

import pytest

from capacity_lti.storage.platforms import list_platforms
from capacity_lti.web.session import LearnerSession, issue_token
from tests.conftest import CHROMIUM, CHROMIUM_ARGS
from tests.registration.conftest import Tool
from tests.registration.moodle import FakeMoodle

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page, Playwright


@pytest.fixture(scope="module")
def browser(playwright_driver: Playwright) -> Iterator[Browser]:
    chromium = playwright_driver.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
    yield chromium
    chromium.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context()
    errors: list[str] = []
    context.on("weberror", lambda error: errors.append(str(error.error)))
    tab = context.new_page()
    yield tab
    context.close()
    assert errors == []


def on_localhost(tool: Tool) -> str:
    return tool.url.replace("127.0.0.1", "localhost")


def test_done_closes_the_registration_dialog(tool: Tool, moodle: FakeMoodle, page: Page) -> None:
    page.goto(
        f"{moodle.wwwroot}/admin/tool/lti/registration.php?tool={on_localhost(tool)}/lti/register"
    )
    dialog = page.frame_locator("#dialog")
    dialog.get_by_role("heading", name="Test programme is registered").wait_for()
    assert page.evaluate("window.closeMessages") == []
    dialog.get_by_role("button", name="Done").click()
    page.wait_for_function("window.closeMessages.length === 1")
    assert page.evaluate("window.closeMessages") == [{"subject": "org.imsglobal.lti.close"}]
    assert page.locator("#dialog").count() == 0
    [record] = list_platforms(tool.db)
    assert (record.issuer, record.deployment_ids) == (moodle.wwwroot, ("1",))


def test_a_failed_registration_can_be_closed_too(
    tool: Tool, moodle: FakeMoodle, page: Page
) -> None:
    moodle.configuration_overrides["issuer"] = "https://elsewhere.example.org"
    page.goto(
        f"{moodle.wwwroot}/admin/tool/lti/registration.php?tool={on_localhost(tool)}/lti/register"
    )
    dialog = page.frame_locator("#dialog")
    dialog.get_by_role("heading", name="Registration did not complete").wait_for()
    dialog.get_by_role("button", name="Close").click()
    page.wait_for_function("window.closeMessages.length === 1")
    assert list_platforms(tool.db) == []


def test_the_chosen_modules_are_posted_back_to_the_lms(
    tool: Tool, moodle: FakeMoodle, page: Page
) -> None:
    """Registered by the fake Moodle, which then checks the response as Moodle does."""
    token = moodle.registration_token()
    query = urlencode(
        {"openid_configuration": moodle.configuration_url, "registration_token": token}
    )
    with urllib.request.urlopen(f"{tool.url}/lti/register?{query}", timeout=20) as response:
        assert response.status == 200
    [platform] = list_platforms(tool.db)
    now = int(time.time())
    with tool.app.app_context():
        s = issue_token(
            LearnerSession(
                platform_id=platform.id,
                learner_id=1,
                resource_link_id=None,
                locale="en",
                roles=("http://purl.imsglobal.org/vocab/lis/v2/membership#Instructor",),
                instructor=True,
                deep_linking={
                    "deep_link_return_url": moodle.url("contentitem_return.php?course=2&id=1"),
                    "accept_types": ["ltiResourceLink"],
                    "accept_multiple": True,
                },
                expires_at=now + 600,
                launched_at=now,
                deployment_id=platform.deployment_ids[0],
            )
        )
    page.goto(f"{tool.url}/deep-linking?s={s}")
    page.get_by_label("Advanced street lighting").check()
    page.get_by_label("Street lighting basics").check()
    page.get_by_role("button", name="Add to the course").click()
    page.locator("#added").wait_for()
    assert page.url == moodle.url("contentitem_return.php?course=2&id=1")
    assert page.locator("#added").inner_text() == "2 added"
    assert [(i["title"], i["custom"]) for i in moodle.added] == [
        ("Street lighting basics", {"module": "lighting-beginner"}),
        ("Advanced street lighting", {"module": "lighting-advanced"}),
    ]
