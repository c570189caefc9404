"""Parts of the learner pages made once per app (web/learner_parts.py) fit every request."""

from __future__ import annotations

import time

import lxml.html
from flask import Flask

from capacity_lti.storage import Database
from capacity_lti.web.services import services
from capacity_lti.web.session import decode
from tests.learner.conftest import Browser, browser, seat

MODULE = "/modules/lighting-beginner"


def home(learner: Browser, base_url: str = "http://localhost/") -> lxml.html.HtmlElement:
    response = learner.client.get("/home", query_string={"s": learner.token}, base_url=base_url)
    assert response.status_code == 200, response.get_data(as_text=True)
    return lxml.html.fromstring(response.get_data(as_text=True))


def row_links(root: lxml.html.HtmlElement) -> list[str]:
    return [str(href) for href in root.xpath("//li[contains(@class, 'item')]/a/@href")]


def learner_of(app: Flask, href: str) -> int:
    token = href.partition("?s=")[2]
    with app.app_context():
        return decode(token, services().session_secret, time.time()).learner_id


def test_rows_follow_each_requests_language_status_token_and_root(
    app: Flask, app_db: Database
) -> None:
    ana = browser(app, seat(app_db, "https://lms-a.example", "ana"), locale="fr")
    ben = browser(app, seat(app_db, "https://lms-a.example", "ben"))
    assert ana.post(f"{MODULE}/progress", {"section": "basics"}).status_code == 303
    for _ in range(2):  # the second round uses the parts the first one made
        for learner, started, untouched in (
            (ana, "En cours", "Pas commencé"),
            (ben, "Not started", "Not started"),
        ):
            root = home(learner)
            statuses = root.xpath("//ul[@class='items']/li/span[@class='status']/text()")
            assert statuses[:2] == [started, untouched]  # lighting-beginner, lighting-advanced
            links = row_links(root)
            assert links[0].startswith(f"{MODULE}?s=")
            assert {learner_of(app, href) for href in links} == {learner.who.learner_id}
            assert {href.partition("?s=")[2] for href in links} == set(
                root.xpath("//input[@name='s']/@value")
            )
    prefixed = row_links(home(ben, "http://localhost/tool/"))
    assert prefixed[0].startswith(f"/tool{MODULE}?s=")
    assert all(href.startswith("/tool/") for href in prefixed)
    assert row_links(home(ben))[0].startswith(f"{MODULE}?s=")


def test_prepared_sections_show_each_learner_their_own_blocks_read(
    app: Flask, app_db: Database
) -> None:
    ana = browser(app, seat(app_db, "https://lms-a.example", "ana"))
    ben = browser(app, seat(app_db, "https://lms-a.example", "ben"))
    assert ana.post(f"{MODULE}/progress", {"section": "basics"}).status_code == 303
    for _ in range(2):
        seen = lxml.html.fromstring(ana.get(MODULE).get_data(as_text=True))
        assert seen.xpath("//div[contains(@class, 'seen')]/@data-block") == [
            "basics/what",
            "basics/why",
            "basics/key-information",
        ]
        assert seen.xpath("//form[@class='mark']/input[@name='section']/@value") == [
            "key-questions",
            "recommended-steps",
            "processes",
            "guidance",
        ]
        unseen = lxml.html.fromstring(ben.get(MODULE).get_data(as_text=True))
        assert unseen.xpath("//div[contains(@class, 'seen')]") == []
        assert len(unseen.xpath("//form[@class='mark']")) == 5
