"""Serving the app without gunicorn: Werkzeug's threaded server (the embedded default)."""

from __future__ import annotations

from collections.abc import Callable

from flask import Flask
from werkzeug.serving import WSGIRequestHandler, make_server


class _Handler(WSGIRequestHandler):
    """Logs requests without their query string: it carries learners' session tokens."""

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        path = self.path.partition("?")[0]
        self.log("info", '"%s %s %s" %s %s', self.command, path, self.request_version, code, size)


def run(app: Flask, host: str, port: int, ready: Callable[[int], None]) -> None:
    """Listen on host:port (0 = any free port), call `ready(port)`, serve until interrupted."""
    server = make_server(host, port, app, threaded=True, request_handler=_Handler)
    ready(server.server_port)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
