"""Serving the app without gunicorn: Werkzeug's threaded server (the embedded default)."""

from __future__ import annotations

from collections.abc import Callable

from flask import Flask
from werkzeug.serving import make_server


def run(app: Flask, host: str, port: int, ready: Callable[[int], None]) -> None:
    """Listen on host:port (0 = any free port), call `ready(port)`, serve until interrupted."""
    server = make_server(host, port, app, threaded=True)
    ready(server.server_port)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
