"""Malformed id_token headers and segments: each a 400 naming its reason, never a 500.

The launch reads the token's header and claims once, unverified, to find the platform and
key; lti/idtoken.py then verifies that same reading. These are the cases where the two meet.
"""

from __future__ import annotations

import base64
import json
import logging
from collections.abc import Callable
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding

from tests.lti_launch.conftest import Tool, launch
from tests.lti_launch.platforms import MoodleLike
from tests.lti_launch.test_refusals import refused


@pytest.fixture(autouse=True)
def _log(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="capacity_lti.web")


def _segment(value: object) -> str:
    return base64.urlsafe_b64encode(json.dumps(value).encode()).rstrip(b"=").decode()


def _signed(moodle: MoodleLike, header: object, claims: dict[str, Any]) -> str:
    """RS256 by hand: PyJWT would refuse to encode some of these headers."""
    signing_input = f"{_segment(header)}.{_segment(claims)}"
    signature = moodle.key.sign(signing_input.encode(), padding.PKCS1v15(), hashes.SHA256())
    return signing_input + "." + base64.urlsafe_b64encode(signature).rstrip(b"=").decode()


def _with_header(moodle: MoodleLike, header: object) -> Callable[[dict[str, Any]], str]:
    return lambda claims: _signed(moodle, header, claims)


def _standard_alphabet(moodle: MoodleLike) -> Callable[[dict[str, Any]], str]:
    """The claims segment in standard base64 ('+', '/'), not base64url ('-', '_')."""

    def sign(claims: dict[str, Any]) -> str:
        claims = {**claims, "https://example.org/x": "?>?>~~~"}  # encodes with '-' or '_'
        header, body, signature = jwt.encode(
            claims, moodle.key, algorithm="RS256", headers={"kid": moodle.kid}
        ).split(".")
        standard = body.replace("-", "+").replace("_", "/")
        assert standard != body
        return ".".join([header, standard, signature])

    return sign


@pytest.mark.parametrize(
    ("case", "reason"),
    [
        ("kid-not-a-string", "no-kid"),
        ("unsupported-crit", "not-a-jwt"),
        ("header-not-an-object", "not-a-jwt"),
        ("standard-base64-claims", "not-a-jwt"),
        ("four-segments", "not-a-jwt"),
    ],
)
def test_malformed_tokens_are_refused_by_reason(
    tool: Tool, moodle: MoodleLike, caplog: pytest.LogCaptureFixture, case: str, reason: str
) -> None:
    signers: dict[str, Callable[[dict[str, Any]], str]] = {
        "kid-not-a-string": _with_header(moodle, {"alg": "RS256", "kid": 5}),
        "unsupported-crit": _with_header(
            moodle, {"alg": "RS256", "kid": moodle.kid, "crit": ["exp"], "exp": 1}
        ),
        "header-not-an-object": _with_header(moodle, ["RS256", moodle.kid]),
        "standard-base64-claims": _standard_alphabet(moodle),
        "four-segments": lambda claims: (
            jwt.encode(claims, moodle.key, algorithm="RS256", headers={"kid": moodle.kid}) + ".c2ln"
        ),
    }
    moodle.sign = signers[case]
    refused(launch(tool, moodle).result, 400, reason, caplog)
