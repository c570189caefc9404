"""The one place the web layer maps the error tree to HTTP: a clear page and a log line.

A launch refused is the LMS user's problem to act on (open again, ask the admin), so it
is a 4xx page naming the reason code, never a 500.
"""

from __future__ import annotations

import logging

from flask import Flask, render_template, request
from werkzeug.exceptions import HTTPException

from capacity_lti.errors import CapacityError, LaunchError, StorageError

log = logging.getLogger("capacity_lti.web")

STATUS = {
    "no-session": 401,
    "session-invalid": 401,
    "session-expired": 401,
    "deployment-not-allowed": 403,
    "platform-disabled": 403,
    "unknown-module": 404,
}


def _page(status: int, title: str, message: str, reason: str) -> tuple[str, int]:
    return render_template(
        "error.html", status=status, title=title, message=message, reason=reason
    ), status


def _launch_error(error: LaunchError) -> tuple[str, int]:
    status = STATUS.get(error.reason, 400)
    log.warning(
        "refused reason=%s status=%d %s %s", error.reason, status, request.method, request.path
    )
    return _page(status, "The tool cannot open this", error.message, error.reason)


def _storage_error(error: StorageError) -> tuple[str, int]:
    log.error("storage-unavailable %s %s: %s", request.method, request.path, error)
    return _page(
        503,
        "The tool is unavailable",
        "The tool's database is not answering. Please try again in a few minutes.",
        "storage-unavailable",
    )


def _capacity_error(error: CapacityError) -> tuple[str, int]:
    log.warning(
        "refused reason=bad-request status=400 %s %s: %s", request.method, request.path, error
    )
    return _page(400, "The tool cannot do this", str(error), "bad-request")


def _http_error(error: HTTPException) -> tuple[str, int]:
    status = error.code or 500
    reason = f"http-{status}"
    if status < 500:
        log.info("refused reason=%s status=%d %s %s", reason, status, request.method, request.path)
    return _page(status, error.name, error.description or "", reason)


def init_app(app: Flask) -> None:
    app.register_error_handler(LaunchError, _launch_error)
    app.register_error_handler(StorageError, _storage_error)
    app.register_error_handler(CapacityError, _capacity_error)
    app.register_error_handler(HTTPException, _http_error)
