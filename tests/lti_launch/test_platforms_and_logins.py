"""Several registrations per issuer, inactive registrations, pending-login hygiene, CSRF, races."""

from __future__ import annotations

import html
import logging
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import requests
from flask import Flask
from sqlalchemy import select, update

from capacity_lti.lti.oidc import LoginRequest, authentication_url
from capacity_lti.settings import Settings
from capacity_lti.storage import launches
from capacity_lti.storage.platforms import add_platform
from capacity_lti.storage.tables import Deployment, Learner, PendingLogin, Platform, ResourceLink
from capacity_lti.web import create_app
from capacity_lti.web.session import COOKIE, LearnerSession, current_session, issue_token
from tests.lti_launch.conftest import Tool, launch, session_of
from tests.lti_launch.platforms import MoodleLike, query_of, read_form
from tests.lti_launch.test_refusals import refused


@pytest.fixture(autouse=True)
def _log(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="capacity_lti.web")


def test_several_client_ids_under_one_issuer(
    tool: Tool, moodle: MoodleLike, caplog: pytest.LogCaptureFixture
) -> None:
    """Canvas shares one issuer across tenants: the client id picks the registration."""
    add_platform(
        tool.db(),
        issuer=moodle.issuer,
        client_id="second-tenant",
        auth_login_url=moodle.auth_url,
        auth_token_url=moodle.token_url,
        key_set_url=moodle.keyset_url,
        deployment_ids=("1",),
    )
    first = session_of(tool, launch(tool, moodle).result)
    moodle.client_id = "second-tenant"
    second = session_of(tool, launch(tool, moodle).result)
    assert first["platform_id"] != second["platform_id"]
    assert (
        first["learner_id"] != second["learner_id"]
    )  # same sub, another platform: another learner
    without_client = {k: v for k, v in moodle.initiation().items() if k != "client_id"}
    response = requests.post(tool.url + "/lti/login", data=without_client, timeout=10)
    refused(response, 400, "ambiguous-client", caplog)


def test_inactive_registration_is_refused(
    tool: Tool, moodle: MoodleLike, caplog: pytest.LogCaptureFixture
) -> None:
    with tool.db().session() as db:
        db.execute(update(Platform).values(status="disabled"))
    response = requests.post(tool.url + "/lti/login", data=moodle.initiation(), timeout=10)
    refused(response, 400, "platform-not-active", caplog)
    assert "The tool's registration for this LMS is disabled." in html.unescape(response.text)


def test_logins_long_expired_are_purged(
    tool: Tool, moodle: MoodleLike, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(launches, "PURGE_EVERY_SECONDS", 0.0)
    requests.post(
        tool.url + "/lti/login", data=moodle.initiation(), allow_redirects=False, timeout=10
    )
    with tool.db().session() as db:
        db.execute(update(PendingLogin).values(expires_at=datetime.now(UTC) - timedelta(hours=2)))
    login = requests.post(
        tool.url + "/lti/login", data=moodle.initiation(), allow_redirects=False, timeout=10
    )
    with tool.db().session() as db:
        states = db.scalars(select(PendingLogin.state)).all()
    assert states == [query_of(login.headers["Location"])["state"]]


def test_concurrent_submissions_of_one_launch_succeed_once(tool: Tool, moodle: MoodleLike) -> None:
    login = requests.post(
        tool.url + "/lti/login", data=moodle.initiation(), allow_redirects=False, timeout=10
    )
    _, form = read_form(requests.get(login.headers["Location"], timeout=10).text)
    statuses: list[int] = []
    start = threading.Barrier(4)

    def submit() -> None:
        start.wait()
        statuses.append(
            requests.post(
                tool.url + "/launch", data=form, allow_redirects=False, timeout=20
            ).status_code
        )

    threads = [threading.Thread(target=submit) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(statuses) == [200, 400, 400, 400]


@pytest.fixture
def app(tmp_path: Path, database_url: str) -> Flask:
    app = create_app(Settings(instance_path=tmp_path, database_url=database_url))

    @app.route("/write", methods=["GET", "POST"])
    def write() -> dict[str, int]:
        return {"learner": current_session().learner_id}

    return app


def test_cookie_alone_does_not_authenticate_a_post(app: Flask) -> None:
    """The CSRF rule: a cross-site form can bring the cookie, never the token."""
    session = LearnerSession(
        1, 7, 3, "en", (), False, None, int(time.time()) + 60, int(time.time())
    )
    with app.app_context():
        token = issue_token(session)
    client = app.test_client()
    client.set_cookie(COOKIE, token)
    assert client.get("/write").json == {"learner": 7}
    refused_post = client.post("/write")
    assert refused_post.status_code == 401
    assert "<code>no-session</code>" in refused_post.get_data(as_text=True)
    assert client.post("/write", data={"s": token}).json == {"learner": 7}
    assert client.post("/write", headers={"X-Capacity-Session": token}).json == {"learner": 7}


def test_authentication_url_keeps_the_platform_query_and_hint() -> None:
    login = LoginRequest(
        "https://lms", "user 1", "https://tool/launch", None, '{"cmid":3}', None, None
    )
    url = authentication_url(
        "https://lms.example.org/auth?tenant=a&x=",
        login,
        client_id="c1",
        redirect_uri="https://tool/launch",
        state="S",
        nonce="N",
    )
    assert url == (
        "https://lms.example.org/auth?tenant=a&x=&scope=openid&response_type=id_token"
        "&response_mode=form_post&prompt=none&client_id=c1&redirect_uri=https%3A%2F%2Ftool%2Flaunch"
        "&login_hint=user+1&state=S&nonce=N&lti_message_hint=%7B%22cmid%22%3A3%7D"
    )


def test_concurrent_first_launches_of_one_learner_both_succeed(
    tool: Tool, moodle: MoodleLike
) -> None:
    """Two tabs launching a new learner, link and deployment at once: both in, one row each."""
    moodle.deployment_id = "42"
    forms = []
    for _ in range(3):
        login = requests.post(
            tool.url + "/lti/login", data=moodle.initiation(), allow_redirects=False, timeout=10
        )
        forms.append(read_form(requests.get(login.headers["Location"], timeout=10).text)[1])
    statuses: list[int] = []
    start = threading.Barrier(len(forms))

    def submit(form: dict[str, str]) -> None:
        start.wait()
        statuses.append(
            requests.post(
                tool.url + "/launch", data=form, allow_redirects=False, timeout=20
            ).status_code
        )

    threads = [threading.Thread(target=submit, args=(form,)) for form in forms]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert statuses == [200, 200, 200]
    with tool.db().session() as db:
        assert len(db.scalars(select(Learner)).all()) == 1
        assert len(db.scalars(select(ResourceLink)).all()) == 1
        assert db.scalars(
            select(Deployment.added_by).where(Deployment.deployment_id == "42")
        ).all() == ["first-launch"]


def test_logins_are_purged_at_most_once_a_minute(tool: Tool, moodle: MoodleLike) -> None:
    def login() -> str:
        response = requests.post(
            tool.url + "/lti/login", data=moodle.initiation(), allow_redirects=False, timeout=10
        )
        return query_of(response.headers["Location"])["state"]

    first = login()  # this engine's first login purges (nothing yet)
    with tool.db().session() as db:
        db.execute(update(PendingLogin).values(expires_at=datetime.now(UTC) - timedelta(hours=2)))
    second = login()
    with tool.db().session() as db:
        states = set(db.scalars(select(PendingLogin.state)))
    assert states == {first, second}
    assert launches.PURGE_EVERY_SECONDS == 60.0
