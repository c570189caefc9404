"""The instructor pages over real HTTP: launches from Moodle-like platforms, rosters from NRPS.

No request carries a cookie (as in a cross-site LMS frame): the session token travels in
the links and forms the pages give.
"""

from __future__ import annotations

import html
import threading
from collections.abc import Callable

import jwt
import requests
from sqlalchemy import func, select

from capacity_lti.content import Programme
from capacity_lti.storage.progress import record_completion
from capacity_lti.storage.tables import Award, Completion, Learner, ScoreOutbox
from tests.conftest import rotate_keys
from tests.instructor.conftest import Site, attendance_form, page, post, roster_table
from tests.instructor.fake_nrps import person
from tests.lti_launch.conftest import Tool

FORBIDDEN = (
    "This page is for the course's instructors. Your role in this course does not give access "
    "to it."
)


def learner_id(tool: Tool, platform_id: int, sub: str) -> int:
    with tool.db().session() as session:
        found = session.scalar(
            select(Learner.id).where(Learner.platform_id == platform_id, Learner.subject == sub)
        )
        assert found is not None, sub
        return found


def complete(tool: Tool, programme: Programme, learner: int, *items: str) -> None:
    with tool.db().session() as session:
        for item in items:
            record_completion(
                session,
                learner_id=learner,
                programme=programme,
                item_id=item,
                resource_link_id=None,
            )


def count(tool: Tool, table: type, **where: object) -> int:
    with tool.db().session() as session:
        query = select(func.count()).select_from(table)
        for name, value in where.items():
            query = query.where(getattr(table, name) == value)
        return int(session.scalar(query) or 0)


def test_roster_from_nrps_pages_with_each_learners_progress(
    tool: Tool, site: Site, programme: Programme
) -> None:
    site.lms.members[2] = [
        person("teacher-1", "Tove Teacher", role="Instructor"),
        person("ana", "Ana Souza"),
        person("ben", "Ben Okafor"),
        person("cleo", "Cleo Marin", status="Inactive"),
        person("dan", "Dan Gone", status="Deleted"),
    ]
    site.launch(tool, "ana", "Ana Souza")
    complete(tool, programme, learner_id(tool, site.platform_id, "ana"), "lighting-beginner")
    teacher = site.launch(tool, "teacher-1", "Tove Teacher", instructor=True)

    home = page(tool, "/home", teacher)
    assert home.status_code == 200
    assert "Course roster and event attendance" in home.text
    shown = page(tool, "/instructor/", teacher)
    assert shown.status_code == 200, shown.text
    assert "Learners as your LMS lists them for this course" in shown.text
    assert roster_table(shown.text) == [
        ["Ana Souza ana@example.org", "1 of 2", "0 of 1", "2 of 7"],
        ["Ben Okafor ben@example.org Has not opened the tool yet", "0 of 2", "0 of 1", "0 of 7"],
        [
            "Cleo Marin cleo@example.org Inactive in the course Has not opened the tool yet",
            "0 of 2",
            "0 of 1",
            "0 of 7",
        ],
    ]
    members = site.lms.memberships_url(2)
    urls = [url for url, _ in site.lms.roster_requests]
    assert urls[0] == members
    assert len(urls) == 3  # 5 members, 2 per page
    for following in urls[1:]:
        assert following.startswith(members + "?limit=2&Cursor=")
        assert following != following.lower()  # the mixed case reached the LMS as sent
    assert {accept for _, accept in site.lms.roster_requests} == {
        "application/vnd.ims.lti-nrps.v2.membershipcontainer+json"
    }
    tokens = site.lms.token_requests
    again = page(tool, "/instructor/", teacher)
    assert roster_table(again.text) == roster_table(shown.text)
    assert site.lms.token_requests == tokens  # the NRPS token is reused
    with tool.db().session() as session:  # the members who never launched now have rows
        subjects = session.scalars(
            select(Learner.subject)
            .where(Learner.platform_id == site.platform_id)
            .order_by(Learner.subject)
        ).all()
    assert subjects == ["ana", "ben", "cleo", "teacher-1"]


def test_attendance_is_recorded_once_even_when_submitted_twice(
    tool: Tool, site: Site, programme: Programme
) -> None:
    site.lms.members[2] = [person("ana", "Ana Souza"), person("ben", "Ben Okafor")]
    site.launch(tool, "ana", "Ana Souza")
    ana = learner_id(tool, site.platform_id, "ana")
    complete(tool, programme, ana, "lighting-beginner", "lighting-advanced")
    teacher = site.launch(tool, "teacher-1", "Tove Teacher", instructor=True)
    event = page(tool, "/instructor/events/site-visit", teacher)
    assert event.status_code == 200, event.text
    ben = learner_id(tool, site.platform_id, "ben")  # known from NRPS only: made by the roster
    action, hidden, boxes = attendance_form(tool, event.text)
    assert action == tool.url + "/instructor/events/site-visit/attendance"
    assert boxes == {str(ana): "Ana Souza", str(ben): "Ben Okafor"}
    fields = {**hidden, "learner": [str(ana), str(ben)]}
    barrier = threading.Barrier(3)
    answers: list[int] = []

    def submit() -> None:
        barrier.wait()
        answers.append(post(tool, "/instructor/events/site-visit/attendance", fields).status_code)

    threads = [threading.Thread(target=submit) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert answers == [303, 303, 303]
    assert count(tool, Completion, item_id="site-visit") == 2
    with tool.db().session() as session:
        queued = session.execute(
            select(
                ScoreOutbox.learner_id, ScoreOutbox.score_given, ScoreOutbox.score_maximum
            ).order_by(ScoreOutbox.learner_id)
        ).all()
        awards = session.execute(
            select(Award.learner_id, Award.award_key).order_by(Award.award_key)
        ).all()
    assert [tuple(r) for r in queued] == [(ana, 7.0, 7.0), (ben, 3.0, 7.0)]
    assert [tuple(r) for r in awards] == [  # the two rules need the event: issued by attendance
        (ana, "module:lighting-advanced"),
        (ana, "module:lighting-beginner"),
        (ana, "rule:full-diploma"),
        (ana, "rule:officers-certificate"),
    ]

    last = post(tool, "/instructor/events/site-visit/attendance", fields)
    assert last.status_code == 303
    shown = requests.get(tool.url + last.headers["Location"], timeout=20)
    assert "Attendance recorded for 0 learners." in shown.text
    _, _, boxes = attendance_form(tool, shown.text)
    assert boxes == {str(ana): "Ana Souza (recorded)", str(ben): "Ben Okafor (recorded)"}
    assert count(tool, Completion, item_id="site-visit") == 2
    assert count(tool, ScoreOutbox) == 2
    roster = roster_table(page(tool, "/instructor/", teacher).text)
    assert [row[1:] for row in roster] == [
        ["2 of 2", "1 of 1", "7 of 7"],
        ["0 of 2", "1 of 1", "3 of 7"],
    ]


def test_after_keys_rotate_token_requests_are_signed_with_the_new_key(
    tool: Tool, site_factory: Callable[[], Site], database_url: str
) -> None:
    """Each LMS checks the tool's client assertion against the JWKS the tool serves (it fetches
    it once); the running tool signs with the rotated key, no restart."""
    before, after = site_factory(), site_factory()
    for one in (before, after):
        one.lms.members[2] = [person("ana", "Ana Souza")]
    teacher = before.launch(tool, "teacher-1", "Tove Teacher", instructor=True)
    assert [r[0] for r in roster_table(page(tool, "/instructor/", teacher).text)] == [
        "Ana Souza ana@example.org Has not opened the tool yet"
    ]
    new = rotate_keys(database_url)
    teacher = after.launch(tool, "teacher-2", "Tea Cher", instructor=True)
    assert [r[0] for r in roster_table(page(tool, "/instructor/", teacher).text)] == [
        "Ana Souza ana@example.org Has not opened the tool yet"
    ]
    [old_assertion] = before.lms.assertions
    [new_assertion] = after.lms.assertions
    served = {
        key.key_id: key
        for key in jwt.PyJWKSet.from_dict(
            requests.get(tool.url + "/.well-known/jwks.json", timeout=10).json()
        ).keys
    }
    old = jwt.get_unverified_header(old_assertion)["kid"]
    assert list(served) == [old, new]
    assert jwt.get_unverified_header(new_assertion)["kid"] == new
    claims = jwt.decode(
        new_assertion, served[new], algorithms=["RS256"], audience=after.lms.token_url
    )
    assert claims["iss"] == claims["sub"] == after.moodle.client_id


def test_a_student_is_refused(tool: Tool, site: Site) -> None:
    site.lms.members[2] = [person("ana", "Ana Souza")]
    student = site.launch(tool, "ana", "Ana Souza")
    home = page(tool, "/home", student)
    assert home.status_code == 200
    assert "Course roster" not in home.text
    for path in ("/instructor/", "/instructor/events/site-visit"):
        refused = page(tool, path, student)
        assert refused.status_code == 403
        assert FORBIDDEN in html.unescape(refused.text)
    ana = learner_id(tool, site.platform_id, "ana")
    posted = post(tool, "/instructor/events/site-visit/attendance", {"s": student, "learner": ana})
    assert posted.status_code == 403
    assert count(tool, Completion) == 0
    assert site.lms.roster_requests == []  # a student's session never reaches the roster


def test_a_post_without_its_token_is_refused(tool: Tool, site: Site) -> None:
    teacher = site.launch(tool, "teacher-1", "Tove Teacher", instructor=True)
    with requests.Session() as http:
        http.cookies.set("capacity_session", teacher)
        refused = http.post(
            tool.url + "/instructor/events/site-visit/attendance",
            data={"learner": "1"},
            timeout=20,
        )
    assert refused.status_code == 401
    assert "This form was sent without its session." in refused.text


def test_rosters_never_mix_platforms_or_courses(
    tool: Tool, site_factory: Callable[[], Site]
) -> None:
    one, other = site_factory(), site_factory()
    # No NRPS: the roster is the learners who launched from this platform and course.
    one.launch(tool, "2", "Ana Souza", nrps=False)
    one.launch(tool, "3", "Ben Okafor", course=3, nrps=False)
    other.launch(tool, "2", "Other Ana", nrps=False)  # the same sub on another platform
    teacher = one.launch(tool, "teacher-1", "Tove Teacher", instructor=True, nrps=False)
    shown = page(tool, "/instructor/", teacher)
    assert shown.status_code == 200
    assert "Learners who have opened the tool from this course." in shown.text
    assert [row[0] for row in roster_table(shown.text)] == ["Ana Souza 2@example.org"]
    _, hidden, boxes = attendance_form(
        tool, page(tool, "/instructor/events/site-visit", teacher).text
    )
    ana = learner_id(tool, one.platform_id, "2")
    assert boxes == {str(ana): "Ana Souza"}
    for outsider in (
        learner_id(tool, one.platform_id, "3"),
        learner_id(tool, other.platform_id, "2"),
    ):
        refused = post(
            tool, "/instructor/events/site-visit/attendance", {**hidden, "learner": [ana, outsider]}
        )
        assert refused.status_code == 400
        assert "Attendance can be recorded only for learners of this course" in refused.text
    assert count(tool, Completion) == 0

    # With NRPS: course 3's instructor sees course 3's list, and the other platform's own.
    one.lms.members[3] = [person("3", "Ben Okafor"), person("9", "Ida Nygren")]
    other.lms.members[2] = [person("2", "Other Ana")]
    third = one.launch(tool, "teacher-1", "Tove Teacher", course=3, instructor=True)
    names = [row[0].split(" ")[0] for row in roster_table(page(tool, "/instructor/", third).text)]
    assert names == ["Ben", "Ida"]
    theirs = other.launch(tool, "t-2", "Tea Cher", instructor=True)
    rows = roster_table(page(tool, "/instructor/", theirs).text)
    assert [row[0] for row in rows] == ["Other Ana other@example.org"]  # NRPS email now
    assert [url for url, _ in one.lms.roster_requests] == [one.lms.memberships_url(3)]
    assert [url for url, _ in other.lms.roster_requests] == [other.lms.memberships_url(2)]


def test_a_failing_or_foreign_roster_falls_back_to_the_learners_who_launched(
    tool: Tool, site: Site
) -> None:
    site.lms.members[2] = [person("ana", "Ana Souza"), person("ben", "Ben Okafor")]
    site.lms.members[3] = [person("zoe", "Zoe Other")]
    site.launch(tool, "ana", "Ana Souza")
    teacher = site.launch(tool, "teacher-1", "Tove Teacher", instructor=True)
    site.lms.fail_roster = [500]
    shown = page(tool, "/instructor/", teacher)
    assert shown.status_code == 200
    text = html.unescape(shown.text)
    assert "The course list could not be read from your LMS" in text
    assert f"course roster at {site.lms.memberships_url(2)}: HTTP 500: roster unavailable" in text
    assert [row[0] for row in roster_table(shown.text)] == ["Ana Souza ana@example.org"]

    wrong = site.launch(tool, "teacher-1", "Tove Teacher", instructor=True, nrps_course=3)
    text = html.unescape(page(tool, "/instructor/", wrong).text)
    assert (
        f"course roster at {site.lms.memberships_url(3)} is for course '3', not this course ('2')"
        in text
    )
    assert [row[0] for row in roster_table(text)] == ["Ana Souza ana@example.org"]
    with tool.db().session() as session:  # nobody of course 3 was taken into course 2
        assert session.scalar(select(Learner.id).where(Learner.subject == "zoe")) is None


def test_the_pages_follow_the_teachers_lms_language(tool: Tool, site: Site) -> None:
    site.lms.members[2] = [person("ana", "Ana Souza")]
    site.moodle.locale = "sv"
    teacher = site.launch(tool, "teacher-1", "Tove Teacher", instructor=True)
    roster = page(tool, "/instructor/", teacher)
    assert '<html lang="sv">' in roster.text
    assert "<h1>Kursdeltagare</h1>" in roster.text
    event = page(tool, "/instructor/events/site-visit", teacher)
    assert "<legend>Vilka deltog?</legend>" in event.text
