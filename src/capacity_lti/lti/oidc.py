"""OIDC third-party-initiated login: reading the platform's request, building our answer.

State and nonce are random, kept server-side by the caller (single-use, short TTL); a
separate browser secret binds the login to the browser that started it when a cookie or
the platform's postMessage storage can carry it (see docs/lti-security.md).
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from capacity_lti.errors import LaunchError

LOGIN_TTL_SECONDS = 300
_ASK_ADMIN = "Please ask your LMS administrator to check the tool's registration."


@dataclass(frozen=True)
class LoginRequest:
    """The platform's login initiation (GET query or POST form)."""

    issuer: str
    login_hint: str
    target_link_uri: str
    client_id: str | None
    lti_message_hint: str | None
    deployment_id: str | None
    storage_target: str | None


def parse_login(params: Mapping[str, str]) -> LoginRequest:
    """Check the initiation carries what LTI 1.3 requires; LaunchError names what is missing."""
    for name in ("iss", "login_hint", "target_link_uri"):
        if not params.get(name):
            raise LaunchError(
                f"login-no-{name.replace('_', '-')}",
                f"The LMS started the sign-in without '{name}'. " + _ASK_ADMIN,
            )
    return LoginRequest(
        issuer=params["iss"],
        login_hint=params["login_hint"],
        target_link_uri=params["target_link_uri"],
        client_id=params.get("client_id") or None,
        lti_message_hint=params.get("lti_message_hint") or None,
        deployment_id=params.get("lti_deployment_id") or None,
        storage_target=params.get("lti_storage_target") or None,
    )


def new_secret() -> str:
    """A random, URL-safe value (256 bits) for state, nonce or browser secret."""
    return secrets.token_urlsafe(32)


def digest(secret: str) -> str:
    """What the server keeps of a browser secret (so a database read does not reveal it)."""
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def matches(secret: str, expected_digest: str) -> bool:
    return secrets.compare_digest(digest(secret), expected_digest)


def authentication_url(
    auth_login_url: str,
    login: LoginRequest,
    *,
    client_id: str,
    redirect_uri: str,
    state: str,
    nonce: str,
) -> str:
    """The platform's authentication endpoint with our OIDC request (form_post, prompt=none)."""
    params = {
        "scope": "openid",
        "response_type": "id_token",
        "response_mode": "form_post",
        "prompt": "none",
        "client_id": client_id,
        "redirect_uri": redirect_uri,
        "login_hint": login.login_hint,
        "state": state,
        "nonce": nonce,
    }
    if login.lti_message_hint is not None:
        params["lti_message_hint"] = login.lti_message_hint
    parts = urlsplit(auth_login_url)
    query = parse_qsl(parts.query, keep_blank_values=True) + list(params.items())
    return urlunsplit(parts._replace(query=urlencode(query)))


def origin(url: str) -> str:
    """scheme://host[:port] of a URL (the postMessage target origin of a platform)."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"
