"""Which awards are due: the example programmes' rules, events counting like modules."""

from __future__ import annotations

from capacity_lti.awards.rules import AwardKind, DueAward, due_awards, rule_met
from capacity_lti.awards.texts import award_title, criteria_narrative, phrase_language
from capacity_lti.content import Programme


def keys(awards: list[DueAward]) -> list[str]:
    return [a.key for a in awards]


def test_nothing_is_due_for_nothing_done(climate: Programme) -> None:
    assert due_awards(climate, set()) == []


def test_a_module_with_a_certificate_earns_one_when_completed(climate: Programme) -> None:
    assert due_awards(climate, {"waste-beginner"}) == [
        DueAward(
            key="module:waste-beginner",
            kind=AwardKind.MODULE_CERTIFICATE,
            rule_id=None,
            path_id=None,
            module_id="waste-beginner",
            points=1,
        )
    ]


def test_a_module_without_a_certificate_earns_none(climate: Programme) -> None:
    modules = dict(climate.modules)
    modules["waste-beginner"] = modules["waste-beginner"].model_copy(update={"certificate": False})
    programme = climate.model_copy(update={"modules": modules})
    assert due_awards(programme, {"waste-beginner", "water-beginner"}) == [
        DueAward(
            "module:water-beginner", AwardKind.MODULE_CERTIFICATE, None, None, "water-beginner", 1
        )
    ]


def test_completing_a_path_earns_its_certificate_but_not_the_diploma(climate: Programme) -> None:
    done = set(climate.path("decision-makers").items)
    awards = due_awards(climate, done)
    rules = [a for a in awards if a.kind is not AwardKind.MODULE_CERTIFICATE]
    assert rules == [
        DueAward(
            key="rule:decision-makers-certificate",
            kind=AwardKind.PATH_CERTIFICATE,
            rule_id="decision-makers-certificate",
            path_id="decision-makers",
            module_id=None,
            points=8,
        )
    ]
    assert len(awards) == 9  # and the eight module certificates


def test_one_module_short_of_a_path_earns_no_path_certificate(climate: Programme) -> None:
    done = set(climate.path("decision-makers").items) - {"water-beginner"}
    assert "rule:decision-makers-certificate" not in keys(due_awards(climate, done))


def test_the_whole_programme_earns_the_diploma_and_every_path_certificate(
    climate: Programme,
) -> None:
    awards = due_awards(climate, set(climate.modules))
    assert keys(awards)[-4:] == [
        "rule:climate-action-diploma",
        "rule:decision-makers-certificate",
        "rule:officers-certificate",
        "rule:trainers-certificate",
    ]
    assert awards[-4].kind is AwardKind.DIPLOMA
    assert awards[-4].points == 16
    assert len(awards) == 16 + 4


def test_events_count_like_modules_and_min_points_lets_one_event_be_missed(
    mobility: Programme,
) -> None:
    diploma = mobility.diplomas[0]
    everything = {item.id for item in mobility.items()}
    assert rule_met(mobility, diploma, everything)
    assert rule_met(mobility, diploma, everything - {"study-visit-mobility-hub"})  # 11 of 13
    assert not rule_met(
        mobility,
        diploma,
        everything - {"study-visit-mobility-hub", "inspire-why-innovation-stalls"},
    )  # 10 of 13
    modules_only = set(mobility.modules)
    assert not rule_met(mobility, diploma, modules_only)  # 5 points: the events are needed
    path = set(mobility.path("decision-makers").items)
    assert "rule:decision-makers-certificate" in keys(due_awards(mobility, path))
    events = path - set(mobility.modules)
    assert events == {"webinar-shared-mobility-lessons", "study-visit-mobility-hub"}
    assert "rule:decision-makers-certificate" not in keys(
        due_awards(mobility, path - {"study-visit-mobility-hub"})
    )


def test_titles_and_narratives_are_in_the_learners_language(climate: Programme) -> None:
    diploma = next(a for a in due_awards(climate, set(climate.modules)) if a.kind == "diploma")
    path = next(a for a in due_awards(climate, set(climate.modules)) if a.path_id == "officers")
    module = due_awards(climate, {"water-beginner"})[0]
    assert award_title(climate, diploma, "sv") == "Diplom i lokal klimat- och energiomställning"
    assert criteria_narrative(climate, diploma, "fr") == (
        "A obtenu au moins 16 des 16 points du programme « Action locale pour le climat et "
        "l'énergie »."
    )
    assert criteria_narrative(climate, path, "sv") == (
        "Har genomfört alla moduler och evenemang i lärvägen ”För kommunens tjänstepersoner” i "
        "programmet ”Lokal klimat- och energiomställning”."
    )
    assert criteria_narrative(climate, module, "en-GB") == (
        "Completed the module “Water: the hidden energy user among municipal services” of the "
        "programme “Local climate and energy action” and passed its knowledge check."
    )
    # A language without phrases of its own: English phrases, authored text by fallback.
    assert phrase_language("pl") == "en"
    assert criteria_narrative(climate, diploma, "pl").startswith("Earned at least 16 of the 16")
