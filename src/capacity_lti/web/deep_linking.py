"""Deep Linking: an instructor picks modules to place in the course; the tool answers the LMS.

/launch sends a verified LtiDeepLinkingRequest here with the session, whose
`deep_linking` holds the request's deep_linking_settings claim. The answer is a signed
LtiDeepLinkingResponse, auto-posted from the page to the LMS's return URL.
"""

from __future__ import annotations

import logging
import secrets
import time
from typing import Any, NoReturn

from flask import Blueprint, Response, abort, make_response, render_template, request, url_for

from capacity_lti.errors import LaunchError
from capacity_lti.lti.deep_linking import (
    DeepLinkingSettings,
    choices,
    content_item,
    response_claims,
    sign,
)
from capacity_lti.storage.platforms import PlatformRecord, list_platforms
from capacity_lti.web.services import services
from capacity_lti.web.session import LearnerSession, current_session

blueprint = Blueprint("deep_linking", __name__)
log = logging.getLogger("capacity_lti.web")
_ASK_ADMIN = "Please ask your LMS administrator to check the tool's registration."


def _page(template: str, code: int, policy: str, **context: Any) -> Response:
    """A page under `policy` (plus: nothing loaded from anywhere); `nonce` is its scripts'."""
    nonce = secrets.token_urlsafe(16)
    response = make_response(render_template(template, nonce=nonce, **context), code)
    response.headers["Content-Security-Policy"] = (
        "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; "
        + policy.format(nonce=nonce)
    )
    return response


def _refuse(status: int, reason: str, message: str) -> NoReturn:
    """End the request with the error page (its status, not the 400 a LaunchError gets)."""
    log.warning("refused reason=%s status=%d %s %s", reason, status, request.method, request.path)
    context = {"title": "The tool cannot do this", "message": message, "reason": reason}
    abort(_page("error.html", status, "form-action 'none'", status=status, **context))


def _instructor_request() -> tuple[LearnerSession, DeepLinkingSettings]:
    session = current_session()
    if session.deep_linking is None:
        _refuse(
            400,
            "not-deep-linking",
            "This page opens when a teacher adds the tool to a course from the LMS's activity "
            "chooser. Please start there.",
        )
    if not session.instructor:
        _refuse(
            403,
            "instructors-only",
            "Only teachers and course designers can choose which modules to place in a course. "
            "If you are one, ask your LMS administrator to check your role in this course.",
        )
    settings = DeepLinkingSettings.from_claim(session.deep_linking)
    if not settings.accepts_links:
        _refuse(
            400,
            "links-not-accepted",
            "This place in the LMS does not accept activity links, so the tool cannot add "
            "modules here. Add the tool from the course's activity chooser instead.",
        )
    return session, settings


def _platform(session: LearnerSession) -> tuple[PlatformRecord, str]:
    """The session's platform and the deployment the deep-linking request came through."""
    platform = next((p for p in list_platforms(services().db) if p.id == session.platform_id), None)
    if platform is None:
        raise LaunchError(
            "platform-removed", "The tool's registration for this LMS was removed. " + _ASK_ADMIN
        )
    if platform.status != "active":
        raise LaunchError(
            "platform-not-active",
            f"The tool's registration for this LMS is {platform.status}. " + _ASK_ADMIN,
        )
    if session.deployment_id not in platform.deployment_ids:
        raise LaunchError(
            "deployment-removed",
            f"The deployment {session.deployment_id!r} this request came through is no longer "
            "registered for this LMS. " + _ASK_ADMIN,
        )
    return platform, session.deployment_id


@blueprint.get("/deep-linking")
def choose() -> Response:
    """The picker: the programme home and every module, one or several as the LMS allows."""
    session, settings = _instructor_request()
    return _page(
        "deep_linking/choose.html",
        200,
        "form-action 'self'; script-src 'nonce-{nonce}'",
        choices=choices(services().programme, session.locale),
        multiple=settings.accept_multiple,
    )


@blueprint.post("/deep-linking")
def respond() -> Response:
    """Sign the chosen items into an LtiDeepLinkingResponse and post it back to the LMS."""
    session, settings = _instructor_request()
    programme = services().programme
    offered = {c.key: c for c in choices(programme, session.locale)}
    picked = request.form.getlist("item")
    unknown = [key for key in picked if key not in offered]
    if not picked:
        _refuse(400, "nothing-chosen", "Please choose at least one module to add.")
    if unknown:
        _refuse(
            400,
            "unknown-item",
            f"The programme has no module {unknown[0]!r}; reload the list and choose again.",
        )
    platform, deployment_id = _platform(session)
    # The registered launch URL, byte for byte: Moodle refuses any other.
    launch_url = url_for("lti.launch", _external=True)
    items = [
        content_item(offered[key], launch_url, settings, programme.id)
        for key in dict.fromkeys(picked)
    ]
    claims = response_claims(
        client_id=platform.client_id,
        issuer=platform.issuer,
        deployment_id=deployment_id,
        settings=settings,
        items=items,
        now=int(time.time()),
    )
    log.info(
        "deep-linking response platform=%d deployment=%s items=%s",
        platform.id,
        deployment_id,
        ",".join(dict.fromkeys(picked)),
    )
    # No form-action: the LMS may redirect after it takes the response.
    return _page(
        "deep_linking/return.html",
        200,
        "script-src 'nonce-{nonce}'",
        return_url=settings.return_url,
        token=sign(claims, services().keys.signing()),
        count=len(items),
    )
