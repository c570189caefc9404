"""Verifying an LTI 1.3 id_token: the checks PyLTI1p3 2.0.0 leaves open, closed here.

Every refusal is a :class:`LaunchError` whose `reason` is a stable code for the log
and whose `message` tells the person in the LMS what happened and what to do.
Single-use nonces and OIDC state are checked by the caller against storage; this
module checks the token itself.
"""

from __future__ import annotations

import base64
import binascii
import json
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

import jwt

from capacity_lti.errors import LaunchError

LTI = "https://purl.imsglobal.org/spec/lti/claim/"
RESOURCE_LINK = "LtiResourceLinkRequest"
DEEP_LINKING = "LtiDeepLinkingRequest"
MESSAGE_TYPES = (RESOURCE_LINK, DEEP_LINKING)
_ASK_ADMIN = "Please ask your LMS administrator to check the tool's registration."


class PlatformKeys(Protocol):
    """Where a platform's signing keys are published."""

    @property
    def issuer(self) -> str: ...
    @property
    def client_id(self) -> str: ...
    @property
    def key_set_url(self) -> str: ...


def _refuse(reason: str, message: str) -> LaunchError:
    return LaunchError(reason, message)


_NOT_A_JWT = "The launch did not carry a valid LTI 1.3 token. Please open the activity again from your course."


@dataclass(frozen=True)
class UnverifiedToken:
    """A token's JOSE header and claims, read once without trusting them: the claims say
    which platform sent it, the header which of its keys signed it (`kid`, `alg`)."""

    header: dict[str, Any]
    claims: dict[str, Any]


def _json_segment(segment: str) -> dict[str, Any]:
    """One base64url JSON segment of a compact JWS, strictly: URL-safe alphabet, an object."""
    if "+" in segment or "/" in segment:  # b64decode would take them for "-" and "_"
        raise ValueError("not base64url")
    raw = base64.b64decode(segment + "=" * (-len(segment) % 4), altchars=b"-_", validate=True)
    value = json.loads(raw)
    if not isinstance(value, dict):
        raise ValueError("not a JSON object")
    return value


def read_unverified(token: str) -> UnverifiedToken:
    """Decode the token's header and claims (no verification); LaunchError when it is no JWT.

    Read directly, not by PyJWT: these values only choose the platform and key, and
    verify_id_token's PyJWT decode then checks the whole token (so it is parsed strictly
    once, not two or three times).
    """
    parts = token.split(".")
    try:
        if len(parts) != 3:
            raise ValueError("not three segments")
        header, claims = _json_segment(parts[0]), _json_segment(parts[1])
    except (ValueError, RecursionError, binascii.Error):
        raise _refuse("not-a-jwt", _NOT_A_JWT) from None
    return UnverifiedToken(header, claims)


class KeySets:
    """Platforms' public keys by keyset URL, cached; an unknown `kid` triggers one refetch.

    A platform that rotates its key starts signing with a `kid` we have not seen:
    we fetch its keyset again (at most once per `min_interval` seconds per URL, so a
    stream of forged kids cannot make us hammer the platform).
    """

    def __init__(
        self,
        fetch: Callable[[str], Mapping[str, Any]],
        min_interval: float = 10.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._fetch = fetch
        self._min_interval = min_interval
        self._clock = clock
        self._keys: dict[str, dict[str, jwt.PyJWK]] = {}
        self._fetched_at: dict[str, float] = {}

    def _load(self, url: str) -> None:
        try:
            document = self._fetch(url)
            keys = {}
            for jwk in document.get("keys", []):
                if isinstance(jwk, dict) and jwk.get("kid") and jwk.get("kty") == "RSA":
                    keys[str(jwk["kid"])] = jwt.PyJWK(jwk, algorithm="RS256")
        except (OSError, ValueError, jwt.PyJWKError, AttributeError) as exc:
            raise _refuse(
                "keyset-unavailable",
                f"The tool could not read your LMS's public keys ({type(exc).__name__}). "
                "Please try again in a minute; if it persists, "
                + _ASK_ADMIN[0].lower()
                + _ASK_ADMIN[1:],
            ) from None
        self._keys[url] = keys
        self._fetched_at[url] = self._clock()

    def key(self, url: str, kid: str) -> jwt.PyJWK:
        stale = url in self._keys and self._clock() - self._fetched_at[url] >= self._min_interval
        if url not in self._keys or (kid not in self._keys[url] and stale):
            self._load(url)
        found = self._keys[url].get(kid)
        if found is None:
            raise _refuse(
                "unknown-kid",
                "The launch was signed with a key your LMS does not publish. " + _ASK_ADMIN,
            )
        return found


@dataclass(frozen=True)
class VerifiedLaunch:
    """Claims of an id_token whose signature, issuer, audience, times and LTI shape were checked."""

    claims: dict[str, Any]

    @property
    def message_type(self) -> str:
        return str(self.claims[LTI + "message_type"])

    @property
    def deployment_id(self) -> str:
        return str(self.claims[LTI + "deployment_id"])

    @property
    def nonce(self) -> str:
        return str(self.claims["nonce"])

    @property
    def subject(self) -> str:
        return str(self.claims["sub"])

    @property
    def roles(self) -> tuple[str, ...]:
        return tuple(str(r) for r in self.claims.get(LTI + "roles", []))


_JWT_ERRORS: tuple[tuple[type[Exception], str, str], ...] = (
    (
        jwt.ExpiredSignatureError,
        "expired",
        "The launch has expired. Please open the activity again from your course.",
    ),
    (
        jwt.ImmatureSignatureError,
        "issued-in-future",
        "The launch is dated in the future: the LMS's clock and the tool's disagree. " + _ASK_ADMIN,
    ),
    (jwt.InvalidAudienceError, "wrong-aud", "The launch was meant for another tool. " + _ASK_ADMIN),
    (
        jwt.InvalidIssuerError,
        "wrong-iss",
        "The launch came from an LMS other than the one registered. " + _ASK_ADMIN,
    ),
    (
        jwt.InvalidSignatureError,
        "bad-signature",
        "The launch's signature is not valid. Please open the activity again; if it persists, tell your LMS administrator.",
    ),
    (
        jwt.InvalidAlgorithmError,
        "alg-not-allowed",
        "The launch was signed with an algorithm the tool does not accept (only RS256). "
        + _ASK_ADMIN,
    ),
)


def verify_id_token(
    token: str,
    platform: PlatformKeys,
    keys: KeySets,
    *,
    leeway: int,
    header: Mapping[str, Any] | None = None,
) -> VerifiedLaunch:
    """Verify signature (RS256 only), iss, aud/azp, exp/iat with `leeway` seconds, and LTI claims.

    `header`: the token's header when the caller has already read it (see read_unverified).
    """
    if header is None:
        header = read_unverified(token).header
    if header.get("alg") != "RS256":
        raise _refuse(
            "alg-not-allowed",
            "The launch was signed with an algorithm the tool does not accept (only RS256). "
            + _ASK_ADMIN,
        )
    kid = header.get("kid")
    if not isinstance(kid, str) or not kid:
        raise _refuse("no-kid", "The launch token does not say which key signed it. " + _ASK_ADMIN)
    key = keys.key(platform.key_set_url, kid)
    try:
        claims: dict[str, Any] = jwt.decode(
            token,
            key=key,
            algorithms=["RS256"],
            audience=platform.client_id,
            issuer=platform.issuer,
            leeway=leeway,
            options={"require": ["exp", "iat", "iss", "aud", "nonce"], "verify_iat": True},
        )
    except jwt.MissingRequiredClaimError as exc:
        raise _refuse(
            f"no-{exc.claim}", f"The launch token lacks its '{exc.claim}' claim. " + _ASK_ADMIN
        ) from None
    except jwt.PyJWTError as exc:
        for kind, reason, message in _JWT_ERRORS:
            if isinstance(exc, kind):
                raise _refuse(reason, message) from None
        raise _refuse("not-a-jwt", _NOT_A_JWT) from None
    _check_azp(claims, platform.client_id)
    _check_lti_claims(claims)
    return VerifiedLaunch(claims)


def _check_azp(claims: Mapping[str, Any], client_id: str) -> None:
    aud = claims.get("aud")
    azp = claims.get("azp")
    if isinstance(aud, list) and len(aud) > 1 and azp is None:
        raise _refuse(
            "no-azp",
            "The launch names several audiences but no authorised party (azp). " + _ASK_ADMIN,
        )
    if azp is not None and azp != client_id:
        raise _refuse(
            "wrong-azp", "The launch was authorised for another tool (azp). " + _ASK_ADMIN
        )


def _check_lti_claims(claims: Mapping[str, Any]) -> None:
    version = claims.get(LTI + "version")
    if version is None:
        raise _refuse(
            "no-lti-version", "The launch does not say which LTI version it uses. " + _ASK_ADMIN
        )
    if version != "1.3.0":
        raise _refuse(
            "wrong-lti-version",
            f"The launch uses LTI version {json.dumps(version)}; the tool speaks 1.3.0. "
            + _ASK_ADMIN,
        )
    message_type = claims.get(LTI + "message_type")
    if message_type is None:
        raise _refuse(
            "no-message-type",
            "The launch does not say what kind of LTI message it is. " + _ASK_ADMIN,
        )
    if message_type not in MESSAGE_TYPES:
        raise _refuse(
            "unknown-message-type",
            f"The tool does not handle {json.dumps(message_type)} messages. " + _ASK_ADMIN,
        )
    if not isinstance(claims.get(LTI + "deployment_id"), str) or not claims[LTI + "deployment_id"]:
        raise _refuse("no-deployment-id", "The launch does not name its deployment. " + _ASK_ADMIN)
    if not isinstance(claims.get(LTI + "roles"), list):
        raise _refuse(
            "no-roles",
            "The launch does not list the user's roles (an empty list is fine). " + _ASK_ADMIN,
        )
    if not isinstance(claims.get("sub"), str) or not claims["sub"]:
        raise _refuse("no-sub", "The launch does not identify the user. " + _ASK_ADMIN)
    if message_type == RESOURCE_LINK:
        link = claims.get(LTI + "resource_link")
        if not isinstance(link, dict) or not isinstance(link.get("id"), str) or not link["id"]:
            raise _refuse(
                "no-resource-link-id",
                "The launch does not name the course activity it came from. " + _ASK_ADMIN,
            )
