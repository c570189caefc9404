"""imsmanifest.xml for SCORM 2004 4th Edition, built with lxml.

Simple sequencing: the organisation (and each theme group) allows choice and flow and rolls up
satisfaction and completion from its SCOs. Each SCO's primary objective is satisfied when the
runtime reports the module done (score.scaled 1, whatever the check) and is written to a
package-local global objective; a SCO that requires others is disabled until their objectives
are satisfied. Events are untracked pages left out of rollup. An LMS that ignores sequencing
(Moodle) still shows every item and tracks each SCO on its own.
"""

from __future__ import annotations

import copy
import functools

from lxml import etree

from capacity_lti.packaging.manifest_xml import add_item, add_resources, el, serialise
from capacity_lti.packaging.structure import Node, Structure

CP = "http://www.imsglobal.org/xsd/imscp_v1p1"
ADLCP = "http://www.adlnet.org/xsd/adlcp_v1p3"
ADLSEQ = "http://www.adlnet.org/xsd/adlseq_v1p3"
ADLNAV = "http://www.adlnet.org/xsd/adlnav_v1p3"
IMSSS = "http://www.imsglobal.org/xsd/imsss"
LOM = "http://ltsc.ieee.org/xsd/LOM"
XSI = "http://www.w3.org/2001/XMLSchema-instance"
SCHEMA_LOCATION = (
    f"{CP} imscp_v1p1.xsd {ADLCP} adlcp_v1p3.xsd {ADLSEQ} adlseq_v1p3.xsd "
    f"{ADLNAV} adlnav_v1p3.xsd {IMSSS} imsss_v1p0.xsd {LOM} lom.xsd"
)
NSMAP: dict[str | None, str] = {None: CP, "adlcp": ADLCP, "adlseq": ADLSEQ, "adlnav": ADLNAV, "imsss": IMSSS,
         "lom": LOM, "xsi": XSI}  # fmt: skip


def _rollup(sequencing: etree._Element) -> None:
    rules = el(sequencing, IMSSS, "rollupRules")
    for status in ("satisfied", "completed"):
        rule = el(rules, IMSSS, "rollupRule", childActivitySet="all")
        conditions = el(rule, IMSSS, "rollupConditions")
        el(conditions, IMSSS, "rollupCondition", condition=status)
        el(rule, IMSSS, "rollupAction", action=status)


def _group_sequencing(parent: etree._Element) -> None:
    sequencing = el(parent, IMSSS, "sequencing")
    el(sequencing, IMSSS, "controlMode", choice="true", flow="true")
    _rollup(sequencing)


def _sco_sequencing(parent: etree._Element, requires: int) -> None:
    """A SCO's sequencing with `requires` prerequisites; ids are filled in by _fill."""
    sequencing = el(parent, IMSSS, "sequencing")
    if requires:
        rules = el(sequencing, IMSSS, "sequencingRules")
        rule = el(rules, IMSSS, "preConditionRule")
        conditions = el(rule, IMSSS, "ruleConditions", conditionCombination="any")
        for _ in range(requires):
            for condition in ("satisfied", "objectiveStatusKnown"):
                el(conditions, IMSSS, "ruleCondition", referencedObjective="",
                    operator="not", condition=condition)  # fmt: skip
        el(rule, IMSSS, "ruleAction", action="disabled")
    objectives = el(sequencing, IMSSS, "objectives")
    primary = el(objectives, IMSSS, "primaryObjective", objectiveID="", satisfiedByMeasure="true")
    el(primary, IMSSS, "minNormalizedMeasure", "1")
    el(primary, IMSSS, "mapInfo", targetObjectiveID="", readSatisfiedStatus="false",
        readNormalizedMeasure="false", writeSatisfiedStatus="true")  # fmt: skip
    for _ in range(requires):
        objective = el(objectives, IMSSS, "objective", objectiveID="")
        el(objective, IMSSS, "mapInfo", targetObjectiveID="", readSatisfiedStatus="true",
            readNormalizedMeasure="false")  # fmt: skip
    el(sequencing, IMSSS, "deliveryControls", completionSetByContent="true",
        objectiveSetByContent="true")  # fmt: skip


def _untracked(parent: etree._Element) -> None:
    sequencing = el(parent, IMSSS, "sequencing")
    el(sequencing, IMSSS, "rollupRules", rollupObjectiveSatisfied="false",
        rollupProgressCompletion="false", objectiveMeasureWeight="0")  # fmt: skip
    el(sequencing, IMSSS, "deliveryControls", tracked="false")


@functools.cache
def _template(kind: str, requires: int = 0) -> etree._Element:
    """A sequencing element of one shape, built once: items take deep copies (lxml builds a
    copy in C, several times faster than building the elements one by one)."""
    holder = etree.Element(f"{{{CP}}}item", nsmap=NSMAP)  # type: ignore[arg-type]
    if kind == "group":
        _group_sequencing(holder)
    elif kind == "untracked":
        _untracked(holder)
    else:
        _sco_sequencing(holder, requires)
    return holder[0]


def _fill(sequencing: etree._Element, node: Node, structure: Structure) -> None:
    """Write a SCO's objective ids into a copy of its _template (positions as built there)."""
    objectives = sequencing[1 if node.requires else 0]
    primary = objectives[0]
    primary.set("objectiveID", f"done-{node.objective}")
    primary[1].set("targetObjectiveID", f"{structure.objectives}{node.objective}")
    if not node.requires:
        return
    conditions = sequencing[0][0][0]
    for index, key in enumerate(node.requires):
        local = f"requires-{key}"
        conditions[2 * index].set("referencedObjective", local)
        conditions[2 * index + 1].set("referencedObjective", local)
        objectives[index + 1].set("objectiveID", local)
        objectives[index + 1][0].set("targetObjectiveID", f"{structure.objectives}{key}")


def _item(parent: etree._Element, node: Node, structure: Structure) -> None:
    item = add_item(parent, CP, node)
    for child in node.children:
        _item(item, child, structure)
    if node.children:
        item.append(copy.deepcopy(_template("group")))
    elif node.tracked:
        sequencing = copy.deepcopy(_template("sco", len(node.requires)))
        _fill(sequencing, node, structure)
        item.append(sequencing)
    else:
        item.append(copy.deepcopy(_template("untracked")))


def _lom(metadata: etree._Element, structure: Structure) -> None:
    lom = el(metadata, LOM, "lom")
    general = el(lom, LOM, "general")
    title = el(general, LOM, "title")
    el(title, LOM, "string", structure.title, language=structure.language)
    el(general, LOM, "language", structure.language)
    if structure.description:
        description = el(general, LOM, "description")
        el(description, LOM, "string", structure.description, language=structure.language)


def manifest(structure: Structure) -> bytes:
    root = etree.Element(
        f"{{{CP}}}manifest",
        {"identifier": structure.identifier, "version": "1"},
        nsmap=NSMAP,  # type: ignore[arg-type]
    )
    root.set(f"{{{XSI}}}schemaLocation", SCHEMA_LOCATION)
    metadata = el(root, CP, "metadata")
    el(metadata, CP, "schema", "ADL SCORM")
    el(metadata, CP, "schemaversion", "2004 4th Edition")
    _lom(metadata, structure)
    organizations = el(root, CP, "organizations", default="org")
    organization = el(organizations, CP, "organization", identifier="org")
    organization.set(f"{{{ADLSEQ}}}objectivesGlobalToSystem", "false")
    el(organization, CP, "title", structure.title)
    for node in structure.nodes:
        _item(organization, node, structure)
    organization.append(copy.deepcopy(_template("group")))
    add_resources(root, CP, f"{{{ADLCP}}}scormType", structure)
    return serialise(root)
