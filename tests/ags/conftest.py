"""Fixtures: the tool's database and JWKS, a Moodle-shaped LMS, a registered link and learner."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from capacity_lti.settings import Settings
from capacity_lti.storage import Database, open_database
from capacity_lti.storage.keys import KeyStore, ensure_key
from capacity_lti.storage.platforms import add_platform
from capacity_lti.storage.tables import Learner, ResourceLink
from tests.ags.fake_lms import LINEITEM, LINEITEM_READ, SCORE, FakeMoodle, Running

ALL_SCOPES = f"{SCORE} {LINEITEM} {LINEITEM_READ}"


@pytest.fixture(scope="session")
def platform_pems() -> tuple[str, str]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    public = (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    return private, public


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    return Settings(database_url=database_url, instance_path=tmp_path / "instance")


@pytest.fixture
def tool_db(settings: Settings) -> Iterator[Database]:
    db = open_database(settings)
    ensure_key(db)
    yield db
    db.engine.dispose()


@pytest.fixture
def tool_jwks(tool_db: Database) -> Iterator[str]:
    """The tool's JWKS served over HTTP, as the web app does, for the LMS to fetch."""
    document = json.dumps(KeyStore(tool_db, timedelta(hours=1)).ring().jwks()).encode()

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            pass

        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(document)))
            self.end_headers()
            self.wfile.write(document)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/jwks"
    server.shutdown()
    server.server_close()
    thread.join(5)


@pytest.fixture
def lms(platform_pems: tuple[str, str], tool_jwks: str) -> Iterator[FakeMoodle]:
    running = Running(FakeMoodle(*platform_pems, tool_jwks_url=tool_jwks))
    yield running.lms
    running.stop()


@dataclass(frozen=True)
class Placement:
    """A registered platform with one resource link and one learner on it."""

    platform_id: int
    link_pk: int
    learner_id: int
    subject: str
    link_id: str


def place(
    db: Database,
    lms: FakeMoodle,
    *,
    lineitem: str | None = None,
    lineitems: str | None = None,
    scopes: str = ALL_SCOPES,
    subject: str = "moodle-user-7",
    link_id: str = "rl-42",
    platform_id: int | None = None,
) -> Placement:
    if platform_id is None:
        platform_id = add_platform(
            db,
            issuer=lms.issuer,
            client_id=lms.client_id,
            auth_login_url=f"{lms.base}/mod/lti/auth.php",
            auth_token_url=lms.token_url,
            key_set_url=f"{lms.base}/mod/lti/certs.php",
            deployment_ids=("1",),
        ).id
    lms.enrolled.add(subject)
    with db.session() as session:
        learner = Learner(platform_id=platform_id, subject=subject, name="Ada Lovelace")
        link = ResourceLink(
            platform_id=platform_id,
            deployment_id="1",
            link_id=link_id,
            title="Climate action",
            ags_lineitem=lineitem,
            ags_lineitems=lineitems,
            ags_scopes=scopes,
        )
        session.add_all([learner, link])
        session.flush()
        return Placement(platform_id, link.id, learner.id, subject, link_id)


class Clock:
    """A clock the test moves by hand, so retry schedules are checked without sleeping."""

    def __init__(self) -> None:
        self.now = datetime.now(UTC) + timedelta(seconds=1)  # rows enqueued from here on are due

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)
