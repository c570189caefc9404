"""Launches driven by an independent platform implementation: PyPI `lti1p3platform`.

Its OIDC login builds the initiation URL, its message launch validates our
authentication request (client id, redirect URI) and signs the id_token with its own key,
published here over real HTTP.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from cryptography.hazmat.primitives import serialization
from lti1p3platform.ltiplatform import LTI1P3PlatformConfAbstract
from lti1p3platform.message_launch import LTIAdvantageMessageLaunchAbstract
from lti1p3platform.oidc_login import OIDCLoginAbstract
from lti1p3platform.registration import Registration
from lti1p3platform.request import RequestBase

from capacity_lti.settings import Settings
from capacity_lti.storage.platforms import add_platform
from capacity_lti.web import create_app
from tests.keyset import KeysetServer
from tests.lti_launch.conftest import MODULE, Tool, lands_on, probe, serve, session_of
from tests.lti_launch.platforms import INSTRUCTOR, KEY, query_of

ISSUER = "https://lti1p3platform.example.org"
CLIENT = "lti1p3platform-client"
DEPLOYMENT = "deployment-1"


class Platform(LTI1P3PlatformConfAbstract):
    def init_platform_config(self, **kwargs: Any) -> None:
        self.tool_url: str = kwargs["tool_url"]

    def get_registration_by_params(self, **kwargs: Any) -> Registration:
        private = KEY.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        ).decode()
        public = (
            KEY.public_key()
            .public_bytes(
                serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
            )
            .decode()
        )
        return (
            Registration()
            .set_iss(ISSUER)
            .set_client_id(CLIENT)
            .set_deployment_id(DEPLOYMENT)
            .set_oidc_login_url(self.tool_url + "/lti/login")
            .set_launch_url(self.tool_url + "/launch")
            .set_deeplink_launch_url(self.tool_url + "/launch")
            .set_platform_private_key(private)
            .set_platform_public_key(public)
        )


class Login(OIDCLoginAbstract):
    def set_lti_message_hint(self, **kwargs: Any) -> None:
        self._lti_message_hint = kwargs["hint"]

    def get_redirect(self, url: str) -> str:
        return url


class Request(RequestBase):
    def __init__(self, query: dict[str, str]) -> None:
        self.request = {
            "method": "GET",
            "get_data": query,
            "form_data": {},
            "headers": {},
            "path": "/auth",
        }


class Launch(LTIAdvantageMessageLaunchAbstract):
    def render_launch_form(self, launch_data: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
        return launch_data


@pytest.fixture
def setup(tmp_path: Path, database_url: str) -> Iterator[tuple[Tool, Platform]]:
    app = create_app(Settings(instance_path=tmp_path / "instance", database_url=database_url))
    probe(app)
    tool = serve(app)
    platform = Platform(tool_url=tool.url)
    keyset = KeysetServer(platform.get_jwks()["keys"] if platform.get_registration() else [])
    with app.app_context():
        from capacity_lti.web.services import services

        add_platform(
            services().db,
            issuer=ISSUER,
            client_id=CLIENT,
            auth_login_url=ISSUER + "/auth",
            auth_token_url=ISSUER + "/token",
            key_set_url=keyset.url,
            deployment_ids=(DEPLOYMENT,),
        )
    yield tool, platform
    keyset.close()
    tool.server.shutdown()


def run(tool: Tool, platform: Platform, prepare: Any) -> requests.Response:
    """lti1p3platform's flow: preflight URL -> tool login -> launch form -> POST to the tool."""
    login = Login(None, platform)
    login.set_lti_message_hint(hint="resource-link-1")
    preflight = login.initiate_login("user-17")
    answer = requests.get(preflight, allow_redirects=False, timeout=10)
    assert answer.status_code == 302, answer.text
    assert answer.headers["Location"].startswith(ISSUER + "/auth?")
    message = Launch(Request(query_of(answer.headers["Location"])), platform)
    prepare(message)
    form = message.lti_launch()
    assert form["launch_url"] == tool.url + "/launch"
    return requests.post(
        form["launch_url"],
        data={"id_token": form["id_token"], "state": form["state"]},
        allow_redirects=False,
        timeout=10,
    )


def test_resource_link_launch(setup: tuple[Tool, Platform]) -> None:
    tool, platform = setup

    def prepare(message: Launch) -> None:
        message.set_user_data(
            "user-17", [INSTRUCTOR], full_name="Kim Berg", email_address="kim@example.org"
        )
        message.set_resource_link_claim("resource-link-1", title="Climate")
        message.set_launch_context_claim("course-5", context_title="Course five")
        message.set_launch_presentation_claim(document_target="iframe")
        message.set_custom_parameters_claim({"module": MODULE})
        message.set_ags(
            "https://lti1p3platform.example.org/lineitems?course=5",
            "https://lti1p3platform.example.org/lineitems/9?course=5",
        )

    result = run(tool, platform, prepare)
    assert lands_on(tool, result, "learner.module", module_id=MODULE)
    session = session_of(tool, result)
    assert session["instructor"] is True
    assert session["locale"] == "en"  # no locale sent: the programme's default


def test_deep_linking_launch(setup: tuple[Tool, Platform]) -> None:
    tool, platform = setup

    def prepare(message: Launch) -> None:
        message.set_user_data("user-17", [INSTRUCTOR])
        message.set_dl("https://lti1p3platform.example.org/deep-link-return", title="Pick")

    result = run(tool, platform, prepare)
    assert lands_on(tool, result, "deep_linking.choose")
    assert session_of(tool, result)["deep_linking"]["deep_link_return_url"] == (
        "https://lti1p3platform.example.org/deep-link-return"
    )
