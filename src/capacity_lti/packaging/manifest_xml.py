"""What the SCORM 1.2 and 2004 manifest writers share: element building, the resources, output."""

from __future__ import annotations

from lxml import etree

from capacity_lti.packaging.structure import Node, Structure

_DECLARATION = b'<?xml version="1.0" encoding="UTF-8"?>\n'


def el(parent: etree._Element, ns: str, tag: str, text: str | None = None,
       **attrs: str) -> etree._Element:  # fmt: skip
    """A child `{ns}tag` of `parent` with `attrs` and, when given, `text`."""
    element = etree.SubElement(parent, f"{{{ns}}}{tag}", attrs)
    if text is not None:
        element.text = text
    return element


def add_item(parent: etree._Element, cp: str, node: Node) -> etree._Element:
    """The organisation ``item`` of `node` with its title; the caller adds what follows."""
    attrs = {"identifier": node.ident, "isvisible": "true"}
    if node.resource:
        attrs["identifierref"] = node.resource
    item = el(parent, cp, "item", **attrs)
    el(item, cp, "title", node.title)
    return item


def add_resources(root: etree._Element, cp: str, scorm_type: str, structure: Structure) -> None:
    """The manifest's ``resources`` in namespace `cp`; `scorm_type` is the qualified name of
    the SCO-or-asset attribute (``adlcp:scormtype`` in 1.2, ``adlcp:scormType`` in 2004)."""
    resources = el(root, cp, "resources")
    for spec in structure.resources:
        attrs = {"identifier": spec.ident, "type": "webcontent"}
        attrs[scorm_type] = "sco" if spec.sco else "asset"
        if spec.href:
            attrs["href"] = spec.href
        resource = el(resources, cp, "resource", **attrs)
        for href in spec.files:
            el(resource, cp, "file", href=href)
        for ident in spec.depends:
            el(resource, cp, "dependency", identifierref=ident)


def serialise(root: etree._Element) -> bytes:
    """`root` as a UTF-8 XML document with its declaration, indented."""
    return _DECLARATION + etree.tostring(root, encoding="UTF-8", pretty_print=True)
