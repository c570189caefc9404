"""Dynamic Registration through the tool's page: a fake Moodle 4.5 and the app, both over HTTP."""

from __future__ import annotations

import html
import json
import re
import urllib.error
import urllib.request
from dataclasses import replace
from urllib.parse import urlencode

import jwt
import pytest
from flask import url_for

from capacity_lti.lti.registration import TOOL_CONFIGURATION
from capacity_lti.storage.platforms import PlatformRecord, add_platform, list_platforms
from capacity_lti.web.services import EXTENSION
from tests.registration.conftest import Tool
from tests.registration.moodle import FakeMoodle


def get(url: str) -> tuple[int, str]:
    status, _, page = get_with_policy(url)
    return status, page


def get_with_policy(url: str) -> tuple[int, str, str]:
    try:
        with urllib.request.urlopen(url, timeout=20) as response:
            policy = response.headers.get("Content-Security-Policy", "")
            return response.status, policy, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.headers.get("Content-Security-Policy", ""), error.read().decode()


def text(page: str) -> str:
    """The page's visible text, tags dropped and whitespace collapsed."""
    body = page.split("<main", 1)[-1].partition(">")[2]
    words = " ".join(html.unescape(re.sub(r"<[^>]+>", " ", body)).split())
    return re.sub(r" ([.,;:)])", r"\1", words).replace("( ", "(")


def register_url(tool: Tool, moodle: FakeMoodle, token: str | None) -> str:
    query = {"openid_configuration": moodle.configuration_url}
    if token is not None:
        query["registration_token"] = token
    return f"{tool.url}/lti/register?{urlencode(query)}"


def test_registration_stores_the_platform_and_says_moodle_keeps_it_pending(
    tool: Tool, moodle: FakeMoodle
) -> None:
    token = moodle.registration_token()
    client_id = jwt.decode(token, options={"verify_signature": False})["sub"]
    status, policy, page = get_with_policy(register_url(tool, moodle, token))
    assert status == 200
    nonce = re.fullmatch(
        "default-src 'none'; script-src 'nonce-([^']+)'; style-src 'unsafe-inline'; "
        "base-uri 'none'; form-action 'none'",
        policy,
    )
    assert nonce
    assert f'<script nonce="{nonce.group(1)}">' in page
    [record] = list_platforms(tool.db)
    assert record == PlatformRecord(
        id=record.id,
        issuer=moodle.wwwroot,
        client_id=client_id,
        name=f"moodle 4.5.1 (Build: 20241209) at {moodle.wwwroot[7:]}",
        auth_login_url=moodle.url("auth.php"),
        auth_token_url=moodle.url("token.php"),
        key_set_url=moodle.url("certs.php"),
        auth_audience=None,
        status="active",
        deployment_ids=("1",),
    )
    shown = text(page)
    assert "Test programme is registered" in shown
    assert f"Client ID {client_id} Deployment ID 1" in shown
    assert (
        "Moodle adds the tool as pending. To make it available, go to Site administration > "
        "Plugins > Activity modules > External tool > Manage tools, find “Test programme” and "
        "click Activate." in shown
    )
    assert 'postMessage({subject: "org.imsglobal.lti.close"}, "*")' in page
    assert "(window.opener || window.parent)" in page


def test_a_platform_that_sends_no_deployment_id(tool: Tool, moodle: FakeMoodle) -> None:
    moodle.product = "sakai"
    status, page = get(register_url(tool, moodle, moodle.registration_token()))
    assert status == 200
    [record] = list_platforms(tool.db)
    assert record.deployment_ids == ()
    shown = text(page)
    assert "Deployment ID none yet: the tool records it on the first launch" in shown
    assert "If your LMS lists the tool as pending or disabled, enable it there." in shown
    assert "Moodle" not in shown


def test_without_a_deployment_id_an_allow_list_admin_is_told_what_to_do(
    tool: Tool, moodle: FakeMoodle, monkeypatch: pytest.MonkeyPatch
) -> None:
    found = tool.app.extensions[EXTENSION]
    strict = found.settings.model_copy(update={"deployment_policy": "allow-list"})
    monkeypatch.setitem(tool.app.extensions, EXTENSION, replace(found, settings=strict))
    moodle.product = "sakai"
    status, page = get(register_url(tool, moodle, moodle.registration_token()))
    assert status == 200
    assert (
        "Deployment ID none sent: under the allow-list policy launches are refused until the "
        "platform is added again with its deployment id (capacity-lti platform remove, then "
        "platform add --deployment)" in text(page)
    )


def test_the_tool_declares_its_own_fixed_urls(tool: Tool, moodle: FakeMoodle) -> None:
    get(register_url(tool, moodle, moodle.registration_token()))
    body = json.loads(moodle.requests[-1][3])
    assert body["initiate_login_uri"] == f"{tool.url}/lti/login"
    assert body["redirect_uris"] == [f"{tool.url}/launch"]
    with tool.app.test_request_context(base_url=tool.url):
        assert body["jwks_uri"] == url_for("lti.jwks", _external=True)
    assert body["client_name"] == "Test programme"
    assert body["logo_uri"] == f"{tool.url}/lti/logo.svg"
    with urllib.request.urlopen(body["logo_uri"], timeout=10) as response:
        assert response.headers["Content-Type"] == "image/svg+xml"
        assert response.read().startswith(b'<svg xmlns="http://www.w3.org/2000/svg"')
    assert body[TOOL_CONFIGURATION]["domain"] == tool.url[len("http://") :]
    assert [m["target_link_uri"] for m in body[TOOL_CONFIGURATION]["messages"]] == [
        f"{tool.url}/launch",
        f"{tool.url}/launch",
    ]
    # The JWKS the platform was given serves the tool's key.
    with urllib.request.urlopen(body["jwks_uri"], timeout=10) as response:
        assert [k["kty"] for k in json.load(response)["keys"]] == ["RSA"]


def test_each_registration_is_a_new_client_and_deployment(tool: Tool, moodle: FakeMoodle) -> None:
    for _ in range(2):
        assert get(register_url(tool, moodle, moodle.registration_token()))[0] == 200
    records = list_platforms(tool.db)
    assert [r.issuer for r in records] == [moodle.wwwroot, moodle.wwwroot]
    assert [r.deployment_ids for r in records] == [("1",), ("2",)]
    assert records[0].client_id != records[1].client_id


def test_a_refused_registration_shows_what_to_do(tool: Tool, moodle: FakeMoodle) -> None:
    token = moodle.registration_token()
    assert get(register_url(tool, moodle, token))[0] == 200
    status, page = get(register_url(tool, moodle, token))
    assert status == 400
    shown = text(page)
    assert (
        "The LMS refused the registration token (HTTP 401: 'token_already_used'). A "
        "registration token works once and expires (Moodle: after an hour). Start the "
        "registration again from the LMS." in shown
    )
    assert "Reason code for the tool's administrator: registration-failed" in shown
    assert len(list_platforms(tool.db)) == 1


def known(tool: Tool, moodle: FakeMoodle, deployment: str) -> None:
    add_platform(
        tool.db,
        issuer=moodle.wwwroot,
        client_id="KnownClient01",
        auth_login_url=moodle.url("auth.php"),
        auth_token_url=moodle.url("token.php"),
        key_set_url=moodle.url("certs.php"),
        deployment_ids=(deployment,),
    )


def test_a_repeated_registration_with_the_same_details_changes_nothing(
    tool: Tool, moodle: FakeMoodle
) -> None:
    known(tool, moodle, "1")  # the deployment id this registration gets
    before = list_platforms(tool.db)
    status, page = get(
        register_url(tool, moodle, moodle.registration_token(client_id="KnownClient01"))
    )
    assert status == 200
    assert (
        "Test programme is already registered moodle 4.5.1 (Build: 20241209) "
        f"({moodle.wwwroot}) repeated a registration the tool already has, with the same client "
        "ID, deployment and addresses; nothing needed to change." in text(page)
    )
    assert list_platforms(tool.db) == before


def test_the_same_issuer_and_client_id_with_other_details_is_refused(
    tool: Tool, moodle: FakeMoodle
) -> None:
    known(tool, moodle, "9")
    status, page = get(
        register_url(tool, moodle, moodle.registration_token(client_id="KnownClient01"))
    )
    assert status == 409
    assert (
        f"This registration (issuer {moodle.wwwroot}, client id KnownClient01) is already known "
        "to the tool with other details (login, token or keyset URL, or deployment id); nothing "
        "was changed. To replace it, remove it with 'capacity-lti platform remove --issuer "
        f"{moodle.wwwroot} --client-id KnownClient01' and register again." in text(page)
    )
    [record] = list_platforms(tool.db)
    assert record.deployment_ids == ("9",)


def test_opening_the_page_by_hand_explains_where_to_paste_it(tool: Tool) -> None:
    status, page = get(f"{tool.url}/lti/register")
    assert status == 400
    assert (
        "In Moodle, go to Site administration > Plugins > Activity modules > External tool > "
        f"Manage tools, paste {tool.url}/lti/register into 'Tool URL' and click 'Add LTI "
        "Advantage'." in text(page)
    )


def test_an_https_only_tool_refuses_an_http_lms(
    tool: Tool, moodle: FakeMoodle, monkeypatch: pytest.MonkeyPatch
) -> None:
    found = tool.app.extensions[EXTENSION]
    strict = found.settings.model_copy(update={"registration_allow_http": False})
    monkeypatch.setitem(tool.app.extensions, EXTENSION, replace(found, settings=strict))
    status, page = get(register_url(tool, moodle, moodle.registration_token()))
    assert status == 400
    assert "must be an absolute https:// URL (plain http:// is accepted only in test setups)" in (
        text(page)
    )
    assert moodle.requests == []
