"""The signed session token: round trip, forgery, expiry, renewal, and where it is read from."""

from __future__ import annotations

import time
from dataclasses import replace
from pathlib import Path

import pytest
from flask import Flask

from capacity_lti.errors import LaunchError
from capacity_lti.settings import Settings
from capacity_lti.web import create_app
from capacity_lti.web.session import (
    COOKIE,
    HEADER,
    LearnerSession,
    current_session,
    decode,
    encode,
    issue_token,
)

SECRET = b"k" * 32
SESSION = LearnerSession(
    platform_id=1,
    learner_id=7,
    resource_link_id=3,
    locale="pt-BR",
    roles=("http://purl.imsglobal.org/vocab/lis/v2/membership#Learner",),
    instructor=False,
    deep_linking=None,
    expires_at=2_000_000_000,
    launched_at=1_900_000_000,
)


def test_round_trip() -> None:
    assert decode(encode(SESSION, SECRET), SECRET, 1_950_000_000) == SESSION


@pytest.mark.parametrize(
    "tamper",
    [
        lambda t: t[:-2] + ("AA" if not t.endswith("AA") else "BB"),
        lambda t: "x" + t,
        lambda t: t.split(".")[0],
        lambda t: "",
    ],
)
def test_tampered_tokens_are_refused(tamper: object) -> None:
    token = tamper(encode(SESSION, SECRET))  # type: ignore[operator]
    with pytest.raises(LaunchError) as caught:
        decode(token, SECRET, 1_950_000_000)
    assert caught.value.reason == "session-invalid"


def test_another_secret_is_refused() -> None:
    with pytest.raises(LaunchError) as caught:
        decode(encode(SESSION, SECRET), b"j" * 32, 1_950_000_000)
    assert caught.value.reason == "session-invalid"


def test_expired_token_is_refused() -> None:
    with pytest.raises(LaunchError) as caught:
        decode(encode(SESSION, SECRET), SECRET, 2_000_000_000)
    assert caught.value.reason == "session-expired"
    assert (
        caught.value.message
        == "Your session has expired. Please open the activity again from your course."
    )


@pytest.fixture
def app(tmp_path: Path, database_url: str) -> Flask:
    app = create_app(Settings(instance_path=tmp_path, database_url=database_url))

    @app.get("/probe")
    def probe() -> dict[str, object]:
        return {"learner": current_session().learner_id}

    return app


def test_token_read_from_query_header_form_and_cookie(app: Flask) -> None:
    live = replace(SESSION, expires_at=int(time.time()) + 60)
    with app.app_context():
        token = issue_token(live)
    client = app.test_client()
    assert client.get("/probe", query_string={"s": token}).json == {"learner": 7}
    assert client.get("/probe", headers={HEADER: token}).json == {"learner": 7}
    client.set_cookie(COOKIE, token)
    assert client.get("/probe").json == {"learner": 7}


def test_no_token_is_a_401_page(app: Flask) -> None:
    response = app.test_client().get("/probe")
    assert response.status_code == 401
    page = response.get_data(as_text=True)
    assert "open it from your course" in page
    assert "<code>no-session</code>" in page
