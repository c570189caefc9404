"""imsmanifest.xml and metadata.xml for SCORM 1.2 (IMS CP 1.1.2 + ADL CP 1.2), built with lxml.

The LOM metadata sits in metadata.xml, named by adlcp:location: the IMS MD 1.2.1 XSD does not
compile, so inline metadata could not be validated.
"""

from __future__ import annotations

from lxml import etree

from capacity_lti.packaging.structure import Node, Structure

CP = "http://www.imsproject.org/xsd/imscp_rootv1p1p2"
ADLCP = "http://www.adlnet.org/xsd/adlcp_rootv1p2"
MD = "http://www.imsglobal.org/xsd/imsmd_rootv1p2p1"
XSI = "http://www.w3.org/2001/XMLSchema-instance"
_DECLARATION = b'<?xml version="1.0" encoding="UTF-8"?>\n'
XML = "http://www.w3.org/XML/1998/namespace"
SCHEMA_FILES = ("adlcp_rootv1p2.xsd", "ims_xml.xsd", "imscp_rootv1p1p2.xsd", "imsmd_rootv1p2p1.xsd")
METADATA = "metadata.xml"


def _el(parent: etree._Element, ns: str, tag: str, text: str | None = None,
        **attrs: str) -> etree._Element:  # fmt: skip
    element = etree.SubElement(parent, f"{{{ns}}}{tag}", attrs)
    if text is not None:
        element.text = text
    return element


def _item(parent: etree._Element, node: Node) -> None:
    attrs = {"identifier": node.ident, "isvisible": "true"}
    if node.resource:
        attrs["identifierref"] = node.resource
    item = _el(parent, CP, "item", **attrs)
    _el(item, CP, "title", node.title)
    for child in node.children:
        _item(item, child)
    if node.mastery is not None:
        _el(item, ADLCP, "masteryscore", str(node.mastery))


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
    metadata = _el(root, CP, "metadata")
    _el(metadata, CP, "schema", "ADL SCORM")
    _el(metadata, CP, "schemaversion", "1.2")
    _el(metadata, ADLCP, "location", METADATA)
    organizations = _el(root, CP, "organizations", default="org")
    organization = _el(organizations, CP, "organization", identifier="org")
    _el(organization, CP, "title", structure.title)
    for node in structure.nodes:
        _item(organization, node)
    resources = _el(root, CP, "resources")
    for spec in structure.resources:
        attrs = {"identifier": spec.ident, "type": "webcontent"}
        attrs[f"{{{ADLCP}}}scormtype"] = "sco" if spec.sco else "asset"
        if spec.href:
            attrs["href"] = spec.href
        resource = _el(resources, CP, "resource", **attrs)
        for href in spec.files:
            _el(resource, CP, "file", href=href)
        for ident in spec.depends:
            _el(resource, CP, "dependency", identifierref=ident)
    return _DECLARATION + etree.tostring(root, encoding="UTF-8", pretty_print=True)


def metadata(structure: Structure) -> bytes:
    """IMS Meta-data 1.2.1 for the package: title, language, description."""
    root = etree.Element(f"{{{MD}}}lom", nsmap={None: MD, "xsi": XSI})  # type: ignore[dict-item]
    root.set(f"{{{XSI}}}schemaLocation", f"{MD} imsmd_rootv1p2p1.xsd")
    general = _el(root, MD, "general")
    title = _el(general, MD, "title")
    _el(title, MD, "langstring", structure.title).set(f"{{{XML}}}lang", structure.language)
    _el(general, MD, "language", structure.language)
    if structure.description:
        description = _el(general, MD, "description")
        langstring = _el(description, MD, "langstring", structure.description)
        langstring.set(f"{{{XML}}}lang", structure.language)
    meta = _el(root, MD, "metametadata")
    _el(meta, MD, "metadatascheme", "ADL SCORM 1.2")
    technical = _el(root, MD, "technical")
    _el(technical, MD, "format", "text/html")
    return _DECLARATION + etree.tostring(root, encoding="UTF-8", pretty_print=True)
