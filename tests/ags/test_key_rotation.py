"""`keys rotate` beside a running tool: the score worker's next token request uses the new key.

As `capacity-lti serve` runs it: the web app on real HTTP serves the JWKS, and the worker
thread shares the app's KeyStore. Each LMS (lti1p3platform's token endpoint) fetches that
JWKS once and checks the tool's client assertion against it.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path

import jwt
import pytest
import requests
from sqlalchemy import select
from werkzeug.serving import make_server

from capacity_lti.content import Programme, load_programme
from capacity_lti.settings import Settings
from capacity_lti.storage import Database
from capacity_lti.storage.delivery import start_in_thread
from capacity_lti.storage.outbox import enqueue_score
from capacity_lti.storage.tables import ScoreOutbox
from capacity_lti.web import create_app
from capacity_lti.web.services import EXTENSION, Services
from tests.ags.conftest import Placement, place
from tests.ags.fake_lms import FakeMoodle, Running
from tests.conftest import BASE, KEY_RECHECK_SECONDS, rotate_keys


@pytest.fixture
def app_services(database_url: str, tmp_path: Path) -> Iterator[tuple[Services, str]]:
    """The tool's app over HTTP: its Services and its JWKS URL."""
    settings = Settings(
        database_url=database_url,
        instance_path=tmp_path / "instance",
        key_recheck_seconds=KEY_RECHECK_SECONDS,
        worker_poll_seconds=0.05,
    )
    programme: Programme = load_programme(BASE)
    app = create_app(settings, programme=programme)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield app.extensions[EXTENSION], f"http://127.0.0.1:{server.server_port}/.well-known/jwks.json"
    server.shutdown()
    server.server_close()
    app.extensions[EXTENSION].db.engine.dispose()


def delivered(db: Database, where: Placement) -> bool:
    """Enqueue one score for `where` and wait (at most 30 s) until the worker delivered it."""
    with db.session() as session:
        enqueue_score(
            session,
            resource_link_id=where.link_pk,
            learner_id=where.learner_id,
            score_given=6.0,
            score_maximum=10.0,
            activity_progress="Completed",
            grading_progress="FullyGraded",
        )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        with db.session() as session:
            states = set(
                session.scalars(
                    select(ScoreOutbox.state).where(ScoreOutbox.resource_link_id == where.link_pk)
                )
            )
        if states == {"delivered"}:
            return True
        time.sleep(0.05)
    return False


def test_the_worker_signs_with_the_rotated_key_without_a_restart(
    app_services: tuple[Services, str], platform_pems: tuple[str, str], database_url: str
) -> None:
    svc, jwks_url = app_services
    before = Running(FakeMoodle(*platform_pems, tool_jwks_url=jwks_url, client_id="before"))
    after = Running(FakeMoodle(*platform_pems, tool_jwks_url=jwks_url, client_id="after"))
    worker = start_in_thread(svc.db, svc.settings, keys=svc.keys)
    try:
        places = {}
        for running in (before, after):
            url = running.lms.lineitem_url(running.lms.add_lineitem("Climate action", 100, "rl-42"))
            places[running.lms.client_id] = place(svc.db, running.lms, lineitem=url)
        assert delivered(svc.db, places["before"])
        new = rotate_keys(database_url)
        assert delivered(svc.db, places["after"])
    finally:
        worker.stop(timeout=10)
        before.stop()
        after.stop()
    [old_assertion] = before.lms.assertions
    [new_assertion] = after.lms.assertions
    served = {
        key.key_id: key
        for key in jwt.PyJWKSet.from_dict(requests.get(jwks_url, timeout=10).json()).keys
    }
    old = jwt.get_unverified_header(old_assertion)["kid"]
    assert list(served) == [old, new]
    assert jwt.get_unverified_header(new_assertion)["kid"] == new
    claims = jwt.decode(
        new_assertion, served[new], algorithms=["RS256"], audience=after.lms.token_url
    )
    assert claims["iss"] == claims["sub"] == "after"
    assert [entry[3] for entry in after.lms.landed] == [60.0]
