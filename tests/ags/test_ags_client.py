"""The AGS client's URLs, scopes and answers, against the Moodle-shaped LMS."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import requests

from capacity_lti.errors import ServiceError
from capacity_lti.lti.ags import AgsClient, GradeTarget, Score, scores_url
from capacity_lti.lti.service_token import ServiceTokens, TokenEndpoint, retry_after
from capacity_lti.storage import Database
from capacity_lti.storage.keys import KeyStore
from tests.ags.fake_lms import LINEITEM_READ, SCORE, FakeMoodle

STAMP = datetime(2026, 12, 1, 9, 30, 0, 123456, tzinfo=UTC)


@pytest.mark.parametrize(
    ("lineitem", "expected"),
    [
        (
            "https://moodle.example/mod/lti/services.php/2/lineitems/5/lineitem?type_id=1",
            "https://moodle.example/mod/lti/services.php/2/lineitems/5/lineitem/scores?type_id=1",
        ),
        (
            "https://canvas.example/api/lti/courses/1/line_items/42/",
            "https://canvas.example/api/lti/courses/1/line_items/42/scores",
        ),
        ("https://lms.example/li/7#top", "https://lms.example/li/7/scores"),
    ],
)
def test_scores_go_under_the_line_items_path(lineitem: str, expected: str) -> None:
    assert scores_url(lineitem) == expected


def test_the_score_document_keeps_its_timestamp() -> None:
    score = Score("u1", 3.0, 4.0, "Completed", "FullyGraded", STAMP, comment="well done")
    assert score.body() == (
        b'{"userId":"u1","scoreGiven":3.0,"scoreMaximum":4.0,"activityProgress":"Completed",'
        b'"gradingProgress":"FullyGraded","timestamp":"2026-12-01T09:30:00.123456+00:00",'
        b'"comment":"well done"}'
    )


@pytest.mark.parametrize(
    ("header", "seconds"),
    [("120", 120.0), (None, None), ("soon", None), ("Thu, 01 Jan 1970 00:01:40 GMT", 60.0)],
)
def test_retry_after_headers(header: str | None, seconds: float | None) -> None:
    assert retry_after(header, 40.0) == seconds


pytestmark_db = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


def client(db: Database) -> AgsClient:
    ring = KeyStore(db, timedelta(hours=1)).ring()
    return AgsClient(ServiceTokens(lambda: ring.signing, timeout=5), timeout=5)


def target(lms: FakeMoodle, scopes: frozenset[str], **urls: str) -> GradeTarget:
    return GradeTarget(
        endpoint=TokenEndpoint(lms.token_url, lms.client_id),
        scopes=scopes,
        resource_link_id="rl-42",
        lineitem=urls.get("lineitem"),
        lineitems=urls.get("lineitems"),
        label="Climate action",
    )


@pytestmark_db
def test_moodle_refuses_scores_appended_after_the_query(tool_db: Database, lms: FakeMoodle) -> None:
    """The fake tells the two URLs apart, as Moodle does: the naive one is refused."""
    url = lms.lineitem_url(lms.add_lineitem("Climate action", 10, "rl-42"))
    lms.enrolled.add("u1")
    ags = client(tool_db)
    token = ags._tokens.token(ags.http, TokenEndpoint(lms.token_url, lms.client_id), [SCORE])
    naive = requests.post(
        url + "/scores",
        data=Score("u1", 1, 2, "Completed", "FullyGraded", STAMP).body(),
        headers={
            "Authorization": f"Bearer {token}",
            "Content-Type": "application/vnd.ims.lis.v1.score+json",
        },
        timeout=5,
    )
    assert (naive.status_code, naive.json()) == (400, {"message": "Incorrect type_id"})
    ags.post_score(
        target(lms, frozenset({SCORE}), lineitem=url),
        url,
        Score("u1", 1, 2, "Completed", "FullyGraded", STAMP),
    )
    assert lms.landed == [(1, "u1", STAMP.isoformat(), 5.0)]


@pytestmark_db
def test_an_older_score_is_refused_by_timestamp(tool_db: Database, lms: FakeMoodle) -> None:
    url = lms.lineitem_url(lms.add_lineitem("Climate action", 10, "rl-42"))
    lms.enrolled.add("u1")
    ags, where = client(tool_db), target(lms, frozenset({SCORE}), lineitem=url)
    ags.post_score(where, url, Score("u1", 2, 2, "Completed", "FullyGraded", STAMP))
    ags.post_score(where, url, Score("u1", 2, 2, "Completed", "FullyGraded", STAMP))  # a resend
    with pytest.raises(ServiceError) as caught:
        ags.post_score(
            where, url, Score("u1", 1, 2, "Completed", "FullyGraded", STAMP - timedelta(seconds=1))
        )
    assert caught.value.message == f"score for u1 to {scores_url(url)}: HTTP 409: oldtimestamp"
    assert not caught.value.retryable
    assert [entry[3] for entry in lms.landed] == [10.0]


@pytestmark_db
def test_without_the_score_scope_nothing_is_sent(tool_db: Database, lms: FakeMoodle) -> None:
    url = lms.lineitem_url(lms.add_lineitem("Climate action", 10, "rl-42"))
    with pytest.raises(ServiceError) as caught:
        client(tool_db).post_score(
            target(lms, frozenset({LINEITEM_READ}), lineitem=url),
            url,
            Score("u1", 1, 2, "Completed", "FullyGraded", STAMP),
        )
    assert caught.value.message == "the platform did not grant the score scope for link rl-42"
    assert not caught.value.retryable
    assert lms.token_requests == 0


@pytestmark_db
def test_read_only_line_items_cannot_be_created(tool_db: Database, lms: FakeMoodle) -> None:
    lms.add_lineitem("other", 10, "rl-1")
    where = target(lms, frozenset({SCORE, LINEITEM_READ}), lineitems=lms.lineitems_url())
    with pytest.raises(ServiceError) as caught:
        client(tool_db).lineitem_for(where, 10)
    assert caught.value.message == (
        "link rl-42 has no line item and the platform did not grant the lineitem scope to create one"
    )
    assert lms.requests["GET lineitems"] == 1
    assert lms.created == []


@pytestmark_db
def test_a_link_without_grades_is_refused_for_good(tool_db: Database, lms: FakeMoodle) -> None:
    with pytest.raises(ServiceError) as caught:
        client(tool_db).lineitem_for(target(lms, frozenset({SCORE})), 10)
    assert caught.value.message == (
        "link rl-42 has no AGS line item or line items URL (the launch did not offer grades)"
    )
    assert not caught.value.retryable


@pytestmark_db
def test_a_line_item_list_that_is_not_an_array_is_retried(
    tool_db: Database, lms: FakeMoodle, tool_jwks: str
) -> None:
    where = target(lms, frozenset({SCORE, LINEITEM_READ}), lineitems=tool_jwks)
    with pytest.raises(ServiceError) as caught:
        client(tool_db).lineitem_for(where, 10)
    assert caught.value.message == f"line items at {tool_jwks}: not a JSON array"
    assert caught.value.retryable
