"""id_token verification: 1EdTech certification 6.1.1 refusals, plus the gaps of PyLTI1p3 2.0.0.

The platform's keyset is served over real HTTP on 127.0.0.1; tokens are shaped the
way Moodle 4.5 signs them.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import hmac
import json
import time
import urllib.request
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from capacity_lti.errors import LaunchError
from capacity_lti.lti.idtoken import LTI, KeySets, read_unverified, verify_id_token
from capacity_lti.lti.keys import public_jwk
from tests.keyset import KeysetServer

ISSUER = "https://moodle.example.org"
CLIENT = "QzTGB2Lx8rV3Kc1"


@dataclass
class Platform:
    issuer: str
    client_id: str
    key_set_url: str


def fetch(url: str) -> Mapping[str, Any]:
    with urllib.request.urlopen(url, timeout=5) as response:
        document: Mapping[str, Any] = json.load(response)
        return document


@pytest.fixture
def keyset() -> Iterator[KeysetServer]:
    server = KeysetServer()
    yield server
    server.close()


@dataclass
class Signer:
    private: rsa.RSAPrivateKey
    kid: str


@functools.cache
def pooled_key(index: int) -> rsa.RSAPrivateKey:
    """RSA keys are slow to make: each test platform takes its n-th key from a shared pool."""
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def new_signer(server: KeysetServer) -> Signer:
    private = pooled_key(len(server.keys))
    jwk = public_jwk(private.public_key())
    server.keys.append(jwk)
    return Signer(private, jwk["kid"])


@dataclass(frozen=True)
class FromNow:
    """A time `seconds` after the moment the test runs (cases are collected long before)."""

    seconds: float
    text: bool = False  # as a JSON string, not a number

    def value(self, now: int) -> float | str:
        at = now + self.seconds
        return str(int(at)) if self.text else int(at) if at == int(at) else at


def _when(value: Any, now: int) -> Any:
    if isinstance(value, FromNow):
        return value.value(now)
    return [_when(v, now) for v in value] if isinstance(value, list) else value


def moodle_claims(**changes: Any) -> dict[str, Any]:
    now = int(time.time())
    changes = {name: _when(value, now) for name, value in changes.items()}
    claims: dict[str, Any] = {
        "iss": ISSUER,
        "aud": CLIENT,
        "sub": "7",
        "exp": now + 60,
        "iat": now,
        "nonce": "n-0123456789",
        LTI + "deployment_id": "3",
        LTI + "target_link_uri": "https://tool.example.org/lti/launch",
        LTI + "lis": {"person_sourcedid": "", "course_section_sourcedid": ""},
        LTI + "roles": ["http://purl.imsglobal.org/vocab/lis/v2/membership#Learner"],
        LTI + "context": {
            "id": "2",
            "label": "CLIMATE",
            "title": "Climate action",
            "type": ["CourseSection"],
        },
        LTI + "resource_link": {"title": "Greenhouse-gas inventory", "id": "1"},
        LTI + "launch_presentation": {
            "locale": "sv",
            "document_target": "iframe",
            "return_url": ISSUER + "/mod/lti/return.php",
        },
        LTI + "message_type": "LtiResourceLinkRequest",
        LTI + "version": "1.3.0",
        LTI + "custom": {"module": "ghg-inventory-beginner"},
    }
    for key, value in changes.items():
        name = key if key in claims or not key.startswith("lti_") else LTI + key[4:]
        if value is DROP:
            claims.pop(name, None)
        else:
            claims[name] = value
    return claims


DROP = object()


def sign(signer: Signer, claims: Mapping[str, Any], **header: Any) -> str:
    return jwt.encode(
        dict(claims), signer.private, algorithm="RS256", headers={"kid": signer.kid, **header}
    )


def refused(token: str, platform: Platform, keys: KeySets, leeway: int = 60) -> str:
    with pytest.raises(LaunchError) as caught:
        verify_id_token(token, platform, keys, leeway=leeway)
    assert caught.value.message, "every refusal has a message for the user"
    return caught.value.reason


@pytest.fixture
def setup(keyset: KeysetServer) -> tuple[Signer, Platform, KeySets]:
    signer = new_signer(keyset)
    return signer, Platform(ISSUER, CLIENT, keyset.url), KeySets(fetch, min_interval=0)


def test_a_moodle_launch_is_accepted(setup: tuple[Signer, Platform, KeySets]) -> None:
    signer, platform, keys = setup
    launch = verify_id_token(sign(signer, moodle_claims()), platform, keys, leeway=60)
    assert (launch.message_type, launch.deployment_id, launch.subject) == (
        "LtiResourceLinkRequest",
        "3",
        "7",
    )
    assert launch.nonce == "n-0123456789"


def _b64(data: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


REFUSALS: list[tuple[str, Callable[[Signer], str], str]] = [
    ("no kid", lambda s: jwt.encode(moodle_claims(), s.private, algorithm="RS256"), "no-kid"),
    ("wrong kid", lambda s: sign(s, moodle_claims(), kid="not-published"), "unknown-kid"),
    ("wrong LTI version", lambda s: sign(s, moodle_claims(lti_version="1.2.0")), "wrong-lti-version"),
    ("no LTI version", lambda s: sign(s, moodle_claims(lti_version=DROP)), "no-lti-version"),
    ("not a JWT", lambda s: "this.is.not-a-jwt", "not-a-jwt"),
    ("two parts only", lambda s: ".".join(sign(s, moodle_claims()).split(".")[:2]), "not-a-jwt"),
    ("missing LTI claims", lambda s: sign(s, {k: v for k, v in moodle_claims().items() if not k.startswith(LTI)}), "no-lti-version"),
    ("expired", lambda s: sign(s, moodle_claims(exp=int(time.time()) - 120, iat=int(time.time()) - 300)), "expired"),
    ("issued in the future", lambda s: sign(s, moodle_claims(iat=int(time.time()) + 600, exp=int(time.time()) + 900)), "issued-in-future"),
    ("no exp", lambda s: sign(s, moodle_claims(exp=DROP)), "no-exp"),
    ("no iat", lambda s: sign(s, moodle_claims(iat=DROP)), "no-iat"),
    ("no nonce", lambda s: sign(s, moodle_claims(nonce=DROP)), "no-nonce"),
    ("no message type", lambda s: sign(s, moodle_claims(lti_message_type=DROP)), "no-message-type"),
    ("unknown message type", lambda s: sign(s, moodle_claims(lti_message_type="LtiSubmissionReviewRequest")), "unknown-message-type"),
    ("no roles claim", lambda s: sign(s, moodle_claims(lti_roles=DROP)), "no-roles"),
    ("no deployment id", lambda s: sign(s, moodle_claims(lti_deployment_id=DROP)), "no-deployment-id"),
    ("no resource link id", lambda s: sign(s, moodle_claims(lti_resource_link={"title": "x"})), "no-resource-link-id"),
    ("no sub", lambda s: sign(s, moodle_claims(sub=DROP)), "no-sub"),
    ("wrong iss", lambda s: sign(s, moodle_claims(iss="https://evil.example")), "wrong-iss"),
    ("wrong aud", lambda s: sign(s, moodle_claims(aud="another-tool")), "wrong-aud"),
    ("aud list without azp", lambda s: sign(s, moodle_claims(aud=[CLIENT, "other"])), "no-azp"),
    ("azp of another client", lambda s: sign(s, moodle_claims(aud=[CLIENT, "other"], azp="other")), "wrong-azp"),
    ("alg none", lambda s: f"{_b64({'alg': 'none', 'kid': s.kid})}.{_b64(moodle_claims())}.", "alg-not-allowed"),
    ("tampered payload", lambda s: ".".join([sign(s, moodle_claims()).split(".")[0], _b64(moodle_claims(sub="1")), sign(s, moodle_claims()).split(".")[2]]), "bad-signature"),
]  # fmt: skip


@pytest.mark.parametrize(("case", "make", "reason"), REFUSALS, ids=[r[0] for r in REFUSALS])
def test_refused_with_its_own_reason(
    setup: tuple[Signer, Platform, KeySets], case: str, make: Callable[[Signer], str], reason: str
) -> None:
    signer, platform, keys = setup
    assert refused(make(signer), platform, keys) == reason


def test_hs256_signed_with_the_public_key_as_secret_is_refused(
    setup: tuple[Signer, Platform, KeySets],
) -> None:
    signer, platform, keys = setup
    public_pem = signer.private.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    header = _b64({"alg": "HS256", "typ": "JWT", "kid": signer.kid})
    payload = _b64(moodle_claims())
    mac = hmac.new(public_pem, f"{header}.{payload}".encode(), hashlib.sha256).digest()
    token = f"{header}.{payload}.{base64.urlsafe_b64encode(mac).rstrip(b'=').decode()}"
    assert refused(token, platform, keys) == "alg-not-allowed"


def test_platform_clock_ahead_within_leeway_is_accepted_and_beyond_is_not(
    setup: tuple[Signer, Platform, KeySets],
) -> None:
    signer, platform, keys = setup
    ahead = int(time.time()) + 2
    verify_id_token(
        sign(signer, moodle_claims(iat=ahead, exp=ahead + 60)), platform, keys, leeway=60
    )
    assert (
        refused(sign(signer, moodle_claims(iat=ahead, exp=ahead + 60)), platform, keys, leeway=0)
        == "issued-in-future"
    )


@pytest.mark.parametrize(
    ("roles", "names"),
    [
        (
            [
                "http://purl.imsglobal.org/vocab/lis/v2/membership#Learner",
                "http://purl.imsglobal.org/vocab/lis/v2/institution/person#Student",
            ],
            {},
        ),
        (["Learner"], {}),  # short role
        (["http://example.org/unknown#Role"], {}),  # unknown role
        ([], {}),  # no role
        (["Learner"], {"email": "ana@example.org"}),  # email only
        (
            ["Learner"],
            {"given_name": "Ana", "family_name": "Horvat", "name": "Ana Horvat"},
        ),  # names only
    ],
)
def test_valid_launches_of_6_1_2_and_6_1_3_are_accepted(
    setup: tuple[Signer, Platform, KeySets], roles: list[str], names: dict[str, str]
) -> None:
    signer, platform, keys = setup
    launch = verify_id_token(
        sign(signer, moodle_claims(lti_roles=roles, **names)), platform, keys, leeway=60
    )
    assert launch.roles == tuple(roles)


def test_rotated_platform_key_is_fetched_once_then_cached(keyset: KeysetServer) -> None:
    first = new_signer(keyset)
    platform = Platform(ISSUER, CLIENT, keyset.url)
    keys = KeySets(fetch, min_interval=0)
    verify_id_token(sign(first, moodle_claims()), platform, keys, leeway=60)
    verify_id_token(sign(first, moodle_claims()), platform, keys, leeway=60)
    assert keyset.fetches == 1
    rotated = new_signer(keyset)  # the platform publishes a new key and signs with it
    verify_id_token(sign(rotated, moodle_claims()), platform, keys, leeway=60)
    assert keyset.fetches == 2
    verify_id_token(sign(rotated, moodle_claims()), platform, keys, leeway=60)
    assert keyset.fetches == 2


def test_forged_kids_cannot_make_the_tool_hammer_the_platform(keyset: KeysetServer) -> None:
    signer = new_signer(keyset)
    platform = Platform(ISSUER, CLIENT, keyset.url)
    keys = KeySets(fetch, min_interval=3600)
    verify_id_token(sign(signer, moodle_claims()), platform, keys, leeway=60)
    for n in range(5):
        assert (
            refused(sign(signer, moodle_claims(), kid=f"forged-{n}"), platform, keys)
            == "unknown-kid"
        )
    assert keyset.fetches == 1


def test_unreachable_keyset_is_a_clear_refusal() -> None:
    platform = Platform(ISSUER, CLIENT, "http://127.0.0.1:1/certs")
    token = jwt.encode(moodle_claims(), pooled_key(0), algorithm="RS256", headers={"kid": "k"})
    assert refused(token, platform, KeySets(fetch)) == "keyset-unavailable"


# What PyJWT's decode caught for us before idtoken verified tokens itself.


def _by_hand(signer: Signer, header: dict[str, Any], claims: Mapping[str, Any]) -> str:
    """RS256 without PyJWT, which refuses to encode some of these headers."""
    signing_input = f"{_b64(header)}.{_b64(dict(claims))}"
    signature = signer.private.sign(signing_input.encode(), padding.PKCS1v15(), hashes.SHA256())
    return signing_input + "." + base64.urlsafe_b64encode(signature).rstrip(b"=").decode()


def _with_signature(token: str, change: Callable[[str], str]) -> str:
    header, payload, signature = token.split(".")
    return f"{header}.{payload}.{change(signature)}"


def _urlsafe_signed(signer: Signer) -> str:
    """A token whose signature segment has a '-' or '_' (nearly every one does)."""
    for n in range(50):
        token = sign(signer, moodle_claims(nonce=f"n-{n}"))
        if "-" in token.split(".")[2] or "_" in token.split(".")[2]:
            return token
    raise AssertionError("no signature with '-' or '_'")


def _non_canonical(signature: str) -> str:
    """Same bytes, other spelling: 256 bytes leave 4 unused bits in the last of 342 characters."""
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    assert len(signature) == 342
    return signature[:-1] + alphabet[alphabet.index(signature[-1]) | 1]


def _one_character_off(token: str) -> str:
    """The payload changed in one character, still a JSON object with the same claims' names."""
    header, payload, signature = token.split(".")
    names = set(read_unverified(token).claims)
    for i, old in enumerate(payload):
        for new in "BCDE".replace(old, ""):
            altered = f"{header}.{payload[:i]}{new}{payload[i + 1 :]}.{signature}"
            try:
                if set(read_unverified(altered).claims) == names:
                    return altered
            except LaunchError:
                pass
    raise AssertionError("no one-character change keeps the payload readable")


SIGNATURE_SEGMENTS: list[tuple[str, Callable[[Signer], str], str]] = [
    ("standard alphabet", lambda s: _with_signature(_urlsafe_signed(s), lambda g: g.replace("-", "+").replace("_", "/")), "not-a-jwt"),
    ("padded", lambda s: _with_signature(sign(s, moodle_claims()), lambda g: g + "=="), "not-a-jwt"),
    ("whitespace", lambda s: _with_signature(sign(s, moodle_claims()), lambda g: g[:100] + " " + g[100:]), "not-a-jwt"),
    ("newline", lambda s: _with_signature(sign(s, moodle_claims()), lambda g: g + "\n"), "not-a-jwt"),
    ("not base64url", lambda s: _with_signature(sign(s, moodle_claims()), lambda g: g[:-4] + "!!!!"), "not-a-jwt"),
    ("a length no base64 has", lambda s: _with_signature(sign(s, moodle_claims()), lambda g: g + "AAA"), "not-a-jwt"),
    ("one byte too many", lambda s: _with_signature(sign(s, moodle_claims()), lambda g: g + "A"), "bad-signature"),
    ("non-canonical last character", lambda s: _with_signature(sign(s, moodle_claims()), _non_canonical), "not-a-jwt"),
    ("non-ASCII", lambda s: _with_signature(sign(s, moodle_claims()), lambda g: g[:-1] + "é"), "not-a-jwt"),
    ("empty", lambda s: _with_signature(sign(s, moodle_claims()), lambda g: ""), "bad-signature"),
    ("too short", lambda s: _with_signature(sign(s, moodle_claims()), lambda g: g[:-2]), "bad-signature"),
    ("too long", lambda s: _with_signature(sign(s, moodle_claims()), lambda g: g + "AAAA"), "bad-signature"),
    ("of another payload", lambda s: _with_signature(sign(s, moodle_claims()), lambda g: sign(s, moodle_claims(sub="1")).split(".")[2]), "bad-signature"),
    ("payload one character off", lambda s: _one_character_off(sign(s, moodle_claims())), "bad-signature"),
    ("header and payload swapped", lambda s: ".".join([*reversed(sign(s, moodle_claims()).split(".")[:2]), sign(s, moodle_claims()).split(".")[2]]), "alg-not-allowed"),
    ("by another key", lambda s: _by_hand(Signer(pooled_key(7), s.kid), {"alg": "RS256", "kid": s.kid}, moodle_claims()), "bad-signature"),
    ("crit names an extension", lambda s: _by_hand(s, {"alg": "RS256", "kid": s.kid, "crit": ["exp"], "exp": 1}, moodle_claims()), "not-a-jwt"),
    ("crit not a list", lambda s: _by_hand(s, {"alg": "RS256", "kid": s.kid, "crit": "b64", "b64": True}, moodle_claims()), "not-a-jwt"),
    ("b64 false", lambda s: _by_hand(s, {"alg": "RS256", "kid": s.kid, "crit": ["b64"], "b64": False}, moodle_claims()), "not-a-jwt"),
]  # fmt: skip

CLAIM_TYPES: list[tuple[str, dict[str, Any], str]] = [
    ("exp not a number", {"exp": "soon"}, "not-a-jwt"),
    ("exp a numeric string", {"exp": FromNow(60, text=True)}, "not-a-jwt"),  # PyJWT took it
    ("exp true", {"exp": True}, "not-a-jwt"),  # PyJWT read 1: "expired"
    ("exp null", {"exp": None}, "no-exp"),
    ("exp a list", {"exp": [FromNow(60)]}, "not-a-jwt"),
    ("iat a string", {"iat": FromNow(0, text=True)}, "not-a-jwt"),
    ("iat false", {"iat": False}, "not-a-jwt"),
    ("nbf a string", {"nbf": "now"}, "not-a-jwt"),
    ("nbf beyond the leeway", {"nbf": FromNow(120)}, "issued-in-future"),
    ("issued beyond the leeway", {"iat": FromNow(120)}, "issued-in-future"),
    ("expired beyond the leeway", {"exp": FromNow(-61)}, "expired"),
    (
        "issued in the future and expired",
        {"iat": FromNow(120), "exp": 1},
        "issued-in-future",
    ),
    ("expired and from another issuer", {"exp": 1, "iss": "https://evil.example"}, "expired"),
    ("iss not a string", {"iss": ["https://moodle.example.org"]}, "wrong-iss"),
    ("wrong iss and wrong aud", {"iss": "https://evil.example", "aud": "other"}, "wrong-iss"),
    ("aud list without the client", {"aud": ["another-tool", "a-third"]}, "wrong-aud"),
    ("aud list with a non-string", {"aud": [CLIENT, 7], "azp": CLIENT}, "wrong-aud"),
    ("aud a number", {"aud": 7}, "wrong-aud"),
    ("aud an object", {"aud": {CLIENT: True}}, "wrong-aud"),
    ("aud empty", {"aud": ""}, "no-aud"),
    ("aud an empty list", {"aud": []}, "no-aud"),
    ("no iss", {"iss": DROP}, "no-iss"),
    ("no aud and no exp", {"aud": DROP, "exp": DROP}, "no-exp"),
    ("sub not a string", {"sub": 7}, "not-a-jwt"),
    ("jti not a string", {"jti": 7}, "not-a-jwt"),
]


@pytest.mark.parametrize(
    ("case", "make", "reason"), SIGNATURE_SEGMENTS, ids=[r[0] for r in SIGNATURE_SEGMENTS]
)
def test_signature_segment_is_strict_base64url_and_must_verify(
    setup: tuple[Signer, Platform, KeySets], case: str, make: Callable[[Signer], str], reason: str
) -> None:
    signer, platform, keys = setup
    assert refused(make(signer), platform, keys) == reason


@pytest.mark.parametrize(
    ("case", "changes", "reason"), CLAIM_TYPES, ids=[r[0] for r in CLAIM_TYPES]
)
def test_registered_claims_are_checked_in_pyjwts_order(
    setup: tuple[Signer, Platform, KeySets], case: str, changes: dict[str, Any], reason: str
) -> None:
    signer, platform, keys = setup
    token = _by_hand(signer, {"alg": "RS256", "kid": signer.kid}, moodle_claims(**changes))
    assert refused(token, platform, keys) == reason


@pytest.mark.parametrize(
    "changes",
    [
        {"iat": FromNow(30)},  # the platform's clock half a minute ahead
        {"nbf": FromNow(30)},
        {"exp": FromNow(-30)},  # expired, but within the leeway
        {"exp": FromNow(60.5), "iat": FromNow(0.25)},  # NumericDates may have fractions
        {"aud": [CLIENT, "other"], "azp": CLIENT},
        {"aud": [CLIENT]},
        {"jti": "j-1"},
    ],
)
def test_claims_within_the_rules_are_accepted(
    setup: tuple[Signer, Platform, KeySets], changes: dict[str, Any]
) -> None:
    signer, platform, keys = setup
    verify_id_token(sign(signer, moodle_claims(**changes)), platform, keys, leeway=60)


def test_crit_naming_a_present_b64_true_is_accepted_as_pyjwt_did(
    setup: tuple[Signer, Platform, KeySets],
) -> None:
    signer, platform, keys = setup
    header = {"alg": "RS256", "kid": signer.kid, "crit": ["b64"], "b64": True}
    verify_id_token(_by_hand(signer, header, moodle_claims()), platform, keys, leeway=60)


def test_the_callers_reading_is_used_and_must_be_of_this_token(
    setup: tuple[Signer, Platform, KeySets],
) -> None:
    signer, platform, keys = setup
    token = sign(signer, moodle_claims())
    unverified = read_unverified(token)
    launch = verify_id_token(token, platform, keys, leeway=60, unverified=unverified)
    assert launch.claims is unverified.claims  # not parsed again
    other = read_unverified(sign(signer, moodle_claims(sub="1")))
    with pytest.raises(ValueError, match="another token"):
        verify_id_token(token, platform, keys, leeway=60, unverified=other)


@pytest.mark.parametrize(
    "marks", [{"alg": "RS512"}, {"alg": "PS256"}, {"use": "enc"}, {"kty": "EC"}, {"kid": ""}]
)
def test_a_key_marked_for_another_algorithm_or_use_is_not_used(
    keyset: KeysetServer, marks: dict[str, str]
) -> None:
    signer = new_signer(keyset)
    keyset.keys[-1].update(marks)
    platform = Platform(ISSUER, CLIENT, keyset.url)
    assert refused(sign(signer, moodle_claims()), platform, KeySets(fetch)) == "unknown-kid"


def test_a_key_without_alg_or_use_is_used(keyset: KeysetServer) -> None:
    signer = new_signer(keyset)
    del keyset.keys[-1]["alg"], keyset.keys[-1]["use"]
    platform = Platform(ISSUER, CLIENT, keyset.url)
    verify_id_token(sign(signer, moodle_claims()), platform, KeySets(fetch), leeway=60)


@pytest.mark.parametrize(
    "material",
    [{"n": None}, {"n": 12345}, {"e": "AA"}, {"n": "AQAB", "e": "AQAB"}, {"n": "é"}],
    ids=["n missing", "n a number", "e zero", "n too small", "n not ASCII"],
)
def test_bad_key_material_makes_the_keyset_unavailable(
    keyset: KeysetServer, material: dict[str, Any]
) -> None:
    signer = new_signer(keyset)
    for name, value in material.items():
        if value is None:
            del keyset.keys[-1][name]
        else:
            keyset.keys[-1][name] = value
    platform = Platform(ISSUER, CLIENT, keyset.url)
    assert refused(sign(signer, moodle_claims()), platform, KeySets(fetch)) == "keyset-unavailable"
