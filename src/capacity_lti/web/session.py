"""The learner's session after a launch: a signed, short-lived token carried in links and forms.

Third-party cookies are blocked in the LMS iframe, so the token travels as the form field
or query parameter `s`, or the header `X-Capacity-Session`; a cookie carries it too and
is used, for GET requests only, when nothing explicit came with the request. The token is an HMAC-SHA256 over
its JSON payload with a secret the tool keeps in its database (see docs/lti-security.md).
It is renewed on every page, never beyond `MAX_AGE` after the launch.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
import zlib
from dataclasses import asdict, dataclass, replace
from typing import Any

from flask import Flask, Response, g, request, url_for
from markupsafe import Markup, escape
from werkzeug.wrappers import Response as BaseResponse

from capacity_lti.errors import LaunchError
from capacity_lti.web.services import services

FIELD = "s"
HEADER = "X-Capacity-Session"
COOKIE = "capacity_session"
MAX_AGE = 12 * 3600
_CONTEXT = b"capacity-lti session v1\n"
_RELAUNCH = "Please open the activity again from your course."


@dataclass(frozen=True)
class LearnerSession:
    """Who is using the tool, from which platform and course link, in which language."""

    platform_id: int
    learner_id: int
    resource_link_id: int | None
    locale: str
    roles: tuple[str, ...]
    instructor: bool
    deep_linking: dict[str, Any] | None
    expires_at: int
    launched_at: int = 0
    deployment_id: str = ""  # the launch's deployment, which a deep-linking response names


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _mac(secret: bytes, body: str) -> str:
    return _b64(hmac.new(secret, _CONTEXT + body.encode("ascii"), hashlib.sha256).digest())


def encode(session: LearnerSession, secret: bytes) -> str:
    """The token for `session`: base64url(deflated JSON) '.' base64url(HMAC)."""
    payload = json.dumps(asdict(session), separators=(",", ":"), sort_keys=True).encode()
    body = _b64(zlib.compress(payload, 9))
    return f"{body}.{_mac(secret, body)}"


def decode(token: str, secret: bytes, now: float) -> LearnerSession:
    """The session a token carries; LaunchError when it is forged, damaged or expired."""
    body, _, mac = token.partition(".")
    if not body or not hmac.compare_digest(
        mac.encode("ascii", "replace"), _mac(secret, body).encode()
    ):
        raise LaunchError("session-invalid", "Your session could not be checked. " + _RELAUNCH)
    try:
        fields = json.loads(zlib.decompress(_unb64(body)))
        fields["roles"] = tuple(fields["roles"])
        session = LearnerSession(**fields)
    except (ValueError, TypeError, KeyError, zlib.error):  # signed by an older version
        raise LaunchError(
            "session-invalid", "Your session is from an older version. " + _RELAUNCH
        ) from None
    if session.expires_at <= now:
        raise LaunchError("session-expired", "Your session has expired. " + _RELAUNCH)
    return session


def issue_token(session: LearnerSession) -> str:
    """Sign `session` with this app's secret (needs an app context)."""
    return encode(session, services().session_secret)


def begin_session(session: LearnerSession) -> None:
    """Make `session` the current one for this request (a launch just verified it)."""
    g.capacity_session = session
    g.capacity_token = None


def _presented_token() -> str | None:
    """The token the request carries; the cookie counts only for safe methods.

    A cross-site form can make the browser send the cookie but cannot know the token, so
    requiring the token itself on POST/PUT/DELETE is also the CSRF defence.
    """
    safe = request.method in ("GET", "HEAD", "OPTIONS")
    for value in (
        request.form.get(FIELD) if request.method == "POST" else None,
        request.args.get(FIELD),
        request.headers.get(HEADER),
        request.cookies.get(COOKIE) if safe else None,
    ):
        if value:
            return value
    return None


def current_session() -> LearnerSession:
    """The verified session of this request; a 401 page when there is none or it is not valid."""
    found: LearnerSession | None = g.get("capacity_session")
    if found is not None:
        return found
    token = _presented_token()
    if token is None:
        raise LaunchError(
            "no-session",
            "The tool does not know who you are: open it from your course (its links keep you "
            "signed in; opening a copied address does not).",
        )
    session = decode(token, services().session_secret, time.time())
    begin_session(session)
    return session


def session_token() -> str:
    """This request's renewed token (signed once per request)."""
    token: str | None = g.get("capacity_token")
    if token is None:
        session = current_session()
        now = int(time.time())
        ttl = services().settings.session_ttl_seconds
        limit = (session.launched_at or now) + MAX_AGE
        token = issue_token(replace(session, expires_at=min(now + ttl, limit)))
        g.capacity_token = token
    return token


def session_url(endpoint: str, **values: Any) -> str:
    """url_for(endpoint, **values) carrying the session token as `s`."""
    values[FIELD] = session_token()
    return url_for(endpoint, **values)


def session_field() -> Markup:
    """A hidden form input carrying the session token."""
    return Markup('<input type="hidden" name="{}" value="{}">').format(
        FIELD, escape(session_token())
    )


def set_cookie(response: BaseResponse, name: str, value: str, max_age: int) -> None:
    """A cookie the framed tool can get back when the browser allows third-party cookies.

    That needs SameSite=None, which browsers accept only with Secure: on https, and on
    http://localhost (a secure context). Elsewhere on plain http it stays SameSite=Lax.
    """
    secure = request.is_secure or request.host.partition(":")[0] in ("localhost", "127.0.0.1")
    response.set_cookie(
        name,
        value,
        max_age=max_age,
        secure=secure,
        httponly=True,
        samesite="None" if secure else "Lax",
    )


def _remember(response: Response) -> Response:
    token: str | None = g.get("capacity_token")
    if token is not None:
        set_cookie(response, COOKIE, token, services().settings.session_ttl_seconds)
        response.headers["Cache-Control"] = "no-store"
    response.headers.setdefault("Referrer-Policy", "no-referrer")
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    return response


def init_app(app: Flask) -> None:
    """Template globals, and the cookie and privacy headers on every response."""
    app.add_template_global(session_url)
    app.add_template_global(session_field)
    app.add_template_global(session_token)
    app.after_request(_remember)

    @app.context_processor
    def _lang() -> dict[str, str]:
        session = g.get("capacity_session")
        return {"lang": session.locale if session else services().programme.default_language}
