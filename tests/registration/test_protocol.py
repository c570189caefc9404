"""Dynamic Registration, protocol level: lti.registration against a fake Moodle 4.5 over HTTP."""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import jwt
import pytest

from capacity_lti.errors import ConfigError
from capacity_lti.lti.registration import (
    SCOPES,
    TOOL_CONFIGURATION,
    PlatformConfiguration,
    ToolDescription,
    parse_platform_configuration,
    parse_registration_response,
    register,
    registration_request,
)
from capacity_lti.web.registration import UrllibTransport
from tests.registration.moodle import FakeMoodle

TOOL = ToolDescription(
    name="Climate action",
    description="Capacity building for councils",
    login_url="https://tool.example.org/lti/login",
    launch_url="https://tool.example.org/launch",
    jwks_url="https://tool.example.org/.well-known/jwks.json",
)
AGS = "https://purl.imsglobal.org/spec/lti-ags/scope/"
NRPS = "https://purl.imsglobal.org/spec/lti-nrps/scope/contextmembership.readonly"
AGAIN = "Start the registration again from the LMS."


def run(moodle: FakeMoodle, token: str | None) -> object:
    return register(moodle.configuration_url, token, TOOL, UrllibTransport(), allow_http=True)


def test_registers_with_moodle_and_reads_client_and_deployment(moodle: FakeMoodle) -> None:
    token = moodle.registration_token()
    client_id = jwt.decode(token, options={"verify_signature": False})["sub"]
    registration = run(moodle, token)
    assert registration == parse_registration_response(
        {
            "client_id": client_id,
            "scope": " ".join(SCOPES),
            TOOL_CONFIGURATION: {"deployment_id": "1"},
        },
        registration.platform,  # type: ignore[attr-defined]
    )
    assert registration.platform == PlatformConfiguration(  # type: ignore[attr-defined]
        issuer=moodle.wwwroot,
        authorization_endpoint=moodle.url("auth.php"),
        token_endpoint=moodle.url("token.php"),
        jwks_uri=moodle.url("certs.php"),
        registration_endpoint=moodle.url("openid-registration.php"),
        product_family_code="moodle",
        version="4.5.1 (Build: 20241209)",
        messages_supported=("LtiResourceLinkRequest", "LtiDeepLinkingRequest"),
    )
    assert registration.scopes == (  # type: ignore[attr-defined]
        AGS + "lineitem",
        AGS + "lineitem.readonly",
        AGS + "result.readonly",
        AGS + "score",
        NRPS,
    )
    # Moodle keeps the tool pending, with deep linking switched on by the declared message.
    [tool_type] = moodle.types
    assert (tool_type.client_id, tool_type.state) == (client_id, "pending")


def test_the_request_moodle_received(moodle: FakeMoodle) -> None:
    token = moodle.registration_token()
    run(moodle, token)
    [(_, _, get_headers, _), (method, path, headers, body)] = moodle.requests
    assert get_headers["Accept"] == "application/json"
    assert get_headers["Authorization"] == f"Bearer {token}"  # as Canvas requires
    assert (method, path) == ("POST", "/mod/lti/openid-registration.php")
    assert headers["Authorization"] == f"Bearer {token}"
    assert headers["Content-Type"] == "application/json"
    assert json.loads(body) == {
        "application_type": "web",
        "response_types": ["id_token"],
        "grant_types": ["implicit", "client_credentials"],
        "initiate_login_uri": "https://tool.example.org/lti/login",
        "redirect_uris": ["https://tool.example.org/launch"],
        "client_name": "Climate action",
        "jwks_uri": "https://tool.example.org/.well-known/jwks.json",
        "token_endpoint_auth_method": "private_key_jwt",
        "scope": f"{AGS}lineitem {AGS}lineitem.readonly {AGS}result.readonly {AGS}score {NRPS}",
        TOOL_CONFIGURATION: {
            "domain": "tool.example.org",
            "description": "Capacity building for councils",
            "target_link_uri": "https://tool.example.org/launch",
            "claims": ["iss", "sub", "name", "given_name", "family_name", "email"],
            "messages": [
                {
                    "type": "LtiResourceLinkRequest",
                    "target_link_uri": "https://tool.example.org/launch",
                    "label": "Climate action",
                },
                {
                    "type": "LtiDeepLinkingRequest",
                    "target_link_uri": "https://tool.example.org/launch",
                    "label": "Add Climate action modules",
                    "placements": ["ContentArea"],
                    "supported_types": ["ltiResourceLink"],
                },
            ],
        },
    }


def test_a_used_token_is_refused_with_moodles_reason(moodle: FakeMoodle) -> None:
    token = moodle.registration_token()
    run(moodle, token)
    with pytest.raises(ConfigError) as caught:
        run(moodle, token)
    assert str(caught.value) == (
        "the LMS refused the registration token (HTTP 401: 'token_already_used'). A "
        "registration token works once and expires (Moodle: after an hour). " + AGAIN
    )
    assert len(moodle.types) == 1


def test_no_token_is_refused(moodle: FakeMoodle) -> None:
    with pytest.raises(ConfigError) as caught:
        run(moodle, None)
    assert "(HTTP 401: 'missing_registration_token')" in str(caught.value)
    assert "Authorization" not in moodle.requests[-1][2]


def test_an_expired_token_gets_moodles_error_page(moodle: FakeMoodle) -> None:
    with pytest.raises(ConfigError) as caught:
        run(moodle, moodle.registration_token(expired=True))
    assert str(caught.value) == (
        f"{moodle.url('openid-registration.php')} answered the registration with HTTP 404 "
        f"(an HTML error page). {AGAIN}"
    )
    assert moodle.types == []


def test_an_issuer_on_another_site_is_refused(moodle: FakeMoodle) -> None:
    moodle.configuration_overrides["issuer"] = "https://moodle.example.org"
    with pytest.raises(ConfigError) as caught:
        run(moodle, moodle.registration_token())
    assert str(caught.value) == (
        f"the LMS's configuration at {moodle.configuration_url} names the issuer "
        "'https://moodle.example.org', which is not on the site the configuration came from; "
        "LTI Dynamic Registration requires them to match, so the tool refuses it. Check the "
        "LMS's site address (Moodle: $CFG->wwwroot in config.php) is the address it is "
        "reached at."
    )
    assert [r[0] for r in moodle.requests] == ["GET"]  # nothing was registered


def test_moodle_in_a_subfolder_is_the_same_site(moodle: FakeMoodle) -> None:
    document = {**moodle.configuration(), "issuer": moodle.wwwroot + "/moodle"}
    platform = parse_platform_configuration(document, moodle.configuration_url, allow_http=True)
    assert platform.issuer == moodle.wwwroot + "/moodle"


@pytest.mark.parametrize(
    "name", ["authorization_endpoint", "token_endpoint", "jwks_uri", "registration_endpoint"]
)
def test_each_endpoint_is_required(moodle: FakeMoodle, name: str) -> None:
    moodle.configuration_overrides[name] = None
    with pytest.raises(ConfigError) as caught:
        run(moodle, moodle.registration_token())
    assert str(caught.value) == (
        f"the {name} in the LMS's configuration at {moodle.configuration_url} is missing. {AGAIN}"
    )


def test_an_endpoint_that_is_not_a_url_is_refused(moodle: FakeMoodle) -> None:
    moodle.configuration_overrides["token_endpoint"] = "/mod/lti/token.php"
    with pytest.raises(ConfigError) as caught:
        run(moodle, moodle.registration_token())
    assert str(caught.value) == (
        f"the token_endpoint in the LMS's configuration at {moodle.configuration_url} "
        "'/mod/lti/token.php' must be an absolute https:// URL."
    )


def test_the_platform_configuration_claim_is_required(moodle: FakeMoodle) -> None:
    moodle.configuration_overrides["https://purl.imsglobal.org/spec/lti-platform-configuration"] = (
        None
    )
    with pytest.raises(ConfigError) as caught:
        run(moodle, moodle.registration_token())
    assert "lacks the https://purl.imsglobal.org/spec/lti-platform-configuration claim" in str(
        caught.value
    )


def test_a_platform_without_private_key_jwt_is_refused(moodle: FakeMoodle) -> None:
    moodle.configuration_overrides["token_endpoint_auth_methods_supported"] = [
        "client_secret_basic"
    ]
    with pytest.raises(ConfigError) as caught:
        run(moodle, moodle.registration_token())
    assert (
        "does not offer private_key_jwt in token_endpoint_auth_methods_supported; the tool needs it."
        in str(caught.value)
    )


def test_plain_http_is_refused_outside_test_setups(moodle: FakeMoodle) -> None:
    with pytest.raises(ConfigError) as caught:
        register(moodle.configuration_url, "t", TOOL, UrllibTransport())
    assert str(caught.value) == (
        f"the openid_configuration URL {moodle.configuration_url!r} must be an absolute https:// "
        "URL (plain http:// is accepted only in test setups)."
    )
    assert moodle.requests == []


def test_a_file_url_is_never_fetched() -> None:
    with pytest.raises(ConfigError) as caught:
        register("file:///etc/passwd", "t", TOOL, UrllibTransport(), allow_http=True)
    assert str(caught.value) == (
        "the openid_configuration URL 'file:///etc/passwd' must be an absolute https:// URL."
    )


def test_an_unreachable_lms_is_named() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    url = f"http://127.0.0.1:{port}/mod/lti/openid-configuration.php"
    with pytest.raises(ConfigError) as caught:
        register(url, "t", TOOL, UrllibTransport(), allow_http=True)
    assert str(caught.value).startswith(f"the tool could not reach {url} (")
    assert str(caught.value).endswith(
        "The LMS and the tool must reach each other over the network: check the address, "
        "firewall, proxy and TLS certificate, then start the registration again."
    )


class _Odd:
    """An HTTP server answering every request with one fixed response."""

    def __init__(self, status: int, headers: dict[str, str], body: bytes) -> None:
        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                self.send_response(status)
                for k, v in headers.items():
                    self.send_header(k, v)
                if "Content-Length" not in headers:
                    self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/openid-configuration"
        threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True).start()


@pytest.fixture
def odd() -> Iterator[list[_Odd]]:
    made: list[_Odd] = []
    yield made
    for server in made:
        server.server.shutdown()
        server.server.server_close()


def test_a_redirect_is_not_followed(odd: list[_Odd]) -> None:
    odd.append(_Odd(302, {"Location": "http://169.254.169.254/latest/meta-data"}, b""))
    with pytest.raises(ConfigError) as caught:
        register(odd[0].url, "t", TOOL, UrllibTransport(), allow_http=True)
    assert str(caught.value) == (
        f"{odd[0].url} answered the configuration request with a redirect (HTTP 302); the tool "
        "does not follow redirects while registering. Check the LMS's site address is the one "
        "it is reached at."
    )


def test_a_page_that_is_not_json_is_named(odd: list[_Odd]) -> None:
    odd.append(_Odd(200, {"Content-Type": "text/html"}, b"<html>login</html>"))
    with pytest.raises(ConfigError) as caught:
        register(odd[0].url, "t", TOOL, UrllibTransport(), allow_http=True)
    assert str(caught.value) == (
        f"{odd[0].url} answered the configuration request with something that is not JSON "
        "(an HTML error page). Check the URL the LMS gave."
    )


def test_an_oversized_answer_is_refused(odd: list[_Odd]) -> None:
    odd.append(_Odd(200, {"Content-Type": "application/json"}, b" " * 1_000_001))
    with pytest.raises(ConfigError) as caught:
        register(odd[0].url, "t", TOOL, UrllibTransport(), allow_http=True)
    assert str(caught.value) == (
        "the LMS's answer is larger than 1000000 bytes; it cannot be a registration answer."
    )


def test_a_cut_short_answer_is_named(odd: list[_Odd]) -> None:
    odd.append(_Odd(200, {"Content-Type": "application/json", "Content-Length": "100"}, b"{"))
    with pytest.raises(ConfigError) as caught:
        register(odd[0].url, "t", TOOL, UrllibTransport(), allow_http=True)
    assert str(caught.value) == (
        f"{odd[0].url} answered the configuration request with something that is not JSON "
        "('{'). Check the URL the LMS gave."
    )


def test_a_server_that_does_not_speak_http_is_named() -> None:
    listener = socket.create_server(("127.0.0.1", 0))

    def answer() -> None:
        connection, _ = listener.accept()
        with connection:
            connection.recv(65536)
            connection.sendall(b"SSH-2.0-OpenSSH_9.2\r\n")

    thread = threading.Thread(target=answer, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{listener.getsockname()[1]}/mod/lti/openid-configuration.php"
    try:
        with pytest.raises(ConfigError) as caught:
            register(url, "t", TOOL, UrllibTransport(), allow_http=True)
    finally:
        thread.join(5)
        listener.close()
    assert str(caught.value).startswith(f"the tool could not reach {url} (")


# --- pure parts ------------------------------------------------------------------


def test_messages_supported_as_objects_are_read(moodle: FakeMoodle) -> None:
    document = moodle.configuration()
    document["https://purl.imsglobal.org/spec/lti-platform-configuration"]["messages_supported"] = [
        {"type": "LtiResourceLinkRequest"},
        {"type": "LtiDeepLinkingRequest", "placements": ["ContentArea"]},
    ]
    platform = parse_platform_configuration(document, moodle.configuration_url, allow_http=True)
    assert platform.messages_supported == ("LtiResourceLinkRequest", "LtiDeepLinkingRequest")
    assert platform.supports_deep_linking


def test_a_platform_without_deep_linking_says_so(moodle: FakeMoodle) -> None:
    document = moodle.configuration()
    document["https://purl.imsglobal.org/spec/lti-platform-configuration"]["messages_supported"] = [
        "LtiResourceLinkRequest"
    ]
    platform = parse_platform_configuration(document, moodle.configuration_url, allow_http=True)
    assert not platform.supports_deep_linking


def test_canvas_is_asked_for_public_privacy(moodle: FakeMoodle) -> None:
    document = moodle.configuration()
    document["https://purl.imsglobal.org/spec/lti-platform-configuration"][
        "product_family_code"
    ] = "canvas"
    platform = parse_platform_configuration(document, moodle.configuration_url, allow_http=True)
    request = registration_request(TOOL, platform)
    assert request[TOOL_CONFIGURATION]["https://canvas.instructure.com/lti/privacy_level"] == (
        "public"
    )
    moodle_request = registration_request(
        TOOL,
        parse_platform_configuration(
            moodle.configuration(), moodle.configuration_url, allow_http=True
        ),
    )
    assert (
        "https://canvas.instructure.com/lti/privacy_level" not in moodle_request[TOOL_CONFIGURATION]
    )


def test_a_logo_is_declared_when_given(moodle: FakeMoodle) -> None:
    platform = parse_platform_configuration(
        moodle.configuration(), moodle.configuration_url, allow_http=True
    )
    request = registration_request(
        ToolDescription(**{**TOOL.__dict__, "logo_url": "https://tool.example.org/logo.png"}),
        platform,
    )
    assert request["logo_uri"] == "https://tool.example.org/logo.png"
    assert "logo_uri" not in registration_request(TOOL, platform)


@pytest.mark.parametrize(
    ("answer", "client_id", "deployment_id"),
    [
        ({"client_id": 10000000000042}, "10000000000042", None),  # Canvas: numeric, no deployment
        ({"client_id": "abc", TOOL_CONFIGURATION: {"deployment_id": 7}}, "abc", "7"),
    ],
)
def test_registration_answers_of_other_shapes(
    moodle: FakeMoodle, answer: dict[str, object], client_id: str, deployment_id: str | None
) -> None:
    platform = parse_platform_configuration(
        moodle.configuration(), moodle.configuration_url, allow_http=True
    )
    registration = parse_registration_response(answer, platform)
    assert (registration.client_id, registration.deployment_id, registration.scopes) == (
        client_id,
        deployment_id,
        (),
    )


def test_ids_longer_than_the_tool_stores_are_refused(moodle: FakeMoodle) -> None:
    platform = parse_platform_configuration(
        moodle.configuration(), moodle.configuration_url, allow_http=True
    )
    answer = {"client_id": "c", TOOL_CONFIGURATION: {"deployment_id": "9" * 256}}
    with pytest.raises(ConfigError) as caught:
        parse_registration_response(answer, platform)
    assert str(caught.value) == (
        "the LMS's deployment_id is longer than 255 characters, more than the tool can store."
    )
    long_issuer = {**moodle.configuration(), "issuer": moodle.wwwroot + "/" + "m" * 250}
    with pytest.raises(ConfigError) as caught:
        parse_platform_configuration(long_issuer, moodle.configuration_url, allow_http=True)
    assert str(caught.value).endswith("is longer than 255 characters.")


@pytest.mark.parametrize("answer", [{}, {"client_id": ""}, {"client_id": True}, []])
def test_an_answer_without_client_id_is_refused(moodle: FakeMoodle, answer: object) -> None:
    platform = parse_platform_configuration(
        moodle.configuration(), moodle.configuration_url, allow_http=True
    )
    with pytest.raises(ConfigError):
        parse_registration_response(answer, platform)
