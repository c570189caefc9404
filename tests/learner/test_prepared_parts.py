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


def page_of(learner: Browser) -> tuple[str, str]:
    """(the learner's home page with their token written TOKEN, that token)."""
    response = learner.client.get("/home", query_string={"s": learner.token})
    assert response.status_code == 200
    text = response.get_data(as_text=True)
    token = lxml.html.fromstring(text).xpath("//input[@name='s']/@value")[0]
    return text.replace(token, "TOKEN"), token


def forget_pages(app: Flask) -> None:
    app.extensions.pop("capacity_lti.pages", None)


def test_a_kept_home_page_is_byte_for_byte_what_rendering_makes(
    app: Flask, app_db: Database
) -> None:
    ana = browser(app, seat(app_db, "https://lms-a.example", "ana"))
    ben = browser(app, seat(app_db, "https://lms-a.example", "ben"))
    cleo = browser(app, seat(app_db, "https://lms-a.example", "cleo"), locale="sv")
    forget_pages(app)
    made, ana_token = page_of(ana)  # rendered, and kept
    kept, ben_token = page_of(ben)  # the same state: served from the kept page
    assert kept == made
    assert (
        learner_of(app, f"?s={ben_token}")
        == ben.who.learner_id
        != learner_of(app, f"?s={ana_token}")
    )
    forget_pages(app)
    assert page_of(ben)[0] == kept  # what rendering it afresh makes
    swedish = page_of(cleo)[0]
    assert swedish != kept
    assert 'lang="sv"' in swedish

    assert ana.post(f"{MODULE}/progress", {"section": "basics"}).status_code == 303
    started = page_of(ana)[0]
    assert started != kept  # her progress is part of the page's key
    forget_pages(app)
    assert page_of(ana)[0] == started
    assert page_of(ben)[0] == kept


def test_a_learner_with_an_award_gets_their_own_page(app: Flask, app_db: Database) -> None:
    from tests.learner.test_pages import read_all

    lea = browser(app, seat(app_db, "https://lms-a.example", "lea"))
    max_ = browser(app, seat(app_db, "https://lms-a.example", "max"))
    for learner in (lea, max_):
        learner.post(f"{MODULE}/check", {"answer-q1": "0", "answer-q2": ["0", "2"]})
        read_all(learner)
    lea_page, max_page = page_of(lea)[0], page_of(max_)[0]
    lea_links = lxml.html.fromstring(lea_page).xpath("//section[@class='awards']//a/@href")
    max_links = lxml.html.fromstring(max_page).xpath("//section[@class='awards']//a/@href")
    assert len(lea_links) == len(max_links) == 4  # PDF, .jwt, JSON, verification page
    assert set(lea_links).isdisjoint(max_links)  # each their own award, not a kept page
