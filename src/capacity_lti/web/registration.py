"""LTI Dynamic Registration: the page an LMS opens when its admin pastes the tool's URL.

Moodle ("Add LTI Advantage") and Canvas open `/lti/register?openid_configuration=...
&registration_token=...` in a dialog; the tool registers itself, stores the platform,
and the page's Done button closes the dialog with the 1EdTech close message.
"""

from __future__ import annotations

import http.client
import json
import logging
import secrets
import urllib.error
import urllib.request
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

from flask import Blueprint, Response, make_response, render_template, request, url_for

from capacity_lti.content.model import pick
from capacity_lti.errors import ConfigError
from capacity_lti.lti.registration import Registration, ToolDescription, register
from capacity_lti.storage.platforms import PlatformRecord, add_platform, list_platforms
from capacity_lti.web.services import services
from capacity_lti.web.urls import external_url

blueprint = Blueprint("registration", __name__)
log = logging.getLogger("capacity_lti.web.registration")
_MAX_BYTES = 1_000_000


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None  # the 3xx surfaces as an HTTPError, reported to the admin


class UrllibTransport:
    """The registration's HTTP: no redirects followed, a timeout, at most 1 MB read."""

    def __init__(self, timeout: float = 10.0) -> None:
        self.timeout = timeout
        self._opener = urllib.request.build_opener(_NoRedirects)

    def get(self, url: str, bearer: str | None) -> tuple[int, str, bytes]:
        return self._open(urllib.request.Request(url, headers=self._headers(bearer)))  # noqa: S310

    def post_json(
        self, url: str, body: Mapping[str, Any], bearer: str | None
    ) -> tuple[int, str, bytes]:
        headers = {**self._headers(bearer), "Content-Type": "application/json"}
        data = json.dumps(body).encode()
        return self._open(urllib.request.Request(url, data, headers, method="POST"))  # noqa: S310

    @staticmethod
    def _headers(bearer: str | None) -> dict[str, str]:
        headers = {"Accept": "application/json"}
        if bearer:
            headers["Authorization"] = f"Bearer {bearer}"
        return headers

    def _open(self, req: urllib.request.Request) -> tuple[int, str, bytes]:
        try:
            try:
                with self._opener.open(req, timeout=self.timeout) as response:
                    return self._read(response.status, response.headers, response)
            except urllib.error.HTTPError as error:
                return self._read(error.code, error.headers, error)
        except (OSError, ValueError, http.client.HTTPException) as error:  # URLError is an OSError
            reason = getattr(error, "reason", error)
            raise ConfigError(
                f"the tool could not reach {req.full_url} ({str(reason) or type(reason).__name__}). The LMS and the tool must "
                "reach each other over the network: check the address, firewall, proxy and TLS "
                "certificate, then start the registration again."
            ) from None

    def _read(self, status: int, headers: Any, stream: Any) -> tuple[int, str, bytes]:
        body: bytes = stream.read(_MAX_BYTES + 1)
        if len(body) > _MAX_BYTES:
            raise ConfigError(
                f"the LMS's answer is larger than {_MAX_BYTES} bytes; it cannot be a registration answer."
            )
        return status, str(headers.get("Content-Type", "")), body


def tool_description() -> ToolDescription:
    """The tool as the platform will list it: the programme's title and its fixed URLs."""
    programme = services().programme
    chain = programme.chain(programme.default_language)
    return ToolDescription(
        name=pick(programme.title, chain)[:100],
        description=pick(programme.description, chain)[:1000],
        login_url=external_url("lti.login"),
        launch_url=external_url("lti.launch"),
        jwks_url=external_url("lti.jwks"),
        logo_url=external_url("registration.logo"),
    )


def _page(template: str, status: int, **context: Any) -> Response:
    """A page whose one inline script runs by nonce; nothing else is loaded or submitted."""
    nonce = secrets.token_urlsafe(16)
    response = make_response(render_template(template, nonce=nonce, **context), status)
    response.headers["Content-Security-Policy"] = (
        f"default-src 'none'; script-src 'nonce-{nonce}'; style-src 'unsafe-inline'; "
        "base-uri 'none'; form-action 'none'"
    )
    return response


def _failed(status: int, message: str, *, reason: str) -> Response:
    log.warning("registration refused reason=%s status=%d: %s", reason, status, message)
    return _page("registration/failed.html", status, message=message, reason=reason)


def _unchanged(record: PlatformRecord, registration: Registration) -> bool:
    """Whether a stored registration already has everything this one brings."""
    platform = registration.platform
    urls = (platform.authorization_endpoint, platform.token_endpoint, platform.jwks_uri)
    return (record.auth_login_url, record.auth_token_url, record.key_set_url) == urls and (
        registration.deployment_id is None or registration.deployment_id in record.deployment_ids
    )


def _done(registration: Registration, *, repeated: bool) -> Response:
    return _page(
        "registration/done.html",
        200,
        registration=registration,
        repeated=repeated,
        tool=tool_description(),
        moodle=registration.platform.product_family_code == "moodle",
        policy=services().settings.deployment_policy,
    )


def _store(registration: Registration) -> Response:
    platform = registration.platform
    known = [
        p
        for p in list_platforms(services().db)
        if p.issuer == platform.issuer and p.client_id == registration.client_id
    ]
    if known and _unchanged(known[0], registration):
        # Moodle's registration update answers with the client id the tool already has.
        log.info("registration repeated, unchanged: platform id=%d", known[0].id)
        return _done(registration, repeated=True)
    if known:
        return _failed(
            409,
            f"This registration (issuer {platform.issuer}, client id {registration.client_id}) "
            "is already known to the tool with other details (login, token or keyset URL, or "
            "deployment id); nothing was changed. To replace it, remove it with 'capacity-lti "
            f"platform remove --issuer {platform.issuer} --client-id {registration.client_id}' "
            "and register again.",
            reason="already-registered",
        )
    host = urlsplit(platform.issuer).netloc
    record = add_platform(
        services().db,
        issuer=platform.issuer,
        client_id=registration.client_id,
        auth_login_url=platform.authorization_endpoint,
        auth_token_url=platform.token_endpoint,
        key_set_url=platform.jwks_uri,
        deployment_ids=(registration.deployment_id,) if registration.deployment_id else (),
        name=f"{platform.product} at {host}",
    )
    log.info(
        "registered platform id=%d issuer=%s client_id=%s deployment_id=%s",
        record.id,
        record.issuer,
        record.client_id,
        registration.deployment_id,
    )
    return _done(registration, repeated=False)


_LOGO = (
    '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 64 64">'
    '<rect width="64" height="64" rx="12" fill="#1f6f5c"/>'
    '<path d="M16 42c8-22 24-26 32-26-2 14-10 30-32 26z" fill="#fff"/>'
    '<path d="M18 46 40 26" stroke="#1f6f5c" stroke-width="3"/></svg>'
)


@blueprint.get("/lti/logo.svg")
def logo() -> Response:
    """The icon the LMS shows beside the tool in its lists and activity chooser."""
    response = make_response(_LOGO)
    response.headers["Content-Type"] = "image/svg+xml"
    response.headers["Cache-Control"] = "public, max-age=86400"
    response.headers["Content-Security-Policy"] = "default-src 'none'; style-src 'unsafe-inline'"
    return response


@blueprint.get("/lti/register")
def register_tool() -> Response:
    """Register with the LMS that opened this page, store it, and say what the admin does next."""
    config_url = request.args.get("openid_configuration", "")
    if not config_url:
        return _failed(
            400,
            "This address is for LTI Dynamic Registration: the LMS opens it, adding the "
            "openid_configuration and registration_token parameters. In Moodle, go to Site "
            "administration > Plugins > Activity modules > External tool > Manage tools, paste "
            f"{url_for('registration.register_tool', _external=True)} into 'Tool URL' and click "
            "'Add LTI Advantage'.",
            reason="no-openid-configuration",
        )
    settings = services().settings
    try:
        registration = register(
            config_url,
            request.args.get("registration_token"),
            tool_description(),
            UrllibTransport(),
            allow_http=settings.registration_allow_http,
        )
        return _store(registration)
    except ConfigError as error:
        return _failed(400, str(error), reason="registration-failed")
