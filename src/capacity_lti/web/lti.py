"""The LTI endpoints: OIDC login, the one launch URL, and the tool's JWKS.

Moodle accepts only a redirect URI byte-identical to the registered one, so every launch
(resource link or deep linking) arrives at `/launch` and is routed from its claims.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from typing import Any, cast

from flask import Blueprint, Response, current_app, g, redirect, render_template, request
from flask.typing import ResponseReturnValue
from werkzeug.wrappers import Response as BaseResponse

from capacity_lti.errors import LaunchError
from capacity_lti.lti.claims import LaunchClaims, parse_claims
from capacity_lti.lti.idtoken import DEEP_LINKING, read_unverified, verify_id_token
from capacity_lti.lti.oidc import (
    LOGIN_TTL_SECONDS,
    authentication_url,
    digest,
    matches,
    new_secret,
    origin,
    parse_login,
)
from capacity_lti.storage.launches import (
    PendingLoginRecord,
    admit_deployment,
    consume_login,
    launch_platform,
    login_platform,
    pending_login,
    record_launch,
    start_login,
)
from capacity_lti.web.services import services
from capacity_lti.web.session import LearnerSession, begin_session, set_cookie
from capacity_lti.web.urls import external_url

blueprint = Blueprint("lti", __name__)
log = logging.getLogger("capacity_lti.web")
LOGIN_COOKIE = "capacity_login_"
STORAGE_KEY = "capacity_state_"
_AGAIN = "Please open the activity again from your course."


@blueprint.get("/.well-known/jwks.json")
@blueprint.get("/lti/jwks")
def jwks() -> tuple[dict[str, Any], int, dict[str, str]]:
    """The tool's public keys, from the app's KeyStore: `capacity-lti keys rotate` shows
    within `key_recheck_seconds`, without a restart.

    Published: every unretired key, and retired ones for `key_retention_seconds`.
    """
    return services().keys.ring().jwks(), 200, {"Cache-Control": "public, max-age=300"}


@blueprint.route("/lti/login", methods=["GET", "POST"])
def login() -> BaseResponse:
    """OIDC login initiation: keep state + nonce server-side, send the browser to the platform."""
    svc = services()
    initiation = parse_login(request.values.to_dict())
    state, nonce, browser = new_secret(), new_secret(), new_secret()
    with svc.db.transaction(durable=False) as connection:
        platform = login_platform(connection, initiation.issuer, initiation.client_id)
        start_login(
            connection,
            PendingLoginRecord(
                state, nonce, platform.id, digest(browser), initiation.storage_target
            ),
            now=datetime.now(UTC),
            ttl=timedelta(seconds=LOGIN_TTL_SECONDS),
        )
    target = authentication_url(
        platform.auth_login_url,
        initiation,
        client_id=platform.client_id,
        redirect_uri=external_url("lti.launch"),
        state=state,
        nonce=nonce,
    )
    if initiation.storage_target:
        page = render_template(
            "lti/storage_login.html",
            storage={
                "next": target,
                "target": initiation.storage_target,
                "origin": origin(platform.auth_login_url),
                "key": STORAGE_KEY + state,
                "value": browser,
            },
        )
        response: BaseResponse = Response(page)
    else:
        response = redirect(target, 302)
    set_cookie(response, LOGIN_COOKIE + state, browser, LOGIN_TTL_SECONDS)
    return response


def _binding(record: PendingLoginRecord, platform_origin: str) -> Response | None:
    """Check the browser that started the login is the one finishing it, where that is knowable.

    A cookie set at login proves it when third-party cookies work; the platform's
    postMessage storage proves it where offered. Without either (Moodle in an iframe) the
    single-use, short-lived server-side state bound to the signed nonce is what remains.
    """
    presented = request.cookies.get(LOGIN_COOKIE + record.state) or request.form.get(
        "browser_secret"
    )
    if presented is None and record.storage_target:
        if request.form.get("storage_failed"):
            raise LaunchError(
                "platform-storage-failed",
                "Your LMS could not keep the sign-in state for the tool. Please open the "
                "activity in a new window, or again from your course.",
            )
        storage = {
            "target": record.storage_target,
            "key": STORAGE_KEY + record.state,
            "origin": platform_origin,
        }
        return Response(
            render_template(
                "lti/storage_launch.html",
                storage=storage,
                id_token=request.form["id_token"],
                state=record.state,
            )
        )
    if presented is not None and (
        record.browser_hash is None or not matches(presented, record.browser_hash)
    ):
        raise LaunchError(
            "browser-mismatch",
            "This sign-in was started in another browser or window. " + _AGAIN,
        )
    return None


def _route(claims: LaunchClaims) -> tuple[str, dict[str, str]]:
    if claims.message_type == DEEP_LINKING:
        return "deep_linking.choose", {}
    module = claims.module_id()
    if module is None:
        return "learner.home", {}
    if module not in services().programme.modules:
        raise LaunchError(
            "unknown-module",
            f"This course activity opens the module {module!r}, which the programme does not "
            "have. Please tell your teacher so they can choose another module.",
        )
    return "learner.module", {"module_id": module}


@blueprint.post("/launch")
def launch() -> BaseResponse:
    """Verify the id_token, use its login once, record learner and link, show the right page."""
    svc = services()
    form = request.form
    if form.get("error"):
        detail = form.get("error_description") or form["error"]
        raise LaunchError(
            "platform-error", f"The LMS did not complete the sign-in: {detail}. {_AGAIN}"
        )
    token, state = form.get("id_token"), form.get("state")
    if not token:
        raise LaunchError("no-id-token", "The launch carried no LTI token. " + _AGAIN)
    if not state:
        raise LaunchError("no-state", "The launch carried no sign-in state. " + _AGAIN)
    unverified = read_unverified(token)  # decoded once: claims find the platform, header the key
    claimed = unverified.claims
    now = datetime.now(UTC)
    with svc.db.transaction(durable=False) as connection:
        platform = launch_platform(
            connection, str(claimed.get("iss", "")), claimed.get("aud"), claimed.get("azp")
        )
        record = pending_login(connection, state, now=now)
    if record.platform_id != platform.id:
        raise LaunchError(
            "state-wrong-platform", "The sign-in was started by another LMS. " + _AGAIN
        )
    page = _binding(record, origin(platform.auth_login_url))
    if page is not None:
        return page
    verified = verify_id_token(
        token,
        platform,
        svc.keysets,
        leeway=svc.settings.leeway_seconds,
        unverified=unverified,
    )
    claims = parse_claims(verified.claims)
    endpoint, values = _route(claims)
    with svc.db.transaction(durable=False) as connection:  # used once, recorded once
        consume_login(connection, state, verified.nonce, now=now)
        policy = svc.settings.deployment_policy
        admit_deployment(connection, platform, verified.deployment_id, policy)
        learner_id, link_id = record_launch(
            connection, platform.id, claims, values.get("module_id")
        )
    started = int(now.timestamp())
    begin_session(
        LearnerSession(
            platform_id=platform.id,
            learner_id=learner_id,
            resource_link_id=link_id,
            locale=claims.locale or svc.programme.default_language,
            roles=claims.roles,
            instructor=claims.instructor,
            deep_linking=claims.deep_linking,
            expires_at=started + svc.settings.session_ttl_seconds,
            launched_at=started,
            deployment_id=claims.deployment_id,
        )
    )
    log.info(
        "launch ok platform=%d deployment=%s learner=%d link=%s -> %s",
        platform.id,
        claims.deployment_id,
        learner_id,
        link_id,
        endpoint,
    )
    response = _open(endpoint, values)
    response.delete_cookie(LOGIN_COOKIE + state)
    return response


def _open(endpoint: str, values: dict[str, str]) -> BaseResponse:
    """The page `endpoint` shows, as the launch's own answer (a redirect would cost the
    learner one more round trip), with its blueprint's response hooks (its CSP).

    base.html then puts the page's own address in place (static/address.js), so reload
    and back ask for the page, not post the used launch again.
    """
    app = current_app
    g.capacity_launched = (endpoint, values)  # base.html names its address: session_url(...)
    page = cast(ResponseReturnValue, app.view_functions[endpoint](**values))  # not async
    response = app.make_response(page)
    for hook in reversed(app.after_request_funcs.get(endpoint.partition(".")[0], [])):
        response = hook(response)
    return response
