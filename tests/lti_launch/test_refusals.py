"""Every refused launch is a 4xx page naming its reason, plus a log line with that reason."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import jwt
import pytest
import requests
from cryptography.hazmat.primitives import serialization
from sqlalchemy import update

from capacity_lti.lti.idtoken import LTI
from capacity_lti.storage.tables import PendingLogin
from tests.lti_launch.conftest import Tool, lands_on, launch, make_tool
from tests.lti_launch.platforms import KEY, OTHER_KEY, MoodleLike, query_of, read_form


def refused(
    response: requests.Response, status: int, reason: str, caplog: pytest.LogCaptureFixture
) -> None:
    assert response.status_code == status, response.text
    assert f"<code>{reason}</code>" in response.text
    assert f"refused reason={reason} status={status}" in caplog.text


@pytest.fixture(autouse=True)
def _log(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="capacity_lti.web")


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def hs256_with_public_key(moodle: MoodleLike) -> Callable[[dict[str, Any]], str]:
    """The classic key-confusion forgery: HMAC keyed with the platform's public key PEM."""
    pem = KEY.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )

    def sign(claims: dict[str, Any]) -> str:
        head = _b64(json.dumps({"alg": "HS256", "typ": "JWT", "kid": moodle.kid}).encode())
        body = _b64(json.dumps(claims).encode())
        mac = hmac.new(pem, f"{head}.{body}".encode(), hashlib.sha256).digest()
        return f"{head}.{body}.{_b64(mac)}"

    return sign


def _set(key: str, value: Any) -> Callable[[dict[str, Any]], None]:
    def tamper(claims: dict[str, Any]) -> None:
        claims[key] = value

    return tamper


def _drop(key: str) -> Callable[[dict[str, Any]], None]:
    return lambda claims: claims.pop(key)  # type: ignore[func-returns-value]


TOKEN_CASES: list[tuple[str, str, Callable[[MoodleLike], None]]] = [
    ("wrong-aud", "wrong-aud", lambda m: setattr(m, "tamper", _set("aud", "another-tool"))),
    (
        "aud-list-without-azp",
        "no-azp",
        lambda m: setattr(m, "tamper", _set("aud", [m.client_id, "another-tool"])),
    ),
    (
        "wrong-azp",
        "wrong-azp",
        lambda m: setattr(m, "tamper", lambda c: c.update(aud=[m.client_id, "x"], azp="x")),
    ),
    (
        "unknown-issuer",
        "unknown-issuer",
        lambda m: setattr(m, "tamper", _set("iss", "https://evil.example.org")),
    ),
    (
        "alg-none",
        "alg-not-allowed",
        lambda m: setattr(m, "sign", lambda c: jwt.encode(c, None, algorithm="none")),
    ),
    ("hs256-public-key", "alg-not-allowed", lambda m: setattr(m, "sign", hs256_with_public_key(m))),
    (
        "expired",
        "expired",
        lambda m: setattr(
            m, "tamper", lambda c: c.update(iat=int(time.time()) - 600, exp=int(time.time()) - 120)
        ),
    ),
    ("no-exp", "no-exp", lambda m: setattr(m, "tamper", _drop("exp"))),
    (
        "no-kid",
        "no-kid",
        lambda m: setattr(m, "sign", lambda c: jwt.encode(c, KEY, algorithm="RS256")),
    ),
    (
        "wrong-kid",
        "unknown-kid",
        lambda m: setattr(
            m,
            "sign",
            lambda c: jwt.encode(c, OTHER_KEY, algorithm="RS256", headers={"kid": "not-published"}),
        ),
    ),
    (
        "bad-signature",
        "bad-signature",
        lambda m: setattr(
            m, "sign", lambda c: jwt.encode(c, OTHER_KEY, algorithm="RS256", headers={"kid": m.kid})
        ),
    ),
    (
        "wrong-lti-version",
        "wrong-lti-version",
        lambda m: setattr(m, "tamper", _set(LTI + "version", "1.2.0")),
    ),
    (
        "no-message-type",
        "no-message-type",
        lambda m: setattr(m, "tamper", _drop(LTI + "message_type")),
    ),
    ("no-roles", "no-roles", lambda m: setattr(m, "tamper", _drop(LTI + "roles"))),
    (
        "no-deployment-id",
        "no-deployment-id",
        lambda m: setattr(m, "tamper", _drop(LTI + "deployment_id")),
    ),
    (
        "no-resource-link-id",
        "no-resource-link-id",
        lambda m: setattr(m, "tamper", _drop(LTI + "resource_link")),
    ),
    ("no-sub", "no-sub", lambda m: setattr(m, "tamper", _drop("sub"))),
]


@pytest.mark.parametrize(
    ("case", "reason", "arrange"), TOKEN_CASES, ids=[c[0] for c in TOKEN_CASES]
)
def test_bad_tokens_are_refused(
    tool: Tool,
    moodle: MoodleLike,
    caplog: pytest.LogCaptureFixture,
    case: str,
    reason: str,
    arrange: Callable[[MoodleLike], None],
) -> None:
    arrange(moodle)
    refused(launch(tool, moodle).result, 400, reason, caplog)


def test_not_a_jwt(tool: Tool, moodle: MoodleLike, caplog: pytest.LogCaptureFixture) -> None:
    moodle.sign = lambda claims: "not.a.jwt"
    refused(launch(tool, moodle).result, 400, "not-a-jwt", caplog)


def test_replayed_launch_is_refused(
    tool: Tool, moodle: MoodleLike, caplog: pytest.LogCaptureFixture
) -> None:
    first = launch(tool, moodle)
    assert lands_on(tool, first.result, "learner.home")
    again = requests.post(tool.url + "/launch", data=first.form, allow_redirects=False, timeout=10)
    refused(again, 400, "state-replayed", caplog)


def test_replayed_nonce_under_a_fresh_state_is_refused(
    tool: Tool, moodle: MoodleLike, caplog: pytest.LogCaptureFixture
) -> None:
    first = launch(tool, moodle)
    assert lands_on(tool, first.result, "learner.home")
    login = requests.post(
        tool.url + "/lti/login", data=moodle.initiation(), allow_redirects=False, timeout=10
    )
    fresh_state = query_of(login.headers["Location"])["state"]
    replay = requests.post(
        tool.url + "/launch",
        data={"id_token": first.form["id_token"], "state": fresh_state},
        allow_redirects=False,
        timeout=10,
    )
    refused(replay, 400, "nonce-replayed", caplog)


def test_token_of_another_login_is_refused(
    tool: Tool, moodle: MoodleLike, caplog: pytest.LogCaptureFixture
) -> None:
    a = requests.post(
        tool.url + "/lti/login", data=moodle.initiation(), allow_redirects=False, timeout=10
    )
    b = requests.post(
        tool.url + "/lti/login", data=moodle.initiation(), allow_redirects=False, timeout=10
    )
    _, form_a = read_form(requests.get(a.headers["Location"], timeout=10).text)
    state_b = query_of(b.headers["Location"])["state"]
    response = requests.post(
        tool.url + "/launch",
        data={"id_token": form_a["id_token"], "state": state_b},
        allow_redirects=False,
        timeout=10,
    )
    refused(response, 400, "nonce-mismatch", caplog)


def test_unknown_state_is_refused(
    tool: Tool, moodle: MoodleLike, caplog: pytest.LogCaptureFixture
) -> None:
    done = launch(tool, moodle)
    forged = {**done.form, "state": "made-up-state"}
    refused(
        requests.post(tool.url + "/launch", data=forged, timeout=10), 400, "state-unknown", caplog
    )


def test_expired_state_is_refused(
    tool: Tool, moodle: MoodleLike, caplog: pytest.LogCaptureFixture
) -> None:
    login = requests.post(
        tool.url + "/lti/login", data=moodle.initiation(), allow_redirects=False, timeout=10
    )
    _, form = read_form(requests.get(login.headers["Location"], timeout=10).text)
    with tool.db().session() as db:
        db.execute(update(PendingLogin).values(expires_at=datetime.now(UTC) - timedelta(seconds=1)))
    refused(
        requests.post(tool.url + "/launch", data=form, timeout=10), 400, "state-expired", caplog
    )


def test_missing_state_and_token(
    tool: Tool, moodle: MoodleLike, caplog: pytest.LogCaptureFixture
) -> None:
    refused(
        requests.post(tool.url + "/launch", data={"state": "x"}, timeout=10),
        400,
        "no-id-token",
        caplog,
    )
    refused(
        requests.post(tool.url + "/launch", data={"id_token": "x"}, timeout=10),
        400,
        "no-state",
        caplog,
    )


def test_platform_error_is_shown(
    tool: Tool, moodle: MoodleLike, caplog: pytest.LogCaptureFixture
) -> None:
    response = requests.post(
        tool.url + "/launch",
        data={"error": "login_required", "error_description": "Not logged in", "state": "x"},
        timeout=10,
    )
    refused(response, 400, "platform-error", caplog)
    assert "The LMS did not complete the sign-in: Not logged in." in response.text


def test_cookie_from_another_browser_is_refused(
    tool: Tool, moodle: MoodleLike, caplog: pytest.LogCaptureFixture
) -> None:
    login = requests.post(
        tool.url + "/lti/login", data=moodle.initiation(), allow_redirects=False, timeout=10
    )
    _, form = read_form(requests.get(login.headers["Location"], timeout=10).text)
    cookie = f"capacity_login_{form['state']}=someone-elses-secret"
    response = requests.post(
        tool.url + "/launch", data=form, headers={"Cookie": cookie}, timeout=10
    )
    refused(response, 400, "browser-mismatch", caplog)


@pytest.mark.parametrize(
    ("fields", "reason"),
    [
        ({"iss": "https://unknown.example.org"}, "unknown-issuer"),
        ({"client_id": "another-client"}, "unknown-client"),
        ({"login_hint": ""}, "login-no-login-hint"),
        ({"target_link_uri": ""}, "login-no-target-link-uri"),
    ],
)
def test_bad_login_initiations_are_refused(
    tool: Tool,
    moodle: MoodleLike,
    caplog: pytest.LogCaptureFixture,
    fields: dict[str, str],
    reason: str,
) -> None:
    data = {**moodle.initiation(), **fields}
    refused(requests.post(tool.url + "/lti/login", data=data, timeout=10), 400, reason, caplog)


@pytest.fixture
def allow_list_tool(tmp_path: Path, database_url: str, moodle: MoodleLike) -> Iterator[Tool]:
    yield from make_tool(tmp_path, database_url, moodle, deployment_policy="allow-list")


def test_deployment_not_on_the_allow_list(
    allow_list_tool: Tool, moodle: MoodleLike, caplog: pytest.LogCaptureFixture
) -> None:
    assert lands_on(allow_list_tool, launch(allow_list_tool, moodle).result, "learner.home")
    moodle.deployment_id = "9"
    refused(launch(allow_list_tool, moodle).result, 403, "deployment-not-allowed", caplog)


def _segment(value: object) -> str:
    return _b64(json.dumps(value).encode())


MALFORMED = [
    "abc",
    "a.b.c",
    f"{_segment([1])}.{_segment({'iss': 'x'})}.sig",  # header not an object
    f"{_segment({'alg': 'RS256', 'kid': 'k'})}.{_segment([1, 2])}.sig",  # claims not an object
    f"{_segment({'alg': 'RS256', 'kid': 'k'})}.{_b64(b'not json')}.sig",
    f"{_segment({'alg': 'RS256', 'kid': 'k'})}.{_segment({'iss': {'a': 1}, 'aud': 5})}.sig",
    "\u00e9\u00e9.\u00e9.\u00e9",
]


@pytest.mark.parametrize("token", MALFORMED)
def test_malformed_tokens_are_a_4xx_never_a_500(tool: Tool, moodle: MoodleLike, token: str) -> None:
    response = requests.post(
        tool.url + "/launch", data={"id_token": token, "state": "s"}, timeout=10
    )
    assert response.status_code == 400, response.text
    assert "Reason code for your administrator" in response.text


def test_get_on_launch_is_a_405_page(tool: Tool) -> None:
    response = requests.get(tool.url + "/launch", timeout=10)
    assert response.status_code == 405
    assert "<code>http-405</code>" in response.text
