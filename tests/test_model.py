"""The loaded model: fallback per block, country variants, checks, the self-assessment, locales."""

from __future__ import annotations

from pathlib import Path

import pytest

from capacity_lti.content import BLOCKS, load_programme, negotiate, pick
from capacity_lti.content.yamlsource import parse_yaml
from capacity_lti.errors import ContentError


def test_blocks_fall_back_one_by_one_along_variant_language_default(base_programme: Path) -> None:
    programme = load_programme(base_programme)
    module = programme.modules["lighting-beginner"]
    chain = programme.chain("fr-BE")
    assert chain == ("fr-BE", "fr", "en")
    assert "En Belgique" in pick(module.blocks["guidance/policy-context"], chain)
    assert "service municipal" in pick(module.blocks["basics/what"], chain)
    assert "electricity bill" in pick(module.blocks["basics/why"], chain)
    assert pick(module.title, chain) == "L'éclairage public en Belgique"
    assert pick(module.title, programme.chain("fr")) == "Les bases de l'éclairage public"


def test_module_structure_points_and_certificate_defaults(base_programme: Path) -> None:
    programme = load_programme(base_programme)
    assert list(programme.modules) == ["lighting-beginner", "lighting-advanced"]
    beginner, advanced = programme.modules.values()
    assert set(beginner.blocks) == set(BLOCKS)
    assert (beginner.points, beginner.certificate, beginner.minutes) == (2, True, 10)
    assert advanced.requires == ("lighting-beginner",)
    assert programme.events["site-visit"].points == 3
    assert programme.points_possible() == 7
    assert programme.points_possible(programme.path("trainers").items) == 2
    assert beginner.assets == ("media/checklist.txt", "media/map.png")
    assert 'src="media/map.png"' in beginner.blocks["basics/what"]["en"]


def test_check_translation_and_grading(base_programme: Path) -> None:
    check = load_programme(base_programme).modules["lighting-beginner"].check
    assert check is not None
    q1, q2 = check.questions
    assert q1.prompt == {"en": "What saves most?", "fr": "Qu'est-ce qui économise le plus ?"}
    assert q1.choices[0].text["fr"] == "Les lampes LED"
    assert (q1.correct_indexes, q2.correct_indexes, q2.multiple) == ((0,), (0, 2), True)
    assert check.score({"q1": [0], "q2": [2, 0]}) == 2
    assert check.score({"q1": [0], "q2": [0]}) == 1
    assert check.passed({"q1": [0], "q2": [0]})  # 50 % is the pass mark here
    assert not check.passed({"q1": [1], "q2": [0, 1, 2]})


def test_self_assessment_recommends_heaviest_path_and_ties_go_to_the_earlier(
    base_programme: Path,
) -> None:
    programme = load_programme(base_programme)
    assessment = programme.assessment
    assert assessment is not None
    order = [p.id for p in programme.paths]
    assert assessment.recommend({"role": "officer"}, order) == "officers"
    assert assessment.recommend({"role": "trainer"}, order) == "trainers"
    assert assessment.recommend({}, order) is None


@pytest.mark.parametrize(
    ("locale", "expected"),
    [
        ("fr", "fr"),
        ("fr_be", "fr-BE"),  # Moodle's form
        ("fr-BE", "fr-BE"),  # Canvas's form
        ("fr-CA", "fr"),
        ("pt_br", "en"),
        ("", "en"),
        (None, "en"),
        ("EN-us", "en"),
    ],
)
def test_lms_locale_negotiation(locale: str | None, expected: str) -> None:
    assert negotiate(locale, ["en", "fr", "fr-BE"], "en") == expected


def test_yaml_keeps_norwegian_and_yes_as_text_and_locates_lines(tmp_path: Path) -> None:
    located = parse_yaml(
        "languages: [en, no]\nanswer: yes\nflag: true\nn: 3\n", tmp_path / "x.yaml"
    )
    assert located.data == {"languages": ["en", "no"], "answer": "yes", "flag": True, "n": 3}
    assert located.line_of(("answer",)) == 2
    assert located.line_of(("languages", 1)) == 1
    assert located.line_of(("missing", "deeper")) == 1


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "a: 1\nb: *x\n",
            "2: YAML syntax: aliases ('*name') are not allowed; write the value out",
        ),
        (
            "a: !!python/object:os.system x\n",
            "1: YAML syntax: YAML tags ('tag:yaml.org,2002:python/object:os.system') are not allowed; remove it",
        ),
        ("a: !custom x\n", "1: YAML syntax: YAML tags ('!custom') are not allowed; remove it"),
        ("a: 1\n<<: {b: 2}\n", "2: merge keys ('<<') are not allowed; write the keys out"),
        (
            'a: &a ["x","x"]\nb: &b [*a,*a]\nc: &c [*b,*b]\nd: [*c,*c]\n',
            "1: YAML syntax: anchors ('&name') are not allowed; remove them",
        ),
    ],
)
def test_yaml_refuses_aliases_tags_merges_and_entity_bombs(
    tmp_path: Path, text: str, message: str
) -> None:
    with pytest.raises(ContentError) as refused:
        parse_yaml(text, tmp_path / "x.yaml")
    assert str(refused.value) == f"{tmp_path / 'x.yaml'}:{message}"
