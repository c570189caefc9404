"""Client-credentials tokens with a signed JWT assertion, against the Moodle-shaped LMS."""

from __future__ import annotations

import threading
from datetime import timedelta

import jwt
import pytest
import requests
from cryptography.hazmat.primitives import serialization

from capacity_lti.errors import ServiceError
from capacity_lti.lti.keys import SigningKey, generate_key
from capacity_lti.lti.service_token import ServiceTokens, TokenEndpoint
from capacity_lti.storage import Database
from capacity_lti.storage.keys import KeyStore
from tests.ags.fake_lms import LINEITEM, SCORE, FakeMoodle

# Tokens do not depend on the database: the tool keys come from SQLite here.
pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


class Ticks:
    """Monotonic seconds for the token cache, moved on by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def tokens_for(db: Database, clock: Ticks | None = None) -> ServiceTokens:
    ring = KeyStore(db, timedelta(hours=1)).ring()
    if clock is None:
        return ServiceTokens(lambda: ring.signing, timeout=5)
    return ServiceTokens(lambda: ring.signing, timeout=5, clock=clock)


def test_the_assertion_is_what_the_security_framework_asks(
    tool_db: Database, lms: FakeMoodle
) -> None:
    ring = KeyStore(tool_db, timedelta(hours=1)).ring()
    tokens = ServiceTokens(lambda: ring.signing, timeout=5)
    endpoint = TokenEndpoint(lms.token_url, lms.client_id)
    first, second = tokens.assertion(endpoint), tokens.assertion(endpoint)
    assert jwt.get_unverified_header(first) == {
        "alg": "RS256",
        "typ": "JWT",
        "kid": ring.signing.kid,
    }
    public = jwt.PyJWK(ring.jwks()["keys"][0]).key
    claims = jwt.decode(first, public, algorithms=["RS256"], audience=lms.token_url)
    assert claims["iss"] == claims["sub"] == lms.client_id
    assert claims["exp"] - claims["iat"] == 305  # issued 5 s back, valid 300 s
    assert claims["jti"] != jwt.decode(second, options={"verify_signature": False})["jti"]
    other = TokenEndpoint(lms.token_url, lms.client_id, audience="https://moodle.example/aud")
    assert jwt.decode(tokens.assertion(other), options={"verify_signature": False})["aud"] == (
        "https://moodle.example/aud"
    )


def test_one_token_until_shortly_before_it_expires(tool_db: Database, lms: FakeMoodle) -> None:
    clock = Ticks()
    tokens = tokens_for(tool_db, clock)
    endpoint = TokenEndpoint(lms.token_url, lms.client_id)
    with requests.Session() as http:
        token = tokens.token(http, endpoint, [SCORE])
        clock.now += 3539  # lti1p3platform's tokens live 3600 s; renewed 60 s early
        assert tokens.token(http, endpoint, [SCORE]) == token
        assert tokens.token(http, endpoint, [SCORE, LINEITEM]) != token  # other scopes, other token
        assert lms.token_requests == 2
        clock.now += 1
        assert tokens.token(http, endpoint, [SCORE]) != token
        assert lms.token_requests == 3


def test_threads_share_one_fetch(tool_db: Database, lms: FakeMoodle) -> None:
    tokens = tokens_for(tool_db)
    endpoint = TokenEndpoint(lms.token_url, lms.client_id)
    got: list[str] = []

    def fetch() -> None:
        with requests.Session() as http:
            got.append(tokens.token(http, endpoint, [SCORE]))

    threads = [threading.Thread(target=fetch) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert len(got) == 8
    assert len(set(got)) == 1
    assert lms.token_requests == 1


def test_an_assertion_signed_with_an_unpublished_key_is_refused(
    tool_db: Database, lms: FakeMoodle
) -> None:
    stranger = generate_key(KeyStore(tool_db, timedelta(hours=1)).ring().published[0].created_at)
    loaded = serialization.load_pem_private_key(stranger.private_pem.encode(), password=None)
    tokens = ServiceTokens(lambda: SigningKey(stranger.kid, loaded), timeout=5)  # type: ignore[arg-type]
    with requests.Session() as http, pytest.raises(ServiceError) as caught:
        tokens.token(http, TokenEndpoint(lms.token_url, lms.client_id), [SCORE])
    assert caught.value.message == (
        f"token request to {lms.token_url}: HTTP 400: invalid_client: Unable to find public key "
        "(check the tool's registration on the platform)"
    )
    assert caught.value.retryable
    assert caught.value.status == 400


def test_a_wrong_audience_is_refused(tool_db: Database, lms: FakeMoodle) -> None:
    tokens = tokens_for(tool_db)
    endpoint = TokenEndpoint(lms.token_url, lms.client_id, audience="https://elsewhere.example")
    with requests.Session() as http, pytest.raises(ServiceError) as caught:
        tokens.token(http, endpoint, [SCORE])
    assert caught.value.message == (
        f"token request to {lms.token_url}: HTTP 400: invalid_client: aud must be {lms.token_url} "
        "(check the tool's registration on the platform)"
    )


def test_an_unreachable_token_endpoint_is_worth_retrying(tool_db: Database) -> None:
    tokens = tokens_for(tool_db)
    url = "http://127.0.0.1:9/mod/lti/token.php"
    with requests.Session() as http, pytest.raises(ServiceError) as caught:
        tokens.token(http, TokenEndpoint(url, "c"), [SCORE])
    assert caught.value.message == f"token request to {url}: cannot reach {url}: ConnectionError"
    assert caught.value.retryable
    assert caught.value.status is None
