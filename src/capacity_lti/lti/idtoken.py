"""Verifying an LTI 1.3 id_token: the checks PyLTI1p3 2.0.0 leaves open, closed here.

Every refusal is a :class:`LaunchError` whose `reason` is a stable code for the log
and whose `message` tells the person in the LMS what happened and what to do.
Single-use nonces and OIDC state are checked by the caller against storage; this
module checks the token itself: its RS256 signature with `cryptography` and its
registered claims in the order PyJWT 2.15's decode checked them (so each token keeps
the refusal it had then), parsing the token only once.
"""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

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
_ALG_NOT_ALLOWED = (
    "The launch was signed with an algorithm the tool does not accept (only RS256). " + _ASK_ADMIN
)
_BAD_SIGNATURE = "The launch's signature is not valid. Please open the activity again; if it persists, tell your LMS administrator."
_EXPIRED = "The launch has expired. Please open the activity again from your course."
_IN_FUTURE = (
    "The launch is dated in the future: the LMS's clock and the tool's disagree. " + _ASK_ADMIN
)
_WRONG_ISS = "The launch came from an LMS other than the one registered. " + _ASK_ADMIN
_WRONG_AUD = "The launch was meant for another tool. " + _ASK_ADMIN


@dataclass(frozen=True)
class UnverifiedToken:
    """A token's JOSE header and claims, read once without trusting them: the claims say
    which platform sent it, the header which of its keys signed it (`kid`, `alg`)."""

    header: dict[str, Any]
    claims: dict[str, Any]
    token: str = field(repr=False)  # what they were read from: verify_id_token checks it is its own


def _b64url(segment: str, *, padded: bool = False) -> bytes:
    """Strict base64url (RFC 7515 §2): URL-safe alphabet, canonical; ValueError otherwise.

    `padded`: up to two trailing '=' to a multiple of four are tolerated, as PyJWT did in
    header and claims.
    """
    stripped = segment.rstrip("=")
    pad = len(segment) - len(stripped)
    if pad and (not padded or pad > 2 or len(segment) % 4):
        raise ValueError("bad base64url padding")
    raw = base64.urlsafe_b64decode(stripped + "=" * (-len(stripped) % 4))
    # The lenient decode takes '+', '/' and skips whitespace; re-encoding catches them all.
    if base64.urlsafe_b64encode(raw).rstrip(b"=") != stripped.encode("ascii"):
        raise ValueError("not canonical base64url")
    return raw


def _json_segment(segment: str) -> dict[str, Any]:
    """One base64url JSON segment of a compact JWS, strictly: URL-safe alphabet, an object."""
    value = json.loads(_b64url(segment, padded=True))
    if not isinstance(value, dict):
        raise ValueError("not a JSON object")
    return value


def read_unverified(token: str) -> UnverifiedToken:
    """Decode the token's header and claims (no verification); LaunchError when it is no JWT.

    These values choose the platform and key; verify_id_token, given this result, then
    checks signature and claims without parsing the token again.
    """
    parts = token.split(".")
    try:
        if len(parts) != 3:
            raise ValueError("not three segments")
        header, claims = _json_segment(parts[0]), _json_segment(parts[1])
    except (ValueError, RecursionError):  # binascii.Error is a ValueError
        raise _refuse("not-a-jwt", _NOT_A_JWT) from None
    return UnverifiedToken(header, claims, token)


def _b64url_uint(value: str) -> int:
    """A JWK's big-endian integer, decoded as leniently as PyJWT did (keys that worked still do)."""
    return int.from_bytes(base64.urlsafe_b64decode(value + "=" * (-len(value) % 4)), "big")


def _is_signing_key(jwk: object) -> bool:
    """An RSA JWK with a `kid`, and not marked for another algorithm or use than RS256 signing."""
    return (
        isinstance(jwk, dict)
        and bool(jwk.get("kid"))
        and jwk.get("kty") == "RSA"
        and jwk.get("alg", "RS256") == "RS256"
        and jwk.get("use", "sig") == "sig"
    )


def _rsa_public_key(jwk: Mapping[str, Any]) -> rsa.RSAPublicKey:
    """The public key of an RSA JWK (RFC 7518 §6.3.1: `n`, `e`); ValueError when it is none."""
    n, e = jwk.get("n"), jwk.get("e")
    if not isinstance(n, str) or not isinstance(e, str):
        raise ValueError("an RSA JWK needs string members 'n' and 'e'")
    return rsa.RSAPublicNumbers(_b64url_uint(e), _b64url_uint(n)).public_key()


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
        self._keys: dict[str, dict[str, rsa.RSAPublicKey]] = {}
        self._fetched_at: dict[str, float] = {}

    def _load(self, url: str) -> None:
        try:
            document = self._fetch(url)
            keys = {}
            for jwk in document.get("keys", []):
                if _is_signing_key(jwk):
                    keys[str(jwk["kid"])] = _rsa_public_key(jwk)
        except (OSError, ValueError, TypeError, AttributeError) as exc:
            raise _refuse(
                "keyset-unavailable",
                f"The tool could not read your LMS's public keys ({type(exc).__name__}). "
                "Please try again in a minute; if it persists, "
                + _ASK_ADMIN[0].lower()
                + _ASK_ADMIN[1:],
            ) from None
        self._keys[url] = keys
        self._fetched_at[url] = self._clock()

    def key(self, url: str, kid: str) -> rsa.RSAPublicKey:
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


def verify_id_token(
    token: str,
    platform: PlatformKeys,
    keys: KeySets,
    *,
    leeway: int,
    unverified: UnverifiedToken | None = None,
) -> VerifiedLaunch:
    """Verify signature (RS256 only), iss, aud/azp, exp/iat/nbf with `leeway` seconds, and LTI claims.

    `unverified`: read_unverified(token), when the caller already has it (the token is then
    not parsed again).
    """
    if unverified is None:
        unverified = read_unverified(token)
    elif unverified.token != token:
        raise ValueError("unverified was read from another token")
    header = unverified.header
    if header.get("alg") != "RS256":
        raise _refuse("alg-not-allowed", _ALG_NOT_ALLOWED)
    kid = header.get("kid")
    if not isinstance(kid, str) or not kid:
        raise _refuse("no-kid", "The launch token does not say which key signed it. " + _ASK_ADMIN)
    _check_signature(token, header, keys.key(platform.key_set_url, kid))
    claims = unverified.claims
    _check_registered_claims(claims, platform, leeway)
    _check_azp(claims, platform.client_id)
    _check_lti_claims(claims)
    return VerifiedLaunch(claims)


_PKCS1V15 = padding.PKCS1v15()
_SHA256 = hashes.SHA256()


def _check_signature(token: str, header: Mapping[str, Any], key: rsa.RSAPublicKey) -> None:
    """The RS256 signature over the token's first two segments, as they came."""
    signing_input, _, segment = token.rpartition(".")
    try:
        signature = _b64url(segment)
    except ValueError:
        raise _refuse("not-a-jwt", _NOT_A_JWT) from None
    _check_crit(header)
    try:
        # read_unverified decoded both segments as base64url, so they are ASCII.
        key.verify(signature, signing_input.encode("ascii"), _PKCS1V15, _SHA256)
    except InvalidSignature:
        raise _refuse("bad-signature", _BAD_SIGNATURE) from None


def _check_crit(header: Mapping[str, Any]) -> None:
    """RFC 7515 §4.1.11 as PyJWT applied it: `crit` may name only a present `b64`, and no
    `b64: false` (RFC 7797 unencoded payload) is accepted."""
    crit = header.get("crit")
    if header.get("b64", True) is False or (
        "crit" in header
        and (
            not isinstance(crit, list)
            or not crit
            or any(name != "b64" or name not in header for name in crit)
        )
    ):
        raise _refuse("not-a-jwt", _NOT_A_JWT)


_REQUIRED = ("exp", "iat", "iss", "aud", "nonce")


def _check_registered_claims(
    claims: Mapping[str, Any], platform: PlatformKeys, leeway: int
) -> None:
    """RFC 7519 claims in PyJWT's order: required ones, iat, nbf, exp, iss, aud, sub, jti."""
    for name in _REQUIRED:
        if claims.get(name) is None:  # null counts as absent, as in PyJWT
            raise _lacks(name)
    now = time.time()
    if _numeric_date(claims["iat"]) > now + leeway:
        raise _refuse("issued-in-future", _IN_FUTURE)
    if "nbf" in claims and _numeric_date(claims["nbf"]) > now + leeway:
        raise _refuse("issued-in-future", _IN_FUTURE)
    if _numeric_date(claims["exp"]) <= now - leeway:
        raise _refuse("expired", _EXPIRED)
    if claims["iss"] != platform.issuer:  # a non-string iss too
        raise _refuse("wrong-iss", _WRONG_ISS)
    aud = claims["aud"]
    if not aud:  # PyJWT took an empty aud for a missing one
        raise _lacks("aud")
    audiences = [aud] if isinstance(aud, str) else aud
    if (
        not isinstance(audiences, list)
        or not all(isinstance(a, str) for a in audiences)
        or platform.client_id not in audiences
    ):
        raise _refuse("wrong-aud", _WRONG_AUD)
    for name in ("sub", "jti"):
        if name in claims and not isinstance(claims[name], str):
            raise _refuse("not-a-jwt", _NOT_A_JWT)


def _lacks(claim: str) -> LaunchError:
    return _refuse(f"no-{claim}", f"The launch token lacks its '{claim}' claim. " + _ASK_ADMIN)


def _numeric_date(value: object) -> int:
    """A NumericDate (a JSON number, not a bool) in whole seconds, as PyJWT compared it."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise _refuse("not-a-jwt", _NOT_A_JWT)
    try:
        return int(value)
    except (ValueError, OverflowError):  # NaN, Infinity: json.loads reads them
        raise _refuse("not-a-jwt", _NOT_A_JWT) from None


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
