"""Register by URL, then deep-link: the whole path an admin and a teacher take, over HTTP.

The fake Moodle's registration endpoint registers the tool; its configuration names the
login and keyset of a Moodle-signing platform (tests.lti_launch.platforms), which then
sends an LtiDeepLinkingRequest with the registered issuer, client id and deployment id
through the tool's OIDC login and /launch, which opens the picker.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from html import unescape
from urllib.parse import urlencode

import jwt
import pytest
import requests

from capacity_lti.storage.platforms import list_platforms
from tests.lti_launch.conftest import address_of
from tests.lti_launch.platforms import INSTRUCTOR, MoodleLike, read_form
from tests.registration.conftest import Tool
from tests.registration.moodle import FakeMoodle

DL = "https://purl.imsglobal.org/spec/lti-dl/claim/"


@pytest.fixture
def signer() -> Iterator[MoodleLike]:
    platform = MoodleLike()
    yield platform
    platform.close()


def test_register_then_place_a_module(tool: Tool, moodle: FakeMoodle, signer: MoodleLike) -> None:
    # One Moodle: the fake registration endpoint, with the signer's login and keys.
    moodle.configuration_overrides.update(
        authorization_endpoint=signer.auth_url,
        jwks_uri=signer.keyset_url,
        token_endpoint=signer.token_url,
    )
    # The admin pastes the URL: the tool registers with the LMS.
    query = urlencode(
        {
            "openid_configuration": moodle.configuration_url,
            "registration_token": moodle.registration_token(),
        }
    )
    assert requests.get(f"{tool.url}/lti/register?{query}", timeout=20).status_code == 200
    [record] = list_platforms(tool.db)
    assert (record.auth_login_url, record.key_set_url) == (signer.auth_url, signer.keyset_url)
    # A teacher adds the tool: the LMS launches with the registered issuer, client, deployment.
    signer.issuer = record.issuer
    signer.client_id = record.client_id
    signer.deployment_id = record.deployment_ids[0]
    signer.message_type = "LtiDeepLinkingRequest"
    signer.roles = [INSTRUCTOR]
    signer.tool_login = f"{tool.url}/lti/login"
    signer.redirect_uri = signer.target = f"{tool.url}/launch"

    browser = requests.Session()
    login = browser.post(signer.tool_login, data=signer.initiation(), timeout=20)
    action, fields = read_form(login.text)
    assert action == f"{tool.url}/launch"
    launched = browser.post(action, data=fields, allow_redirects=False, timeout=20)
    picker = browser.get(tool.url + address_of(launched), timeout=20)  # as a reload asks
    assert picker.status_code == 200
    assert 'value="lighting-beginner"' in launched.text
    assert 'value="lighting-beginner"' in picker.text
    token = re.search(r'name="s" value="([^"]+)"', picker.text)
    assert token
    answer = browser.post(
        f"{tool.url}/deep-linking",
        data={"s": unescape(token.group(1)), "item": "lighting-beginner"},
        timeout=20,
    )
    response_jwt = unescape(re.search(r'name="JWT" value="([^"]+)"', answer.text).group(1))  # type: ignore[union-attr]
    claims = jwt.decode(response_jwt, options={"verify_signature": False})
    assert claims["iss"] == record.client_id
    assert claims["aud"] == record.issuer
    assert claims["https://purl.imsglobal.org/spec/lti/claim/deployment_id"] == "1"
    assert claims[DL + "data"] == "eyJ0eXBlIjoiY29udGVudCJ9"
    assert [i["custom"] for i in claims[DL + "content_items"]] == [{"module": "lighting-beginner"}]
