"""OAuth 2 access tokens for LMS services (AGS, NRPS), as the 1EdTech Security Framework asks.

The tool proves who it is with a JWT client assertion (RFC 7523): ``iss`` = ``sub`` = the
client id, ``aud`` = the platform's token URL (or the audience it registered), a fresh
``jti``, a short ``exp``, signed RS256 with the tool's signing key and its ``kid``. The
token endpoint answers with a bearer token (RFC 6749 4.4) that is cached per token URL +
client id + scopes until shortly before it expires, and shared by every thread.

HTTP outcomes are classified here for every LMS call (:func:`failure`, :func:`transport`).
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from typing import Any

import jwt
import requests

from capacity_lti.errors import ServiceError
from capacity_lti.lti.keys import SigningKey

ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
ASSERTION_LIFETIME = 300  # seconds: long enough for clock skew, short enough to be useless later
BACKDATE = (
    5  # iat a little in the past: a platform whose clock lags must not see it "not yet valid"
)
DEFAULT_EXPIRES_IN = 3600  # what the Security Framework recommends when the platform says nothing


@dataclass(frozen=True)
class TokenEndpoint:
    """Where and as whom the tool asks a platform for tokens."""

    url: str
    client_id: str
    audience: str | None = None


@dataclass
class _Cached:
    token: str
    renew_at: float


def retry_after(value: str | None, now: float) -> float | None:
    """Seconds to wait from a Retry-After header (delta-seconds or an HTTP date), or None."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - now)


def _lms_message(response: requests.Response) -> str:
    """What the LMS said, from its JSON error fields or the start of its body."""
    try:
        body: Any = response.json()
    except ValueError:
        body = None
    if isinstance(body, dict):
        parts = [
            str(body[k]) for k in ("error", "error_description", "message", "reason") if body.get(k)
        ]
        if parts:
            return ": ".join(parts)
    text = response.text.strip()
    return text[:500] if text else response.reason or "no message"


def failure(what: str, response: requests.Response) -> ServiceError:
    """The error for a non-2xx answer: 408/429/5xx may pass, other 4xx will not."""
    status = response.status_code
    message = f"{what}: HTTP {status}: {_lms_message(response)}"
    retryable = status in (408, 429) or status >= 500
    wait = retry_after(response.headers.get("Retry-After"), time.time()) if retryable else None
    return ServiceError(message, retryable=retryable, status=status, retry_after=wait)


def transport(what: str, url: str, exc: requests.RequestException, timeout: float) -> ServiceError:
    """The error for a call that got no HTTP answer (always worth retrying)."""
    if isinstance(exc, requests.Timeout):
        return ServiceError(f"{what}: no answer from {url} within {timeout:g} s", retryable=True)
    return ServiceError(f"{what}: cannot reach {url}: {type(exc).__name__}", retryable=True)


class ServiceTokens:
    """A thread-safe cache of access tokens; one fetch at a time per endpoint + scopes.

    `clock` (monotonic seconds) times the cache; assertions carry wall-clock times.
    """

    def __init__(
        self,
        signing_key: Callable[[], SigningKey],
        *,
        timeout: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._signing_key = signing_key
        self._timeout = timeout
        self._clock = clock
        self._cache: dict[tuple[str, str, str], _Cached] = {}
        self._locks: dict[tuple[str, str, str], threading.Lock] = {}
        self._guard = threading.Lock()

    @staticmethod
    def _key(endpoint: TokenEndpoint, scopes: Iterable[str]) -> tuple[str, str, str]:
        return (endpoint.url, endpoint.client_id, " ".join(sorted(set(scopes))))

    def assertion(self, endpoint: TokenEndpoint) -> str:
        """A signed client assertion for one token request."""
        key = self._signing_key()
        now = int(time.time())
        claims = {
            "iss": endpoint.client_id,
            "sub": endpoint.client_id,
            "aud": endpoint.audience or endpoint.url,
            "iat": now - BACKDATE,
            "exp": now + ASSERTION_LIFETIME,
            "jti": uuid.uuid4().hex,
        }
        return jwt.encode(claims, key.private_key, algorithm="RS256", headers={"kid": key.kid})

    def token(self, http: requests.Session, endpoint: TokenEndpoint, scopes: Iterable[str]) -> str:
        """A valid access token for `scopes`, fetched only when none is cached."""
        key = self._key(endpoint, scopes)
        with self._guard:
            lock = self._locks.setdefault(key, threading.Lock())
        with lock:
            cached = self._cache.get(key)
            if cached is not None and self._clock() < cached.renew_at:
                return cached.token
            fresh = self._fetch(http, endpoint, key[2])
            self._cache[key] = fresh
            return fresh.token

    def discard(self, endpoint: TokenEndpoint, scopes: Iterable[str], token: str) -> None:
        """Forget `token` (the LMS refused it); a token fetched since by another thread stays."""
        key = self._key(endpoint, scopes)
        with self._guard:
            cached = self._cache.get(key)
            if cached is not None and cached.token == token:
                del self._cache[key]

    def _fetch(self, http: requests.Session, endpoint: TokenEndpoint, scope: str) -> _Cached:
        what = f"token request to {endpoint.url}"
        form = {
            "grant_type": "client_credentials",
            "client_assertion_type": ASSERTION_TYPE,
            "client_assertion": self.assertion(endpoint),
            "scope": scope,
        }
        asked_at = self._clock()
        try:
            response = http.post(
                endpoint.url,
                data=form,
                headers={"Accept": "application/json"},
                timeout=self._timeout,
            )
        except requests.RequestException as exc:
            raise transport(what, endpoint.url, exc, self._timeout) from None
        if not response.ok:
            error = failure(what, response)
            # A refused assertion is the registration's problem, not the score's: keep trying
            # (with backoff) so the score lands once an administrator fixes the registration.
            raise ServiceError(
                f"{error.message} (check the tool's registration on the platform)",
                retryable=True,
                status=error.status,
                retry_after=error.retry_after,
            )
        try:
            body = response.json()
            token = str(body["access_token"])
            expires_in = float(body.get("expires_in") or DEFAULT_EXPIRES_IN)
        except (ValueError, KeyError, TypeError):
            raise ServiceError(
                f"{what}: the answer has no access_token: {response.text[:200]!r}", retryable=True
            ) from None
        margin = min(60.0, expires_in / 10)
        return _Cached(token=token, renew_at=asked_at + expires_in - margin)
