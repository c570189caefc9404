"""The LTI Platform Storage protocol, server side (the browser side runs in test_browser_launch)."""

from __future__ import annotations

import html
import json
import logging
from typing import Any

import pytest
import requests

from tests.lti_launch.conftest import Tool, lands_on
from tests.lti_launch.platforms import MoodleLike, query_of, read_form
from tests.lti_launch.test_refusals import refused


def storage_data(page: str) -> dict[str, Any]:
    start = page.index('id="lti-storage">') + len('id="lti-storage">')
    return json.loads(page[start : page.index("</script>", start)])  # type: ignore[no-any-return]


def begin(tool: Tool, moodle: MoodleLike) -> tuple[dict[str, Any], dict[str, str]]:
    """Login with lti_storage_target, then the platform's form: (what put_data stores, the form)."""
    moodle.storage_target = "post_message_forwarding"
    login = requests.post(
        tool.url + "/lti/login", data=moodle.initiation(), allow_redirects=False, timeout=10
    )
    assert login.status_code == 200
    put = storage_data(login.text)
    assert put["target"] == "post_message_forwarding"
    assert put["origin"] == moodle.issuer  # the platform's OIDC auth origin
    state = query_of(put["next"])["state"]
    assert put["key"] == "capacity_state_" + state
    _, form = read_form(requests.get(put["next"], timeout=10).text)
    return put, form


def test_launch_asks_for_the_stored_value_then_accepts_it(tool: Tool, moodle: MoodleLike) -> None:
    put, form = begin(tool, moodle)
    first = requests.post(tool.url + "/launch", data=form, allow_redirects=False, timeout=10)
    assert first.status_code == 200
    get = storage_data(first.text)
    assert get == {"target": "post_message_forwarding", "key": put["key"], "origin": moodle.issuer}
    action, fields = read_form(first.text)
    assert (
        '<noscript><input type="hidden" name="storage_failed" value="1">' in first.text
    )  # no JS: refused
    fields.pop("storage_failed")
    assert fields == {"id_token": form["id_token"], "state": form["state"]}
    assert html.unescape(action) == "/launch"
    done = requests.post(
        tool.url + "/launch",
        data={**fields, "browser_secret": put["value"]},
        allow_redirects=False,
        timeout=10,
    )
    assert lands_on(tool, done, "learner.home")


@pytest.mark.parametrize(
    ("extra", "reason"),
    [
        ({"browser_secret": "another-browsers-value"}, "browser-mismatch"),
        ({"storage_failed": "1"}, "platform-storage-failed"),
    ],
)
def test_wrong_or_missing_stored_value_is_refused(
    tool: Tool,
    moodle: MoodleLike,
    caplog: pytest.LogCaptureFixture,
    extra: dict[str, str],
    reason: str,
) -> None:
    caplog.set_level(logging.INFO, logger="capacity_lti.web")
    _, form = begin(tool, moodle)
    response = requests.post(
        tool.url + "/launch", data={**form, **extra}, allow_redirects=False, timeout=10
    )
    refused(response, 400, reason, caplog)
