"""`serve`: run the tool with Werkzeug's threaded server and the score worker; print the URLs."""

from __future__ import annotations

import argparse
import logging
from pathlib import Path
from typing import Any, TextIO

from capacity_lti.cli.errors import EXIT_OK
from capacity_lti.settings import Settings


def register(commands: Any) -> None:
    serve = commands.add_parser(
        "serve",
        help="run the LTI tool (embedded default: SQLite in ./instance, the example programme)",
        description="Run the tool with a threaded development-grade server. For production, "
        "run gunicorn (see docs/admin.md).",
    )
    serve.add_argument(
        "--programme", type=Path, default=None, metavar="DIR", help="programme folder to serve"
    )
    serve.add_argument(
        "--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)"
    )
    serve.add_argument(
        "--port", type=int, default=8000, help="port (default 8000; 0 picks a free one)"
    )
    serve.add_argument(
        "--public-url",
        default=None,
        metavar="URL",
        help="the address the LMS reaches the tool at, if not http://HOST:PORT (e.g. behind a "
        "proxy); sets CAPACITY_LTI_PUBLIC_URL for this run",
    )
    serve.set_defaults(handler=cmd_serve)


def tool_urls(base: str) -> list[tuple[str, str]]:
    """What an LMS administrator pastes into the LMS, under `base` (no trailing slash)."""
    return [
        ("Dynamic registration URL", f"{base}/lti/register"),
        ("Login (initiation) URL", f"{base}/lti/login"),
        ("Launch / redirect URL", f"{base}/launch"),
        ("Deep-linking URL", f"{base}/launch"),
        ("Public keyset (JWKS) URL", f"{base}/.well-known/jwks.json"),
        ("Canvas developer-key JSON URL", f"{base}/lti/canvas.json"),
    ]


def cmd_serve(args: argparse.Namespace, out: TextIO) -> int:
    from capacity_lti.storage.delivery import start_in_thread
    from capacity_lti.web import create_app, server  # Flask loads only for this command

    overrides: dict[str, Any] = {}
    if args.programme:
        overrides["programme_dir"] = args.programme
    if args.public_url:
        overrides["public_url"] = args.public_url
    settings = Settings(**overrides)
    app = create_app(settings)

    def ready(port: int) -> None:
        base = (settings.public_url or f"http://{args.host}:{port}").rstrip("/")
        programme = app.extensions["capacity_lti"].programme
        out.write(f"capacity-lti serving {programme.id!r} at {base}\n")
        for label, url in tool_urls(base):
            out.write(f"  {label + ':':27} {url}\n")
        out.write("Stop with Ctrl+C.\n")
        out.flush()

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    # The embedded default sends grades from this process; under gunicorn, `capacity-lti worker`
    # runs as a process of its own (docs/admin.md).
    tool = app.extensions["capacity_lti"]
    worker = start_in_thread(tool.db, settings, keys=tool.keys)
    try:
        server.run(app, args.host, args.port, ready)
    finally:
        worker.stop(timeout=15)
    return EXIT_OK
