"""The learner pages through the real app (Flask's test client: HTTP adds nothing here)."""

from __future__ import annotations

import re
from itertools import pairwise
from pathlib import Path

import lxml.html
import pytest
from flask import Flask

from capacity_lti.content import BLOCKS, Programme, load_programme
from capacity_lti.settings import Settings
from capacity_lti.storage import Database
from capacity_lti.web import create_app
from capacity_lti.web.session import COOKIE
from tests.conftest import EXAMPLES
from tests.learner.conftest import Browser, browser, completions, scores, seat

MODULE = "/modules/lighting-beginner"


def page(response: object) -> lxml.html.HtmlElement:
    assert response.status_code == 200, response.get_data(as_text=True)  # type: ignore[attr-defined]
    return lxml.html.fromstring(response.get_data(as_text=True))  # type: ignore[attr-defined]


def texts(root: lxml.html.HtmlElement, xpath: str) -> list[str]:
    return [" ".join(e.text_content().split()) for e in root.xpath(xpath)]


@pytest.fixture
def ana(app: Flask, app_db: Database) -> Browser:
    return browser(app, seat(app_db, "https://lms-a.example", "ana"))


def read_all(learner: Browser) -> None:
    for section in ("basics", "key-questions", "recommended-steps", "processes", "guidance"):
        assert learner.post(f"{MODULE}/progress", {"section": section}).status_code == 303


def test_five_sections_in_order_each_block_in_the_best_language(
    app: Flask, app_db: Database
) -> None:
    belgian = browser(app, seat(app_db, "https://lms-a.example", "lea"), locale="fr-BE")
    root = page(belgian.get(MODULE))
    assert root.get("lang") == "fr"
    assert texts(root, "//section[@class='section']/h2") == [
        "Les bases",
        "Questions clés",
        "Étapes recommandées",
        "Processus",
        "Conseils",
    ]
    assert [b.get("data-block") for b in root.xpath("//*[@data-block]")] == list(BLOCKS)
    assert texts(root, "//h1") == ["L'éclairage public en Belgique"]
    assert root.xpath("//h1/@lang") == ["fr-BE"]

    def block(key: str) -> lxml.html.HtmlElement:
        return root.xpath(f"//*[@data-block='{key}']/div[@class='content']")[0]

    assert block("basics/what").get("lang") is None  # French, the page's language
    assert (
        block("basics/what").text_content().strip()
        == "L'éclairage public est un service municipal."
    )
    assert block("basics/why").get("lang") == "en"  # no French text: the default language
    assert block("guidance/policy-context").get("lang") == "fr-BE"  # the country variant
    assert block("guidance/policy-context").text_content().strip().startswith("En Belgique,")
    assert texts(root, "//form[@id='check']/h2") == ["Vérifiez vos connaissances"]
    assert texts(root, "//fieldset[@data-question='q1']/legend") == [
        "Qu'est-ce qui économise le plus ?"
    ]


@pytest.mark.parametrize(
    ("locale", "lang", "heading", "button", "points"),
    [
        ("sv", "sv", "Kunskapskontroll", "Rätta mina svar", "2 poäng"),
        ("fr-CA", "fr", "Vérifiez vos connaissances", "Vérifier mes réponses", "2 points"),
        ("it", "it", "Verifica delle conoscenze", "Verifica le mie risposte", "2 punti"),
        ("en-US", "en", "Knowledge check", "Check my answers", "2 points"),
        ("pt-BR", "en", "Knowledge check", "Check my answers", "2 points"),  # no Portuguese UI
    ],
)
def test_ui_strings_follow_the_session_locale(
    app: Flask, app_db: Database, locale: str, lang: str, heading: str, button: str, points: str
) -> None:
    learner = browser(app, seat(app_db, "https://lms-a.example", "u-" + locale), locale=locale)
    root = page(learner.get(MODULE))
    assert root.get("lang") == lang
    assert texts(root, "//form[@id='check']/h2") == [heading]
    assert texts(root, "//form[@id='check']//button") == [button]
    assert points in texts(root, "//p[@class='kicker']")[0]


def test_reading_without_javascript_saves_progress_and_resumes(ana: Browser) -> None:
    answer = ana.post(f"{MODULE}/progress", {"section": "basics"})
    assert answer.status_code == 303
    location = answer.headers["Location"]
    assert re.fullmatch(r"/modules/lighting-beginner\?s=[\w.-]+#s-key-questions", location)
    root = page(ana.get(MODULE))
    assert texts(root, "//span[@id='read-label']") == ["Parts read: 3 of 11"]
    assert root.xpath("//progress[@id='read-progress']/@value") == ["3"]
    assert root.xpath("//div[@id='learner-module']/@data-resume") == ["b-basics-key-information"]
    assert root.xpath("//a[@id='resume']/@href") == ["#b-basics-key-information"]
    assert root.xpath("//section[@id='s-basics']//form") == []  # read: no button any more
    assert len(root.xpath("//section[@id='s-processes']//form[@class='mark']")) == 1
    assert texts(root, "//nav[@class='toc']//li")[0] == "Basics ✓ read"


def test_reading_with_javascript_posts_blocks_with_the_header_token(ana: Browser) -> None:
    response = ana.client.post(
        f"{MODULE}/progress",
        data={"block": ["basics/what", "key-questions"], "last": "key-questions"},
        headers={"X-Capacity-Session": ana.token, "Accept": "application/json"},
    )
    assert response.status_code == 200
    data = response.get_json()
    assert data["seen"] == ["basics/what", "key-questions"]
    assert (data["completed"], data["awarded"]) == (False, 0)
    assert data["token"].count(".") == 1  # the renewed token, for the next request
    root = page(ana.get(MODULE))
    assert root.xpath("//div[@id='learner-module']/@data-resume") == ["b-key-questions"]


def test_a_post_with_only_a_cookie_is_refused(ana: Browser) -> None:
    ana.client.set_cookie(COOKIE, ana.token)
    response = ana.client.post(f"{MODULE}/progress", data={"section": "basics"})
    assert response.status_code == 401
    assert (
        "This form was sent without its session. Open the activity again from your course."
        in response.get_data(as_text=True)
    )
    assert "Parts read: 0 of 11" in ana.get(MODULE).get_data(as_text=True)


def test_unknown_section_and_module(ana: Browser) -> None:
    bad = ana.post(f"{MODULE}/progress", {"section": "conclusion"})
    assert bad.status_code == 400
    assert "There is no such section in this module." in bad.get_data(as_text=True)
    missing = ana.get("/modules/no-such-module")
    assert missing.status_code == 404
    assert "This module is not part of the programme." in missing.get_data(as_text=True)


def test_knowledge_check_feedback_then_completion_awards_once(
    ana: Browser, app_db: Database
) -> None:
    wrong = ana.post(f"{MODULE}/check", {"answer-q1": "1", "answer-q2": ["0", "1"]})
    assert wrong.status_code == 303
    assert wrong.headers["Location"].endswith("#check")
    root = page(ana.get(MODULE))
    assert texts(root, "//fieldset[@data-question='q1']/p[contains(@class, 'feedback')]") == [
        "Not quite. No."
    ]
    assert texts(root, "//p[@class='result']") == ["Not passed yet: 0 of 2 correct. Try again."]
    assert root.xpath("//input[@name='answer-q1'][@checked]/@value") == ["1"]

    ana.post(f"{MODULE}/check", {"answer-q1": "0", "answer-q2": ["0", "2"]})
    root = page(ana.get(MODULE))
    assert texts(root, "//p[@class='result']") == ["Passed: 2 of 2 correct."]
    assert texts(root, "//fieldset[@data-question='q2']/p[contains(@class, 'feedback')]") == [
        "Correct. Both reduce hours at full power."
    ]
    assert root.xpath("//fieldset[@disabled]/@data-question") == ["q1", "q2"]
    assert root.xpath("//form[@id='check']//button") == []
    assert completions(app_db, ana.who.learner_id) == 0  # not every part read yet

    read_all(ana)
    read_all(ana)  # a double submit awards nothing more
    root = page(ana.get(MODULE))
    assert texts(root, "//div[@id='status']/p[1]") == ["Module completed. You earned 2 points."]
    assert completions(app_db, ana.who.learner_id) == 1
    assert scores(app_db, ana.who.learner_id) == [(ana.who.module_link, 2.0, 2.0, "Completed")]

    home = page(ana.get("/home"))
    assert texts(home, "//span[@id='points-label']") == ["Your points: 2 of 7"]
    assert texts(home, "//details[@id='path-officers']//li[1]") == [
        "Street lighting basics Beginner · 10 min · 2 points Completed"
    ]
    assert texts(home, "//details[@id='path-officers']//summary/span[@class='meta']") == [
        "1 of 3 done · 2 of 7 points"
    ]
    assert texts(home, "//section[@class='awards']/h2") == ["Your diplomas and certificates"]
    assert len(home.xpath("//section[@class='awards']//li")) == 1  # the module's certificate


def test_home_lists_paths_events_and_recommends_from_the_self_assessment(ana: Browser) -> None:
    root = page(ana.get("/home"))
    assert texts(root, "//details[contains(@class, 'path')]/summary/span[@class='path-title']") == [
        "Officers",
        "Trainers",
    ]
    assert texts(root, "//details[@id='path-officers']//li") == [
        "Street lighting basics Beginner · 10 min · 2 points Not started",
        "Advanced street lighting Advanced · 10 min · 2 points Not started",
        "Visit a retrofitted district Study visit · 240 min · 3 points Not started",
    ]
    assert root.xpath("//details[@open]/@id") == ["path-officers"]
    sent = ana.post("/assessment", {"question-role": "trainer"})
    assert sent.status_code == 303
    assert sent.headers["Location"].endswith("#assessment")
    root = page(ana.get("/home"))
    assert texts(root, "//section[@id='assessment']/p[@role='status']") == [
        "Recommended for you: Trainers"
    ]
    assert root.xpath("//details[@open]/@id") == ["path-trainers"]
    assert root.xpath("//input[@name='question-role'][@checked]/@value") == ["trainer"]
    ana.post(f"{MODULE}/progress", {"section": "basics"})
    root = page(ana.get("/home"))
    assert texts(root, "//details[@id='path-trainers']//li/span[@class='status']") == [
        "In progress"
    ]


def test_a_learner_sees_only_their_own_progress(app: Flask, app_db: Database, ana: Browser) -> None:
    ana.post(f"{MODULE}/check", {"answer-q1": "0", "answer-q2": ["0", "2"]})
    read_all(ana)
    other = browser(app, seat(app_db, "https://lms-b.example", "ana"))  # same sub, other LMS
    root = page(other.get(MODULE))
    assert texts(root, "//span[@id='read-label']") == ["Parts read: 0 of 11"]
    assert root.xpath("//input[@checked]") == []
    assert root.xpath("//p[@class='result']") == []
    assert "Your points: 0 of 7" in other.get("/home").get_data(as_text=True)
    forged = other.token[:-4] + ("AAAA" if not other.token.endswith("AAAA") else "BBBB")
    refused = other.client.get("/home", query_string={"s": forged})
    assert refused.status_code == 401


def test_content_files_are_served_and_nothing_is_loaded_from_elsewhere(ana: Browser) -> None:
    response = ana.get(MODULE)
    policy = response.headers["Content-Security-Policy"]
    assert "default-src 'none'" in policy
    assert "script-src 'self'" in policy
    root = page(response)
    assert root.xpath("//*[@data-block='basics/what']//img/@src") == ["/content/media/map.png"]
    loaded = root.xpath("//script/@src | //link/@href | //img/@src")
    assert loaded
    assert all(url.startswith("/") and not url.startswith("//") for url in loaded)
    image = ana.client.get("/content/media/map.png")  # no session needed: the same for all
    assert (image.status_code, image.mimetype) == (200, "image/png")
    assert ana.client.get("/content/programme.yaml").status_code == 404
    assert ana.client.get("/learner/static/learner.js").status_code == 200


def test_authored_text_is_escaped(tmp_path: Path, database_url: str, base_programme: Path) -> None:
    source = base_programme / "modules" / "lighting-beginner.en.md"
    text = source.read_text().replace(
        "title: Street lighting basics", 'title: "Lighting <script>alert(1)</script>"'
    )
    source.write_text(text)
    app = create_app(
        Settings(database_url=database_url, instance_path=tmp_path / "i"),
        programme=load_programme(base_programme),
    )
    from capacity_lti.web.services import services

    with app.app_context():
        db = services().db
    body = browser(app, seat(db, "https://lms-a.example", "x")).get(MODULE).get_data(as_text=True)
    assert "<script>alert(1)</script>" not in body
    assert "Lighting &lt;script&gt;alert(1)&lt;/script&gt;" in body


def test_an_event_shows_its_description_and_who_records_attendance(
    tmp_path: Path, database_url: str
) -> None:
    mobility: Programme = load_programme(EXAMPLES / "mobility-innovation")
    app = create_app(
        Settings(database_url=database_url, instance_path=tmp_path / "i"), programme=mobility
    )
    from capacity_lti.web.services import services

    with app.app_context():
        db = services().db
    learner = browser(
        app,
        seat(db, "https://lms-a.example", "m", module_id="inspire-why-innovation-stalls"),
        locale="it",
    )
    root = page(learner.get("/events/study-visit-mobility-hub"))
    event = mobility.events["study-visit-mobility-hub"]
    assert texts(root, "//h1") == [" ".join(event.title["it"].split())]
    assert texts(root, "//p[@class='kicker']") == [
        f"Visita di studio · {event.minutes} min · 2 punti"
    ]
    description = " ".join(lxml.html.fromstring(event.description["it"]).text_content().split())
    assert texts(root, "//div[@class='content']") == [description]
    assert texts(root, "//p[@role='status']") == [
        "La partecipazione a questo evento è registrata dal tuo docente; i punti vengono "
        "aggiunti dopo la registrazione."
    ]
    home = page(learner.get("/home"))
    assert "Study visit" not in home.text_content()
    assert texts(home, "//section[@aria-labelledby='events-title']/h2") == ["Eventi"]


def test_pages_are_usable_by_keyboard_and_screen_reader(ana: Browser) -> None:
    ana.post(f"{MODULE}/check", {"answer-q1": "1"})
    for path in ("/home", MODULE, "/events/site-visit"):
        root = page(ana.get(path))
        assert len(root.xpath("//h1")) == 1, path
        levels = [int(h.tag[1]) for h in root.xpath("//h1|//h2|//h3")]
        assert all(b - a <= 1 for a, b in pairwise(levels)), path
        for control in root.xpath("//input[@type='radio' or @type='checkbox']"):
            assert control.getparent().tag == "label", path
        assert all(f.xpath("./legend") for f in root.xpath("//fieldset")), path
        assert root.xpath("//*[@tabindex or @onclick or @style]") == [], path
        assert all(b.get("type") == "submit" for b in root.xpath("//button")), path
        labelled = root.xpath("//progress")
        assert all(p.get("aria-labelledby") for p in labelled), path


def test_an_instructor_trying_a_module_out_sends_no_score(app: Flask, app_db: Database) -> None:
    teacher = browser(app, seat(app_db, "https://lms-a.example", "t"), instructor=True)
    teacher.post(f"{MODULE}/check", {"answer-q1": "0", "answer-q2": ["0", "2"]})
    read_all(teacher)
    assert "Module completed." in teacher.get(MODULE).get_data(as_text=True)
    assert completions(app_db, teacher.who.learner_id) == 1
    assert scores(app_db, teacher.who.learner_id) == []


def test_awards_are_issued_in_the_learners_language(app: Flask, app_db: Database) -> None:
    from capacity_lti.storage import awards

    learner = browser(app, seat(app_db, "https://lms-a.example", "lea"), locale="fr-BE")
    learner.post(f"{MODULE}/check", {"answer-q1": "0", "answer-q2": ["0", "2"]})
    read_all(learner)
    with app_db.session() as session:
        held = awards.learner_awards(
            session, learner_id=learner.who.learner_id, programme_id="test-programme"
        )
    assert [(a.key, a.language) for a in held] == [("module:lighting-beginner", "fr-BE")]
