"""The NRPS client against the Moodle-shaped LMS over HTTP: tokens, scopes, pages, failures."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
import requests
from cryptography.hazmat.primitives import serialization
from pylti1p3.exception import LtiServiceException
from pylti1p3.names_roles import NamesRolesProvisioningService
from pylti1p3.registration import Registration
from pylti1p3.service_connector import ServiceConnector

from capacity_lti.errors import ServiceError
from capacity_lti.lti import nrps
from capacity_lti.lti.nrps import MEMBERSHIP_TYPE, Member, NrpsClient, next_page
from capacity_lti.lti.service_token import ServiceTokens, TokenEndpoint
from capacity_lti.storage import Database
from capacity_lti.storage.keys import KeyStore, list_keys
from tests.ags.conftest import platform_pems, settings, tool_db, tool_jwks  # noqa: F401
from tests.ags.fake_lms import SCORE
from tests.instructor.fake_nrps import LIS, NRPS_SCOPE, NrpsMoodle, Running, person


@pytest.fixture
def lms(platform_pems: tuple[str, str], tool_jwks: str) -> Iterator[NrpsMoodle]:  # noqa: F811
    running = Running(NrpsMoodle(*platform_pems, tool_jwks_url=tool_jwks))
    running.lms.members[2] = [person(f"u{i}", f"Person{i} Test") for i in range(5)]
    running.lms.members[2][0] = person("Teacher-A", "Tove Teacher", role="Instructor")
    yield running.lms
    running.stop()


@pytest.fixture
def tokens(tool_db: Database) -> ServiceTokens:  # noqa: F811
    return ServiceTokens(KeyStore(tool_db, timedelta(hours=1)).signing, timeout=5)


@pytest.fixture
def client(tokens: ServiceTokens) -> Iterator[NrpsClient]:
    found = NrpsClient(tokens, timeout=5)
    yield found
    found.close()


def endpoint(lms: NrpsMoodle) -> TokenEndpoint:
    return TokenEndpoint(lms.token_url, lms.client_id)


def test_every_page_is_read_with_its_url_kept_byte_for_byte(
    lms: NrpsMoodle, client: NrpsClient, tokens: ServiceTokens
) -> None:
    roster = client.roster(endpoint(lms), lms.memberships_url(2))
    assert roster.pages == 3
    assert (roster.context_id, roster.context_title) == ("2", "Course 2")
    assert roster.members[0] == Member(
        "Teacher-A", "Tove Teacher", "tove@example.org", (LIS + "Instructor",), "Active"
    )
    assert [m.user_id for m in roster.members] == ["Teacher-A", "u1", "u2", "u3", "u4"]
    assert [m.learner for m in roster.members] == [False, True, True, True, True]
    assert lms.token_requests == 1  # one token for all pages
    assert {accept for _, accept in lms.roster_requests} == {MEMBERSHIP_TYPE}
    # What PyLTI1p3 2.0.0 would send (it lowercases the Link header) is refused by the LMS:
    token = tokens.token(client.http, endpoint(lms), [NRPS_SCOPE])
    auth = {"Authorization": f"Bearer {token}"}
    first = requests.get(lms.memberships_url(2), headers=auth, timeout=5)
    following = first.links["next"]["url"]
    assert "?limit=2&Cursor=" in following
    assert requests.get(following.lower(), headers=auth, timeout=5).status_code == 404
    path, _, cursor = following.partition("Cursor=")
    wrong = requests.get(path + "Cursor=" + cursor.lower(), headers=auth, timeout=5)
    assert (wrong.status_code, wrong.json()) == (400, {"message": "Invalid cursor"})


def test_the_lms_checks_the_bearer_token_and_its_scope(
    lms: NrpsMoodle, client: NrpsClient, tokens: ServiceTokens
) -> None:
    url = lms.memberships_url(2)
    assert requests.get(url, timeout=5).status_code == 401
    scores_only = tokens.token(client.http, endpoint(lms), [SCORE])
    refused = requests.get(url, headers={"Authorization": f"Bearer {scores_only}"}, timeout=5)
    assert (refused.status_code, refused.json()) == (403, {"message": "Access denied: scope"})


def test_a_platform_that_grants_no_roster_scope_is_reported(
    lms: NrpsMoodle, client: NrpsClient
) -> None:
    lms.granted = frozenset({SCORE})
    with pytest.raises(ServiceError) as caught:
        client.roster(endpoint(lms), lms.memberships_url(2))
    assert caught.value.message == (
        f"token request to {lms.token_url}: HTTP 400: invalid_scope: no scope granted "
        "(check the tool's registration on the platform)"
    )


def test_a_revoked_token_is_replaced_once(lms: NrpsMoodle, client: NrpsClient) -> None:
    client.roster(endpoint(lms), lms.memberships_url(2))
    lms.revoked.update(lms.issued)
    assert len(client.roster(endpoint(lms), lms.memberships_url(2)).members) == 5
    assert lms.token_requests == 2


def test_refusals_and_failures_say_what_the_lms_said(lms: NrpsMoodle, client: NrpsClient) -> None:
    url = lms.memberships_url(2)
    lms.fail_roster = [401, 401]
    with pytest.raises(ServiceError) as refused:
        client.roster(endpoint(lms), url)
    assert refused.value.message == (
        f"course roster at {url}: HTTP 401: roster unavailable (a fresh token was refused too: "
        "check that the tool's registration on the platform allows Names and Role Provisioning)"
    )
    assert refused.value.retryable is False
    lms.fail_roster = [503]
    with pytest.raises(ServiceError) as failed:
        client.roster(endpoint(lms), url)
    assert failed.value.message == f"course roster at {url}: HTTP 503: roster unavailable"
    assert (failed.value.retryable, failed.value.status) == (True, 503)


def test_the_page_count_is_bounded(
    lms: NrpsMoodle, client: NrpsClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(nrps, "MAX_PAGES", 2)
    url = lms.memberships_url(2)
    with pytest.raises(ServiceError) as caught:
        client.roster(endpoint(lms), url)
    assert caught.value.message == (
        f"course roster at {url}: more than 2 pages; the tool reads no more"
    )


class Odd:
    """An LMS answering every roster request with `answer` (status, body, headers)."""

    def __init__(self) -> None:
        self.answer: tuple[int, Any, dict[str, str]] = (200, {"members": []}, {})
        self.hits = 0
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def do_GET(self) -> None:
                outer.hits += 1
                status, body, headers = outer.answer
                data = json.dumps(body).encode()
                self.send_response(status)
                for name, value in {"Content-Type": MEMBERSHIP_TYPE, **headers}.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/CourseSection/2/memberships"
        self.thread = threading.Thread(target=self.server.serve_forever, args=(0.05,))
        self.thread.start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(5)


@pytest.fixture
def odd() -> Iterator[Odd]:
    server = Odd()
    yield server
    server.stop()


def test_a_next_page_elsewhere_is_not_sent_the_token(
    lms: NrpsMoodle, client: NrpsClient, odd: Odd
) -> None:
    elsewhere = odd.url.replace("127.0.0.1", "localhost")
    odd.answer = (200, {"members": []}, {"Link": f'<{elsewhere}?p=2>; rel="next"'})
    with pytest.raises(ServiceError) as caught:
        client.roster(endpoint(lms), odd.url)
    assert caught.value.message == (
        f"course roster at {odd.url}: the next page {elsewhere}?p=2 is on another site; the "
        "tool does not send the platform's token there"
    )
    assert odd.hits == 1


def test_a_page_linking_to_itself_ends_the_roster(
    lms: NrpsMoodle, client: NrpsClient, odd: Odd
) -> None:
    member = {"user_id": "x", "roles": ["Learner"]}
    odd.answer = (
        200,
        {"members": [member, {"name": "no id"}]},
        {"Link": f'<{odd.url}>; rel="next"'},
    )
    roster = client.roster(endpoint(lms), odd.url)
    assert (roster.pages, roster.members) == (1, (Member("x", "", "", ("Learner",), "Active"),))
    assert roster.members[0].learner


def test_an_answer_that_is_no_membership_container_is_refused(
    lms: NrpsMoodle, client: NrpsClient, odd: Odd
) -> None:
    odd.answer = (200, [{"user_id": "x"}], {})
    with pytest.raises(ServiceError) as caught:
        client.roster(endpoint(lms), odd.url)
    assert caught.value.message == (
        f"course roster at {odd.url}: the answer is not an NRPS membership container "
        "(a JSON object with a members list)"
    )


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (
            '<https://lms.example/CourseSection/2/M?Cursor=AbC>; rel="next"',
            "https://lms.example/CourseSection/2/M?Cursor=AbC",
        ),
        (
            '<https://a.example/P1>; rel="prev", <https://a.example/P3>; rel="next"',
            "https://a.example/P3",
        ),
        (
            "<https://a.example/Last>; rel=last, <https://a.example/Next>; REL=Next",
            "https://a.example/Next",
        ),
        (
            '<?Page=2&X=y,z>; title="a; b"; rel="prev next"',
            "https://lms.example/Members?Page=2&X=y,z",
        ),
        ('<https://a.example/P2>; rel="nextish"', None),
        ("", None),
        (None, None),
    ],
)
def test_next_page_links(header: str | None, expected: str | None) -> None:
    assert next_page(header, "https://lms.example/Members") == expected


def test_pylti1p3_loses_the_next_page_where_this_client_does_not(
    lms: NrpsMoodle,
    client: NrpsClient,
    tool_db: Database,  # noqa: F811
) -> None:
    """The measured PyLTI1p3 2.0.0 defect, against the same LMS: it asks for a lowercased URL."""
    key = next(k for k in list_keys(tool_db) if k.retired_at is None)
    public = (
        serialization.load_pem_private_key(key.private_pem.encode(), password=None)
        .public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    registration = (
        Registration()
        .set_client_id(lms.client_id)
        .set_auth_token_url(lms.token_url)
        .set_tool_private_key(key.private_pem)
        .set_tool_public_key(public)
    )
    url = lms.memberships_url(2)
    theirs = NamesRolesProvisioningService(
        ServiceConnector(registration), {"context_memberships_url": url}
    )
    with pytest.raises(LtiServiceException) as caught:
        theirs.get_members()
    asked = str(caught.value)  # it asked for page 2 at the lowercased path, cursor lowercased
    assert asked.startswith(f"HTTP response [{url.lower()}?limit=2&cursor=")
    assert "]: 404 - " in asked
    assert [u for u, _ in lms.roster_requests] == [url]  # the lowercased path is no roster URL
    assert len(client.roster(endpoint(lms), url).members) == 5
