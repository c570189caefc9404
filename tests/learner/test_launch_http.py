"""A real launch from a Moodle-like platform, then a learner completes a module over real HTTP.

The tool runs on a werkzeug server on 127.0.0.1; no request carries a cookie, as inside a
cross-site LMS frame: the session travels only in the links and forms the pages give.
"""

from __future__ import annotations

import threading
from urllib.parse import urljoin

import lxml.html
import requests
from sqlalchemy import select

from capacity_lti.content import load_programme
from capacity_lti.storage.tables import Completion, ResourceLink, ScoreOutbox
from tests.conftest import EXAMPLES
from tests.lti_launch.conftest import Tool, address_of, follow, launch
from tests.lti_launch.platforms import MoodleLike

MODULE = "ghg-inventory-beginner"
CLIMATE = load_programme(EXAMPLES / "climate-action")


def right_answers() -> dict[str, list[str]]:
    check = CLIMATE.modules[MODULE].check
    assert check is not None
    return {f"answer-{q.id}": [str(i) for i in q.correct_indexes] for q in check.questions}


def no_cookies(method: str, url: str, **fields: object) -> requests.Response:
    """One request with a fresh client: nothing remembered between requests."""
    with requests.Session() as http:
        return http.request(method, url, allow_redirects=False, timeout=20, **fields)  # type: ignore[arg-type]


def forms(tool: Tool, html: str) -> list[tuple[str, dict[str, str]]]:
    root = lxml.html.fromstring(html)
    found = []
    for form in root.xpath("//form[@method='post']"):
        fields = {i.get("name"): i.get("value") for i in form.xpath(".//input[@type='hidden']")}
        found.append((urljoin(tool.url, form.get("action")), fields))
    return found


def open_module(tool: Tool, moodle: MoodleLike) -> str:
    moodle.custom = {"module": MODULE}
    result = launch(tool, moodle).result
    assert address_of(result).startswith(f"/modules/{MODULE}?s=")
    assert "Parts read: 0 of 11" in result.text
    page = follow(tool, result)  # a reload asks for the address the page put in place
    assert page.status_code == 200
    return page.text


def test_launch_read_pass_and_complete_a_module(tool: Tool, moodle: MoodleLike) -> None:
    html = open_module(tool, moodle)
    assert "Parts read: 0 of 11" in html
    sections = [f for f in forms(tool, html) if "section" in f[1]]
    assert [f[1]["section"] for f in sections] == [
        "basics",
        "key-questions",
        "recommended-steps",
        "processes",
        "guidance",
    ]
    for action, fields in sections:
        saved = no_cookies("POST", action, data=fields)
        assert saved.status_code == 303, saved.text
    location = urljoin(tool.url, saved.headers["Location"])
    html = no_cookies("GET", location).text
    assert "Parts read: 11 of 11" in html
    action, fields = next(f for f in forms(tool, html) if f[0].endswith("/check"))
    checked = no_cookies("POST", action, data={**fields, **right_answers()})
    assert checked.status_code == 303
    html = no_cookies("GET", urljoin(tool.url, checked.headers["Location"])).text
    assert "Module completed." in html
    assert "You earned 1 point." in html
    with tool.db().session() as session:
        link = session.scalars(select(ResourceLink)).one()
        assert link.module_id == MODULE
        rows = session.execute(
            select(ScoreOutbox.resource_link_id, ScoreOutbox.score_given, ScoreOutbox.score_maximum)
        ).all()
        assert [tuple(r) for r in rows] == [(link.id, 1.0, 1.0)]
        assert session.scalars(select(Completion.item_id)).all() == [MODULE]


def test_concurrent_submits_over_http_award_the_points_once(tool: Tool, moodle: MoodleLike) -> None:
    html = open_module(tool, moodle)
    for action, fields in forms(tool, html):
        if "section" in fields:
            assert no_cookies("POST", action, data=fields).status_code == 303
    action, fields = next(f for f in forms(tool, html) if f[0].endswith("/check"))
    barrier = threading.Barrier(6)
    statuses: list[int] = []

    def submit() -> None:
        barrier.wait()
        statuses.append(no_cookies("POST", action, data={**fields, **right_answers()}).status_code)

    threads = [threading.Thread(target=submit) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert statuses == [303] * 6
    with tool.db().session() as session:
        assert session.scalars(select(Completion.item_id)).all() == [MODULE]
        assert len(session.scalars(select(ScoreOutbox.id)).all()) == 1
