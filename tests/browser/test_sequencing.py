"""SCORM 2004 sequencing of a path package in scorm-again's sequencer (SCORM 2004 4th Edition).

The harness LMS reads the package's imsmanifest.xml into scorm-again's activity tree, as an LMS
does on import, and keeps one API for the whole attempt. The learner then meets the path's
prerequisites: a module opens only once the module before it is done (read and passed), and a
failed check keeps the next one closed. Moodle ignores all of this; see docs/packaging.md.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lxml import etree

from capacity_lti import content
from tests.browser.conftest import EXAMPLES, Package
from tests.browser.learner import Learner

if TYPE_CHECKING:
    from playwright.sync_api import Page

Site = tuple[Path, str]
Packages = Callable[..., Package]
MOBILITY = EXAMPLES / "mobility-innovation"
CP = "http://www.imsglobal.org/xsd/imscp_v1p1"
NS = {"cp": CP, "imsss": "http://www.imsglobal.org/xsd/imsss"}
PARSER = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)


def _flags(element: Any) -> dict[str, Any]:
    return {k: v == "true" if v in ("true", "false") else v for k, v in element.attrib.items()}


def _objective(element: Any, primary: bool) -> dict[str, Any]:
    found: dict[str, Any] = {"objectiveID": element.get("objectiveID"), "isPrimary": primary}
    if element.get("satisfiedByMeasure"):
        found["satisfiedByMeasure"] = element.get("satisfiedByMeasure") == "true"
    measure = element.findtext("imsss:minNormalizedMeasure", namespaces=NS)
    if measure is not None:
        found["minNormalizedMeasure"] = float(measure)
    found["mapInfo"] = [_flags(m) for m in element.findall("imsss:mapInfo", NS)]
    return found


def _sequencing(sequencing: Any) -> dict[str, Any]:
    """imsss:sequencing as scorm-again's ActivitySettings fields (what our manifests use)."""
    found: dict[str, Any] = {}
    controls: dict[str, Any] = {}
    control = sequencing.find("imsss:controlMode", NS)
    if control is not None:
        controls.update(_flags(control))
    rollup = sequencing.find("imsss:rollupRules", NS)
    if rollup is not None:
        for name, value in rollup.attrib.items():
            controls[name] = float(value) if name == "objectiveMeasureWeight" else value == "true"
    if controls:
        found["sequencingControls"] = controls
    rules = []
    for rule in sequencing.findall("imsss:sequencingRules/imsss:preConditionRule", NS):
        conditions = rule.find("imsss:ruleConditions", NS)
        rules.append(
            {
                "action": rule.find("imsss:ruleAction", NS).get("action"),
                "conditionCombination": conditions.get("conditionCombination", "all"),
                "conditions": [_flags(c) for c in conditions.findall("imsss:ruleCondition", NS)],
            }
        )
    if rules:
        found["sequencingRules"] = {"preConditionRules": rules}
    primary = sequencing.find("imsss:objectives/imsss:primaryObjective", NS)
    if primary is not None:
        found["primaryObjective"] = _objective(primary, True)
        found["objectives"] = [
            _objective(o, False) for o in sequencing.findall("imsss:objectives/imsss:objective", NS)
        ]
    delivery = sequencing.find("imsss:deliveryControls", NS)
    if delivery is not None:
        found["deliveryControls"] = _flags(delivery)
    return found


def _activity(item: Any) -> dict[str, Any]:
    found = {"id": item.get("identifier"), "title": item.findtext("cp:title", namespaces=NS)}
    children = [_activity(child) for child in item.findall("cp:item", NS)]
    if children:
        found["children"] = children
    sequencing = item.find("imsss:sequencing", NS)
    if sequencing is not None:
        found.update(_sequencing(sequencing))
    return found


def activity_tree(manifest: Path) -> tuple[dict[str, Any], dict[str, str]]:
    """(the default organisation as scorm-again's activity tree, {item id: launch page})."""
    root = etree.parse(str(manifest), PARSER).getroot()
    hrefs = {r.get("identifier"): r.get("href") for r in root.iterfind(".//cp:resource", NS)}
    launches = {
        i.get("identifier"): hrefs[i.get("identifierref")]
        for i in root.iterfind(".//cp:item[@identifierref]", NS)
    }
    return _activity(root.find("cp:organizations/cp:organization", NS)), launches


class Sequenced:
    """The harness LMS with one sequenced SCORM 2004 API for the whole package."""

    def __init__(self, page: Page, site: str, pkg: Package) -> None:
        self.page = page
        self.site = site
        self.pkg = pkg
        tree, self.launches = activity_tree(pkg.folder / "imsmanifest.xml")
        page.goto(f"{site}harness.html")
        page.evaluate("tree => lms.sequence({tree: tree})", tree)

    def navigate(self, request: str, target: str | None = None) -> dict[str, Any]:
        found: dict[str, Any] = self.page.evaluate(
            "([request, target]) => lms.navigate(request, target)", [request, target]
        )
        return found

    def deliver(self, item: str, stored: dict[str, Any] | None = None) -> Learner:
        """Launch the SCO of `item` in the frame (resuming from `stored`), wait for its runtime."""
        page_name = self.launches[item]
        learner = Learner(self.page, self.site, "scorm2004", self.pkg.pages()[page_name])
        self.page.evaluate(
            "([src, stored]) => lms.deliver(src, stored)", [f"{self.pkg.url}{page_name}", stored]
        )
        self.page.wait_for_function("() => lms.calls.some(c => c.fn === 'Initialize')")
        learner.frame.locator(".capacity-status").wait_for(state="attached")
        return learner


def read_everything(learner: Learner) -> None:
    for index in range(len(learner.data["blocks"])):
        learner.read(index)


def test_a_path_opens_module_by_module_in_a_sequencing_lms(
    page: Page, site: Site, package: Packages
) -> None:
    programme = content.load_programme(MOBILITY)
    path = programme.path("ambassadors")
    modules = [f"item-{i}" for i in path.items if i in programme.modules]
    lms = Sequenced(page, site[1], package("scorm2004", "en", None, MOBILITY, "ambassadors"))

    assert lms.navigate("start") == {"ok": True, "delivered": modules[0]}
    assert lms.navigate("choice", modules[1])["ok"] is False, "locked until the first is done"
    first = lms.deliver(modules[0])
    read_everything(first)
    first.answer(first.correct_answers())
    first.leave()
    assert first.stored()["score"]["scaled"] == "1"

    assert lms.navigate("choice", modules[2])["ok"] is False, "two ahead: still locked"
    assert lms.navigate("choice", modules[1]) == {"ok": True, "delivered": modules[1]}
    second = lms.deliver(modules[1])
    read_everything(second)
    second.answer(second.failing_answers())
    second.leave()
    assert second.stored()["success_status"] == "failed"
    assert lms.navigate("choice", modules[2])["ok"] is False, "a failed check keeps it locked"

    assert lms.navigate("choice", modules[1])["ok"] is True  # back to the suspended module
    again = lms.deliver(modules[1], second.stored())
    assert again.seen_in_page() == set(range(len(again.data["blocks"])))
    again.answer(again.correct_answers())
    again.leave()
    assert again.stored()["score"]["scaled"] == "1"
    assert lms.navigate("choice", modules[2]) == {"ok": True, "delivered": modules[2]}


def test_a_path_rolls_up_from_its_modules_and_not_its_events(
    page: Page, site: Site, package: Packages
) -> None:
    programme = content.load_programme(MOBILITY)
    path = programme.path("decision-makers")
    modules = [f"item-{i}" for i in path.items if i in programme.modules]
    events = [f"item-{i}" for i in path.items if i in programme.events]
    assert (len(modules), len(events)) == (2, 2)
    lms = Sequenced(page, site[1], package("scorm2004", "it", None, MOBILITY, "decision-makers"))
    assert lms.navigate("start") == {"ok": True, "delivered": modules[0]}
    for index, item in enumerate(modules):
        if index:
            assert lms.navigate("choice", item) == {"ok": True, "delivered": item}
        learner = lms.deliver(item)
        read_everything(learner)
        learner.answer(learner.correct_answers())
        learner.leave()
        before_last = lms.page.evaluate("() => lms.tracking('org')")
        if index < len(modules) - 1:
            assert before_last["successStatus"] != "passed"
    root = lms.page.evaluate("() => lms.tracking('org')")
    assert (root["completionStatus"], root["successStatus"]) == ("completed", "passed")
    for event in events:  # never launched, and still no obstacle to the path's completion
        assert lms.page.evaluate("id => lms.tracking(id)", event)["completionStatus"] == "unknown"
