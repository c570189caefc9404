"""Canvas's developer-key JSON: its exact shape, served over HTTP, and the same tool that
`capacity-lti serve` prints and Dynamic Registration declares."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
import requests

from capacity_lti.cli.serve_commands import tool_urls
from capacity_lti.lti.canvas import developer_key_configuration
from capacity_lti.lti.registration import TOOL_CONFIGURATION, ToolDescription
from capacity_lti.storage.platforms import add_platform
from tests.canvas.conftest import Serve
from tests.registration.moodle import FakeMoodle

AGS = "https://purl.imsglobal.org/spec/lti-ags/scope/"
SCOPES = [
    AGS + "lineitem",
    AGS + "lineitem.readonly",
    AGS + "result.readonly",
    AGS + "score",
    "https://purl.imsglobal.org/spec/lti-nrps/scope/contextmembership.readonly",
]
CANVAS_LOGIN = "https://sso.canvaslms.com/api/lti/authorize_redirect"


def expected(base: str, *, title: str, description: str) -> dict[str, Any]:
    launch = base + "/launch"
    return {
        "title": title,
        "description": description,
        "oidc_initiation_url": base + "/lti/login",
        "target_link_uri": launch,
        "public_jwk_url": base + "/lti/jwks",  # url_for("lti.jwks"), as registration declares
        "scopes": SCOPES,
        "extensions": [
            {
                "platform": "canvas.instructure.com",
                "domain": urlsplit(base).netloc,
                "privacy_level": "public",
                "settings": {
                    "text": title,
                    "placements": [
                        {
                            "placement": "link_selection",
                            "message_type": "LtiDeepLinkingRequest",
                            "target_link_uri": launch,
                        },
                        {
                            "placement": "assignment_selection",
                            "message_type": "LtiDeepLinkingRequest",
                            "target_link_uri": launch,
                        },
                        {
                            "placement": "course_navigation",
                            "message_type": "LtiResourceLinkRequest",
                            "target_link_uri": launch,
                            "default": "disabled",
                        },
                    ],
                    "icon_url": base + "/lti/logo.svg",
                },
            }
        ],
    }


def test_the_configuration_has_canvas_s_shape() -> None:
    base = "https://tool.example.org"
    tool = ToolDescription(
        name="Climate action",
        description="Municipal energy training",
        login_url=base + "/lti/login",
        launch_url=base + "/launch",
        jwks_url=base + "/lti/jwks",
        logo_url=base + "/lti/logo.svg",
    )
    assert developer_key_configuration(tool) == expected(
        base, title="Climate action", description="Municipal energy training"
    )
    # Canvas requires a description; without a logo there is no icon.
    bare = developer_key_configuration(ToolDescription("T", "", "l", "https://x.org/launch", "j"))
    assert bare["description"] == "T"
    assert "icon_url" not in bare["extensions"][0]["settings"]


def test_served_json_is_what_serve_prints(serve: Serve) -> None:
    tool = serve()
    response = requests.get(tool.url + "/lti/canvas.json", timeout=10)
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/json"
    assert response.headers["Cache-Control"] == "no-cache"
    assert response.text.startswith('{\n  "title": "Test programme",\n')  # indented for pasting
    document = response.json()
    # The fixture programme has no description, so its title stands in.
    assert document == expected(tool.url, title="Test programme", description="Test programme")
    printed = dict(tool_urls(tool.url))
    assert printed["Canvas developer-key JSON URL"] == tool.url + "/lti/canvas.json"
    assert document["oidc_initiation_url"] == printed["Login (initiation) URL"]
    assert document["target_link_uri"] == printed["Launch / redirect URL"]
    placements = document["extensions"][0]["settings"]["placements"]
    assert {p["target_link_uri"] for p in placements} == {printed["Deep-linking URL"]}
    # serve prints the keyset's other address; both serve the same keys.
    keys = requests.get(document["public_jwk_url"], timeout=10).json()["keys"]
    assert [k["alg"] for k in keys] == ["RS256"]
    assert requests.get(printed["Public keyset (JWKS) URL"], timeout=10).json()["keys"] == keys
    logo = requests.get(document["extensions"][0]["settings"]["icon_url"], timeout=10)
    assert logo.headers["Content-Type"] == "image/svg+xml"


def test_public_url_moves_every_url_and_matches_the_login_s_redirect_uri(serve: Serve) -> None:
    public = "https://tool.example.org"
    tool = serve(public_url=public)
    document = requests.get(tool.url + "/lti/canvas.json", timeout=10).json()
    assert document == expected(public, title="Test programme", description="Test programme")
    printed = dict(tool_urls(public))  # what `capacity-lti serve --public-url` prints
    assert document["oidc_initiation_url"] == printed["Login (initiation) URL"]
    assert document["target_link_uri"] == printed["Launch / redirect URL"]
    # Canvas checks the login's redirect_uri against the key's redirect URIs, which
    # "Paste JSON" fills from target_link_uri: they must be the same bytes.
    add_platform(
        tool.db,
        issuer="https://canvas.instructure.com",
        client_id="10000000000042",
        auth_login_url=CANVAS_LOGIN,
        auth_token_url="https://sso.canvaslms.com/login/oauth2/token",
        key_set_url="https://sso.canvaslms.com/api/lti/security/jwks",
    )
    login = {
        "iss": "https://canvas.instructure.com",
        "login_hint": "535fa085f22b4655f48cd5a36a9215f64c062838",
        "target_link_uri": document["target_link_uri"],
        "client_id": "10000000000042",
        "lti_message_hint": "eyJ0eXAi",
    }
    response = requests.get(
        f"{tool.url}/lti/login?{urlencode(login)}", allow_redirects=False, timeout=10
    )
    assert response.status_code == 302
    location = urlsplit(response.headers["Location"])
    assert f"{location.scheme}://{location.netloc}{location.path}" == CANVAS_LOGIN
    assert parse_qs(location.query)["redirect_uri"] == [document["target_link_uri"]]


@pytest.mark.parametrize("public_url", [None, "https://tool.example.org"])
def test_the_json_declares_what_dynamic_registration_declares(
    serve: Serve, public_url: str | None
) -> None:
    tool = serve(public_url=public_url)
    platform = FakeMoodle(product="canvas")  # a platform whose configuration says "canvas"
    try:
        query = {
            "openid_configuration": platform.configuration_url,
            "registration_token": platform.registration_token(),
        }
        page = requests.get(f"{tool.url}/lti/register?{urlencode(query)}", timeout=20)
        assert page.status_code == 200, page.text
        [registered] = platform.types
        sent = registered.payload
    finally:
        platform.close()
    document = requests.get(tool.url + "/lti/canvas.json", timeout=10).json()
    extension = document["extensions"][0]
    configuration = sent[TOOL_CONFIGURATION]
    base = public_url or tool.url
    assert sent["initiate_login_uri"] == base + "/lti/login"
    assert sent["redirect_uris"] == [base + "/launch"]
    assert document["title"] == sent["client_name"]
    assert document["oidc_initiation_url"] == sent["initiate_login_uri"]
    assert [document["target_link_uri"]] == sent["redirect_uris"]
    assert document["target_link_uri"] == configuration["target_link_uri"]
    assert document["public_jwk_url"] == sent["jwks_uri"]
    assert document["scopes"] == sent["scope"].split()
    assert extension["domain"] == configuration["domain"]
    assert extension["settings"]["icon_url"] == sent["logo_uri"]
    privacy = configuration["https://canvas.instructure.com/lti/privacy_level"]
    assert extension["privacy_level"] == privacy
    declared = {(m["type"], m["target_link_uri"]) for m in configuration["messages"]}
    placed = {
        (p["message_type"], p["target_link_uri"]) for p in extension["settings"]["placements"]
    }
    assert placed == declared
