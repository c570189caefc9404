"""imsmanifest.xml and metadata.xml for SCORM 1.2 (IMS CP 1.1.2 + ADL CP 1.2), built with lxml.

The LOM metadata sits in metadata.xml, named by adlcp:location: the IMS MD 1.2.1 XSD does not
compile, so inline metadata could not be validated.
"""

from __future__ import annotations

from lxml import etree

from capacity_lti.packaging.manifest_xml import add_item, add_resources, el, serialise
from capacity_lti.packaging.structure import Node, Structure

CP = "http://www.imsproject.org/xsd/imscp_rootv1p1p2"
ADLCP = "http://www.adlnet.org/xsd/adlcp_rootv1p2"
MD = "http://www.imsglobal.org/xsd/imsmd_rootv1p2p1"
XSI = "http://www.w3.org/2001/XMLSchema-instance"
XML = "http://www.w3.org/XML/1998/namespace"
SCHEMA_FILES = ("adlcp_rootv1p2.xsd", "ims_xml.xsd", "imscp_rootv1p1p2.xsd", "imsmd_rootv1p2p1.xsd")
METADATA = "metadata.xml"


def _item(parent: etree._Element, node: Node) -> None:
    item = add_item(parent, CP, node)
    for child in node.children:
        _item(item, child)
    if node.mastery is not None:
        el(item, ADLCP, "masteryscore", str(node.mastery))


def manifest(structure: Structure) -> bytes:
    root = etree.Element(
        f"{{{CP}}}manifest",
        {"identifier": structure.identifier, "version": "1.0"},
        nsmap={None: CP, "adlcp": ADLCP, "xsi": XSI},  # type: ignore[dict-item]  # lxml-stubs: None is the default namespace
    )
    root.set(
        f"{{{XSI}}}schemaLocation",
        f"{CP} imscp_rootv1p1p2.xsd {ADLCP} adlcp_rootv1p2.xsd",
    )
    metadata = el(root, CP, "metadata")
    el(metadata, CP, "schema", "ADL SCORM")
    el(metadata, CP, "schemaversion", "1.2")
    el(metadata, ADLCP, "location", METADATA)
    organizations = el(root, CP, "organizations", default="org")
    organization = el(organizations, CP, "organization", identifier="org")
    el(organization, CP, "title", structure.title)
    for node in structure.nodes:
        _item(organization, node)
    add_resources(root, CP, f"{{{ADLCP}}}scormtype", structure)
    return serialise(root)


def metadata(structure: Structure) -> bytes:
    """IMS Meta-data 1.2.1 for the package: title, language, description."""
    root = etree.Element(f"{{{MD}}}lom", nsmap={None: MD, "xsi": XSI})  # type: ignore[dict-item]
    root.set(f"{{{XSI}}}schemaLocation", f"{MD} imsmd_rootv1p2p1.xsd")
    general = el(root, MD, "general")
    title = el(general, MD, "title")
    el(title, MD, "langstring", structure.title).set(f"{{{XML}}}lang", structure.language)
    el(general, MD, "language", structure.language)
    if structure.description:
        description = el(general, MD, "description")
        langstring = el(description, MD, "langstring", structure.description)
        langstring.set(f"{{{XML}}}lang", structure.language)
    meta = el(root, MD, "metametadata")
    el(meta, MD, "metadatascheme", "ADL SCORM 1.2")
    technical = el(root, MD, "technical")
    el(technical, MD, "format", "text/html")
    return serialise(root)
