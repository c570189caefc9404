"""Manifests: valid against the official XSDs, and shaped as docs/packaging.md describes."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from lxml import etree

from capacity_lti import packaging
from tests.packaging.conftest import (
    BASE,
    CLIMATE,
    MOBILITY,
    NS,
    PARSER,
    Built,
    load,
    official_schema,
)

Build = Callable[..., Built]
EVERY_PACKAGE = [
    (folder, spec.standard, spec.language)
    for folder in (CLIMATE, MOBILITY)
    for spec in packaging.plan_all(load(folder))
]


def expect_valid(built: Built, schemas: Path, standard: str) -> None:
    schema = official_schema(schemas, standard)
    document = etree.fromstring(built.files["imsmanifest.xml"], PARSER)
    valid = schema.validate(document)
    assert valid, [f"line {e.line}: {e.message}" for e in schema.error_log]


@pytest.mark.parametrize(
    ("folder", "standard", "language"),
    EVERY_PACKAGE,
    ids=[f"{f.name}-{s}-{lang}" for f, s, lang in EVERY_PACKAGE],
)
def test_every_format_and_language_of_both_examples_is_valid(
    build: Build, schemas: Path, folder: Path, standard: str, language: str
) -> None:
    built = build(folder, standard, language, schemas=schemas)
    expect_valid(built, schemas, standard)
    assert built.path.name == f"{folder.name}-{language}-{standard}.zip"


@pytest.mark.parametrize("standard", packaging.FORMATS)
@pytest.mark.parametrize(
    "options",
    [
        {"path_id": "ambassadors"},
        {"path_id": "decision-makers", "single_sco": True},
        {"module_id": "initiate-from-problem-to-pilot"},
    ],
    ids=["path", "path-single-sco", "module"],
)
def test_paths_modules_and_single_sco_packages_are_valid(
    build: Build, schemas: Path, standard: str, options: dict[str, object]
) -> None:
    expect_valid(build(MOBILITY, standard, "it", schemas=schemas, **options), schemas, standard)


def test_plan_all_is_every_format_by_every_language() -> None:
    plan = packaging.plan_all(load(CLIMATE))
    assert [(s.standard, s.language) for s in plan] == [
        (standard, language)
        for standard in ("scorm12", "scorm2004")
        for language in ("en", "sv", "fr", "en-GB")
    ]
    assert {s.filename for s in plan} >= {"climate-action-sv-scorm12.zip"}
    assert all(s.path_id is None and s.module_id is None and not s.single_sco for s in plan)


def test_scorm12_whole_programme_groups_modules_by_theme(build: Build) -> None:
    programme = load(CLIMATE)
    built = build(CLIMATE, "scorm12", "fr")
    root = built.manifest
    assert root.tag == f"{{{NS['cp12']}}}manifest"
    assert root.get("identifier") == "capacity-climate-action-fr-scorm12"
    assert root.findtext("cp12:metadata/cp12:schemaversion", namespaces=NS) == "1.2"
    assert root.findtext("cp12:metadata/adlcp12:location", namespaces=NS) == "metadata.xml"
    organization = root.find("cp12:organizations/cp12:organization", NS)
    assert organization.findtext("cp12:title", namespaces=NS) == programme.title["fr"]
    groups = organization.findall("cp12:item", NS)
    assert [g.findtext("cp12:title", namespaces=NS) for g in groups] == [
        t.title["fr"] for t in programme.themes
    ]
    for group, theme in zip(groups, programme.themes, strict=True):
        modules = programme.theme_modules(theme.id)
        items = group.findall("cp12:item", NS)
        assert [i.get("identifierref") for i in items] == [f"res-{m.id}" for m in modules]
        for item, module in zip(items, modules, strict=True):
            assert module.check is not None
            assert item.findtext("adlcp12:masteryscore", namespaces=NS) == str(
                module.check.pass_percent
            )
    for module in programme.modules.values():
        resource = root.find(f"cp12:resources/cp12:resource[@identifier='res-{module.id}']", NS)
        assert resource.get(f"{{{NS['adlcp12']}}}scormtype") == "sco"
        assert resource.get("href") == f"{module.id}.html"
        assert [d.get("identifierref") for d in resource.findall("cp12:dependency", NS)] == [
            "res-capacity"
        ]
    metadata = etree.fromstring(built.files["metadata.xml"], PARSER)
    md = {"md": "http://www.imsglobal.org/xsd/imsmd_rootv1p2p1"}
    title = metadata.find("md:general/md:title/md:langstring", md)
    assert title.text == programme.title["fr"]
    assert title.get("{http://www.w3.org/XML/1998/namespace}lang") == "fr"
    assert metadata.findtext("md:general/md:language", namespaces=md) == "fr"


def _requires(item: etree._Element) -> list[str]:
    """The global objectives an item's precondition rule reads, via its local objectives."""
    local = {
        o.get("objectiveID"): o.find("imsss:mapInfo", NS).get("targetObjectiveID")
        for o in item.findall("imsss:sequencing/imsss:objectives/imsss:objective", NS)
    }
    conditions = item.findall(
        "imsss:sequencing/imsss:sequencingRules/imsss:preConditionRule/imsss:ruleConditions/"
        "imsss:ruleCondition",
        NS,
    )
    assert all(c.get("operator") == "not" for c in conditions)
    return sorted({local[c.get("referencedObjective")] for c in conditions})


def test_scorm2004_path_sequencing_follows_the_path_order(build: Build) -> None:
    programme = load(MOBILITY)
    path = programme.path("ambassadors")
    root = build(MOBILITY, "scorm2004", "en", path_id="ambassadors").manifest
    assert root.findtext("cp:metadata/cp:schemaversion", namespaces=NS) == "2004 4th Edition"
    organization = root.find("cp:organizations/cp:organization", NS)
    assert organization.get(f"{{{NS['adlseq']}}}objectivesGlobalToSystem") == "false"
    control = organization.find("imsss:sequencing/imsss:controlMode", NS)
    assert (control.get("choice"), control.get("flow")) == ("true", "true")
    rollup = organization.findall("imsss:sequencing/imsss:rollupRules/imsss:rollupRule", NS)
    assert [r.find("imsss:rollupAction", NS).get("action") for r in rollup] == [
        "satisfied",
        "completed",
    ]
    items = organization.findall("cp:item", NS)
    assert [i.get("identifierref") for i in items] == [f"res-{i}" for i in path.items]
    previous = None
    urn = "urn:capacity-lti:mobility-innovation:"
    for item, item_id in zip(items, path.items, strict=True):
        sequencing = item.find("imsss:sequencing", NS)
        if item_id in programme.events:
            assert sequencing.find("imsss:deliveryControls", NS).get("tracked") == "false"
            rules = sequencing.find("imsss:rollupRules", NS)
            assert rules.get("rollupObjectiveSatisfied") == "false"
            assert rules.get("rollupProgressCompletion") == "false"
            continue
        primary = sequencing.find("imsss:objectives/imsss:primaryObjective", NS)
        assert primary.get("satisfiedByMeasure") == "true"
        assert primary.findtext("imsss:minNormalizedMeasure", namespaces=NS) == "1"
        written = primary.find("imsss:mapInfo", NS)
        assert written.get("targetObjectiveID") == f"{urn}{item_id}"
        assert written.get("writeSatisfiedStatus") == "true"
        assert _requires(item) == ([f"{urn}{previous}"] if previous else [])
        previous = item_id
    assert previous == "implement-innovation-deployment-plan"


def test_scorm2004_events_are_untracked_assets(build: Build) -> None:
    root = build(MOBILITY, "scorm2004", "en").manifest
    programme = load(MOBILITY)
    for event in programme.events:
        resource = root.find(f"cp:resources/cp:resource[@identifier='res-{event}']", NS)
        assert resource.get(f"{{{NS['adlcp']}}}scormType") == "asset"
    groups = root.findall("cp:organizations/cp:organization/cp:item", NS)
    assert groups[-1].findtext("cp:title", namespaces=NS) == "Events"
    assert [i.get("identifierref") for i in groups[-1].findall("cp:item", NS)] == [
        f"res-{e}" for e in programme.events
    ]


def test_whole_programme_prerequisites_come_from_module_requires(build: Build) -> None:
    root = build(BASE, "scorm2004", "en").manifest
    item = root.find(".//cp:item[@identifier='item-lighting-advanced']", NS)
    assert _requires(item) == ["urn:capacity-lti:test-programme:lighting-beginner"]
    first = root.find(".//cp:item[@identifier='item-lighting-beginner']", NS)
    assert _requires(first) == []


def test_single_sco_is_one_sco_for_the_path(build: Build) -> None:
    programme = load(MOBILITY)
    built = build(MOBILITY, "scorm12", "en", path_id="ambassadors", single_sco=True)
    assert built.path.name == "mobility-innovation-ambassadors-single-en-scorm12.zip"
    root = built.manifest
    scos = root.findall(f"cp12:resources/cp12:resource[@{{{NS['adlcp12']}}}scormtype='sco']", NS)
    assert [s.get("href") for s in scos] == ["index.html"]
    items = root.findall("cp12:organizations/cp12:organization/cp12:item", NS)
    assert [i.get("identifierref") for i in items] == ["res-sco"] + [
        f"res-{i}" for i in programme.path("ambassadors").items if i in programme.events
    ]
    assert items[0].findtext("adlcp12:masteryscore", namespaces=NS) == "70"
