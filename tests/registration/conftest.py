"""Fixtures: the fake Moodle, and the tool's app served over real HTTP on 127.0.0.1."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from flask import Flask
from werkzeug.serving import make_server

from capacity_lti.content import load_programme
from capacity_lti.content.model import Programme
from capacity_lti.settings import Settings
from capacity_lti.storage import Database
from capacity_lti.web import create_app
from capacity_lti.web.services import EXTENSION
from tests.conftest import BASE, KEY_RECHECK_SECONDS
from tests.registration.moodle import FakeMoodle


@pytest.fixture(scope="session")
def programme() -> Programme:
    return load_programme(BASE)


@pytest.fixture
def moodle() -> Iterator[FakeMoodle]:
    site = FakeMoodle()
    yield site
    site.close()


@dataclass
class Tool:
    """The running tool: its app and the base URL it answers on."""

    app: Flask
    url: str

    @property
    def db(self) -> Database:
        found: Database = self.app.extensions[EXTENSION].db
        return found


@pytest.fixture
def tool(database_url: str, tmp_path: Path, programme: Programme) -> Iterator[Tool]:
    settings = Settings(
        instance_path=tmp_path / "instance",
        database_url=database_url,
        registration_allow_http=True,
        key_recheck_seconds=KEY_RECHECK_SECONDS,
    )
    app = create_app(settings, programme=programme)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield Tool(app, f"http://127.0.0.1:{server.server_port}")
    server.shutdown()
    server.server_close()
    app.extensions[EXTENSION].db.engine.dispose()
