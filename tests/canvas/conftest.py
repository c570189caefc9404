"""The tool's app over real HTTP on 127.0.0.1, with or without a `public_url`."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from werkzeug.serving import make_server

from capacity_lti.content import load_programme
from capacity_lti.settings import Settings
from capacity_lti.web import create_app
from capacity_lti.web.services import EXTENSION
from tests.conftest import BASE
from tests.registration.conftest import Tool

Serve = Callable[..., Tool]


@pytest.fixture
def serve(database_url: str, tmp_path: Path) -> Iterator[Serve]:
    """Start the tool with extra settings; every server started is stopped afterwards."""
    stops: list[Callable[[], None]] = []

    def start(**overrides: Any) -> Tool:
        settings = Settings(
            instance_path=tmp_path / f"instance{len(stops)}",
            database_url=database_url,
            registration_allow_http=True,
            **overrides,
        )
        app = create_app(settings, programme=load_programme(BASE))
        server = make_server("127.0.0.1", 0, app, threaded=True)
        thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
        thread.start()

        def stop() -> None:
            server.shutdown()
            server.server_close()
            app.extensions[EXTENSION].db.engine.dispose()

        stops.append(stop)
        return Tool(app, f"http://127.0.0.1:{server.server_port}")

    yield start
    for stop in stops:
        stop()
