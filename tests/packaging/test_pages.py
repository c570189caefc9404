"""Pages: the page/runtime contract, the package language with fallback, escaping, no outside loads."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from lxml import html as lxml_html

from capacity_lti import packaging
from capacity_lti.content import BLOCKS, pick
from tests.packaging.conftest import BASE, CLIMATE, MOBILITY, Built, load

Build = Callable[..., Built]
DATA = re.compile(r'<script type="application/json" id="capacity-data">(.*?)</script>', re.S)
UI_KEYS = {"no_lms", "saved", "passed", "failed", "completed", "certificate", "progress"}


def data_of(page: str) -> dict[str, Any]:
    (found,) = DATA.findall(page)
    parsed: dict[str, Any] = json.loads(found)
    return parsed


def tree(page: str) -> Any:
    return lxml_html.document_fromstring(page)


@pytest.mark.parametrize("standard", packaging.FORMATS)
@pytest.mark.parametrize("language", ["en", "sv", "fr", "en-GB"])
def test_module_pages_follow_the_page_runtime_contract(
    build: Build, standard: str, language: str
) -> None:
    programme = load(CLIMATE)
    built = build(CLIMATE, standard, language)
    for module in programme.modules.values():
        page = built.text(f"{module.id}.html")
        data = data_of(page)
        doc = tree(page)
        assert doc.get("lang") == language
        assert page.count("capacity/runtime.js") == 1
        assert [s.get("src") for s in doc.iter("script")] == [None, "capacity/runtime.js"]
        assert data["standard"] == standard
        assert data["module"] == module.id
        assert data["language"] == language
        assert data["points"] == module.points
        assert module.check is not None
        assert data["mastery"] == module.check.pass_percent
        assert data["blocks"] == [b for b in BLOCKS if b in module.blocks]
        sections = doc.xpath("//section[@data-block]")
        assert [s.get("data-block") for s in sections] == data["blocks"]
        assert all(s.get("class") == "block" for s in sections)
        assert data["certificate"] == f"{module.id}.certificate.html"
        assert data["certificate"] in built.files
        assert set(data["ui"]) == UI_KEYS
        (form,) = doc.xpath("//form[@id='capacity-check']")
        fieldsets = form.xpath("fieldset")
        questions = data["check"]["questions"]
        assert [f.get("data-question") for f in fieldsets] == [q["id"] for q in questions]
        for fieldset, question, authored in zip(
            fieldsets, questions, module.check.questions, strict=True
        ):
            inputs = fieldset.xpath(".//input")
            kind = "checkbox" if authored.multiple else "radio"
            assert [(i.get("type"), i.get("name"), i.get("value")) for i in inputs] == [
                (kind, question["id"], str(n)) for n in range(len(authored.choices))
            ]
            assert question["correct"] == list(authored.correct_indexes)
            assert question["multiple"] == authored.multiple
            assert fieldset.xpath("legend")[0].text_content() == pick(
                authored.prompt, programme.chain(language)
            )
        assert len(form.xpath("button[@type='submit']")) == 1


def test_text_is_in_the_package_language_with_fallback_marked(build: Build) -> None:
    built = build(BASE, "scorm12", "fr-BE")
    doc = tree(built.text("lighting-beginner.html"))
    data = data_of(built.text("lighting-beginner.html"))

    def block(key: str) -> Any:
        (found,) = doc.xpath(f"//section[@data-block='{key}']")
        return found

    assert doc.findtext(".//h1") == "L'éclairage public en Belgique"  # fr-BE
    policy = block("guidance/policy-context")
    assert "En Belgique" in policy.text_content()  # fr-BE
    assert policy.xpath("div[@lang]") == []
    what = block("basics/what")
    assert "L'éclairage public est un service municipal." in what.text_content()  # fr
    assert what.xpath("div[@lang]") == []
    why = block("basics/why")
    (english,) = why.xpath("div[@lang='en']")  # no French text: the default language's
    assert "electricity bill" in english.text_content()
    assert why.findtext("h3") == "Pourquoi"  # the heading is always in the package language
    assert data["ui"]["completed"] == "Module terminé."
    assert doc.xpath("//form//button")[0].text == "Vérifier mes réponses"
    assert doc.xpath("//fieldset[@data-question='q1']/legend")[0].text == (
        "Qu'est-ce qui économise le plus ?"
    )
    assert doc.xpath("//fieldset[@data-question='q2']/legend[@lang='en']")[0].text == (
        "Which two help?"
    )


def test_a_language_we_have_no_labels_for_falls_back_to_english(build: Build) -> None:
    built = build(CLIMATE, "scorm2004", "sv", module_id="ghg-inventory-advanced")
    doc = tree(built.text("ghg-inventory-advanced.html"))
    assert doc.findtext(".//h2") == "Grunder"
    assert doc.xpath("//section[@data-block='basics/what']/div[@lang='en']")
    assert data_of(built.text("ghg-inventory-advanced.html"))["ui"]["saved"] == (
        "Framstegen har sparats."
    )
    italian = build(MOBILITY, "scorm12", "it", module_id="initiate-from-problem-to-pilot")
    data = data_of(italian.text("initiate-from-problem-to-pilot.html"))
    assert data["ui"]["completed"] == "Modulo completato."


def test_the_certificate_is_printable_in_the_package_language(build: Build) -> None:
    built = build(CLIMATE, "scorm12", "fr", module_id="ghg-inventory-beginner")
    page = built.text("ghg-inventory-beginner.certificate.html")
    doc = tree(page)
    assert doc.get("lang") == "fr"
    assert doc.xpath("//link[@rel='stylesheet']/@href") == ["capacity/player.css"]
    assert doc.xpath("//script/@src") == ["capacity/runtime.js"]
    (learner,) = doc.xpath("//*[@id='capacity-learner']")
    assert learner.text_content() == "\xa0"
    assert doc.findtext(".//p[@class='capacity-certificate-kicker']") == "Attestation de réussite"
    assert doc.findtext(".//h1") == "Inventaire des gaz à effet de serre : premiers pas"
    assert data_of(page) == {"standard": "scorm12", "module": None, "language": "fr"}


def test_events_are_pages_without_tracking(build: Build) -> None:
    built = build(MOBILITY, "scorm12", "it", path_id="ambassadors")
    page = built.text("study-visit-mobility-hub.html")
    doc = tree(page)
    assert "capacity-data" not in page
    assert doc.xpath("//script") == []
    event = load(MOBILITY).events["study-visit-mobility-hub"]
    kicker = doc.findtext(".//p[@class='capacity-kicker']")
    assert kicker == f"Visita di studio · {event.minutes} min"
    assert doc.findtext(".//p[@class='capacity-event-note']") == (
        "La partecipazione a questo evento è registrata dagli organizzatori, non da questo pacchetto."
    )
    assert doc.findtext(".//h1") == event.title["it"]


def test_text_is_escaped_and_the_data_block_cannot_be_closed_early(
    build: Build, base_programme: Path
) -> None:
    module = base_programme / "modules" / "lighting-advanced.en.md"
    text = module.read_text(encoding="utf-8")
    text = text.replace(
        "title: Advanced street lighting", 'title: "Lamps <script>alert(1)</script> & poles"'
    )
    text = text.replace("incorrect: No.", 'incorrect: "No </script><script>alert(2)</script>"')
    module.write_text(text, encoding="utf-8")
    built = build(base_programme, "scorm2004", "en", module_id="lighting-advanced")
    page = built.text("lighting-advanced.html")
    assert "<script>alert" not in page
    assert "<title>Lamps &lt;script&gt;alert(1)&lt;/script&gt; &amp; poles</title>" in page
    data = data_of(page)
    assert data["check"]["questions"][0]["feedback"]["incorrect"] == (
        "No </script><script>alert(2)</script>"
    )
    certificate = built.text("lighting-advanced.certificate.html")
    assert "<h1>Lamps &lt;script&gt;alert(1)&lt;/script&gt; &amp; poles</h1>" in certificate


def test_no_page_loads_anything_from_outside_the_package(
    build: Build, base_programme: Path
) -> None:
    module = base_programme / "modules" / "lighting-advanced.en.md"
    text = module.read_text(encoding="utf-8")
    module.write_text(
        text.replace(
            "A lamp register.",
            "A lamp register ![the register](https://example.org/register.png) and "
            "[the guide](https://example.org/guide) and [tips](#guidance-tips).",
        ),
        encoding="utf-8",
    )
    for standard in packaging.FORMATS:
        built = build(base_programme, standard, "en")
        for name, data in built.files.items():
            if not name.endswith((".html", ".css", ".js")):
                continue
            text = data.decode("utf-8")
            assert not re.search(r"\b(src|srcset|poster|data)\s*=\s*[\"']?\s*(https?:)?//", text)
            assert not re.search(r"<link[^>]+href=[\"']?(https?:)?//", text)
            assert not re.search(r"url\(\s*[\"']?(https?:)?//", text)
            assert not re.search(r"@import", text)
            for anchor in tree(text).iter("a") if name.endswith(".html") else ():
                href = anchor.get("href", "")
                if not href.startswith("#"):
                    assert anchor.get("target") == "_blank", (name, href)
        page = built.text("lighting-advanced.html")
        assert (
            '<a href="https://example.org/register.png" rel="noopener noreferrer" '
            'target="_blank">the register</a>'
        ) in page
        assert (
            '<a href="https://example.org/guide" rel="noopener noreferrer" target="_blank">'
            "the guide</a>"
        ) in page
        assert '<a href="#guidance-tips" rel="noopener noreferrer">tips</a>' in page


def test_single_sco_page_holds_every_module_of_the_path(build: Build) -> None:
    programme = load(CLIMATE)
    path = programme.path("decision-makers")
    built = build(CLIMATE, "scorm2004", "sv", path_id="decision-makers", single_sco=True)
    page = built.text("index.html")
    data = data_of(page)
    modules = [programme.modules[i] for i in path.items]
    assert data["module"] == "decision-makers"
    assert data["points"] == sum(m.points for m in modules)
    assert data["mastery"] == 70
    assert data["blocks"] == [f"{m.id}/{b}" for m in modules for b in BLOCKS if b in m.blocks]
    assert [q["id"] for q in data["check"]["questions"]] == [
        f"{m.id}-{q.id}" for m in modules if m.check for q in m.check.questions
    ]
    assert data["certificate"] == "certificate.html"
    assert data["ui"]["completed"] == "Lärvägen är klar."
    doc = tree(page)
    assert [s.get("data-block") for s in doc.xpath("//section[@data-block]")] == data["blocks"]
    assert len(doc.xpath("//form[@id='capacity-check']")) == 1
    assert [a.get("id") for a in doc.xpath("//article")] == path.items
    assert not [n for n in built.files if n.endswith(".html") and n[:-5] in programme.modules]


def test_the_authoring_guide_example_packages_with_english_labels(
    build: Build, tmp_path: Path, schemas: Path
) -> None:
    """docs/authoring.md's worked example is German: no package labels exist for it."""
    from tests.test_docs import _FILE, REPO

    doc = (REPO / "docs" / "authoring.md").read_text(encoding="utf-8")
    folder = tmp_path / "authoring"
    for match in _FILE.finditer(doc):
        (folder / match["name"]).parent.mkdir(parents=True, exist_ok=True)
        (folder / match["name"]).write_text(match["body"], encoding="utf-8")
    for standard in packaging.FORMATS:
        built = build(folder, standard, "de-AT", schemas=schemas)
        page = built.text("heat-pumps-beginner.html")
        doc_tree = tree(page)
        assert doc_tree.get("lang") == "de-AT"
        assert doc_tree.xpath("//section[@data-block='basics/what']/h3[@lang='en']")[0].text == (
            "What"
        )
        assert (
            "Außenluft" in doc_tree.xpath("//section[@data-block='basics/what']")[0].text_content()
        )
        assert doc_tree.xpath("//section[@data-block='basics/what']/div[@lang]") == []
        why = doc_tree.xpath("//section[@data-block='basics/why']")[0]
        assert why.xpath("div/@lang") == ["en"]
        assert data_of(page)["ui"]["saved"] == "Progress saved."


def test_an_outside_image_becomes_a_link_whose_text_is_escaped(
    build: Build, base_programme: Path
) -> None:
    module = base_programme / "modules" / "lighting-advanced.en.md"
    text = module.read_text(encoding="utf-8")
    module.write_text(
        text.replace(
            "A lamp register.", "![<b>x</b> & <script>alert(1)</script>](https://example.org/a.png)"
        ),
        encoding="utf-8",
    )
    page = build(base_programme, "scorm12", "en").text("lighting-advanced.html")
    assert "<script>alert" not in page
    assert "<b>x</b>" not in page
    assert (
        '<a href="https://example.org/a.png" rel="noopener noreferrer" target="_blank">'
        "&lt;b&gt;x&lt;/b&gt; &amp; &lt;script&gt;alert(1)&lt;/script&gt;</a>"
    ) in page


def test_the_whole_programme_as_one_sco_says_programme(build: Build) -> None:
    built = build(BASE, "scorm12", "fr", single_sco=True)
    assert built.path.name == "test-programme-single-fr-scorm12.zip"
    data = data_of(built.text("index.html"))
    assert data["module"] == "test-programme"
    assert data["ui"]["completed"] == "Programme terminé."
    assert [b.split("/")[0] for b in data["blocks"][::11]] == [
        "lighting-beginner",
        "lighting-advanced",
    ]
    certificate = tree(built.text("certificate.html"))
    assert certificate.xpath("//main/p[3]")[0].text == "a suivi avec succès le programme"
    assert certificate.findtext(".//h1") == "Programme de test"
    assert "site-visit.html" in built.files
