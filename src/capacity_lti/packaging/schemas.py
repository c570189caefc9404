"""Validation of manifests against the official XSDs, and parsing XML without risk.

A schemas folder holds `scorm12/` and `scorm2004-4th/` as in /work/shared/schemas (see its
README): each validated through its wrapper XSD, compiled once per folder and kept.
"""

from __future__ import annotations

import functools
from pathlib import Path

from lxml import etree

from capacity_lti.errors import PackagingError

WRAPPERS = {
    "scorm12": Path("scorm12") / "scorm12_manifest_wrapper.xsd",
    "scorm2004": Path("scorm2004-4th") / "scorm2004_4th_manifest_wrapper.xsd",
}
_XML_XSD = "http://www.w3.org/2001/xml.xsd"


def safe_parser() -> etree.XMLParser:
    """No entities, no DTDs, no network: for any XML we read."""
    return etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False)


class _Offline(etree.Resolver):
    """imscp_v1p1.xsd imports the XML namespace schema by URL: serve the copy beside it."""

    def __init__(self, folder: Path) -> None:
        super().__init__()
        self.folder = folder

    # lxml-stubs 0.5 lack the context argument and resolve_filename that lxml has.
    def resolve(self, system_url: str, public_id: str, context: object) -> object:  # type: ignore[override]
        if system_url == _XML_XSD:
            return self.resolve_filename(str(self.folder / "xml.xsd"), context)  # type: ignore[attr-defined]
        return None


def wrapper(folder: Path, standard: str) -> Path:
    xsd = folder / WRAPPERS[standard]
    if not xsd.is_file():
        raise PackagingError(
            f"the schemas folder {folder} has no {WRAPPERS[standard].as_posix()}: "
            "point --schemas at a folder laid out like shared/schemas"
        )
    return xsd


@functools.lru_cache(maxsize=8)
def _schema(xsd: Path) -> etree.XMLSchema:
    parser = safe_parser()
    parser.resolvers.add(_Offline(xsd.parent))
    try:
        return etree.XMLSchema(etree.parse(str(xsd), parser))
    except (etree.XMLSchemaParseError, etree.XMLSyntaxError) as exc:
        raise PackagingError(f"{xsd} does not load as an XML Schema: {exc}") from exc


def validate(manifest: bytes, folder: Path, standard: str) -> None:
    """Raise PackagingError with the schema's first messages when `manifest` is not valid."""
    schema = _schema(wrapper(folder, standard).resolve())
    try:
        document = etree.fromstring(manifest, safe_parser())
    except etree.XMLSyntaxError as exc:
        raise PackagingError(f"imsmanifest.xml is not well-formed XML: {exc}") from exc
    if document.getroottree().docinfo.internalDTD is not None:
        raise PackagingError("imsmanifest.xml must not have a DOCTYPE (entities are not expanded)")
    if schema.validate(document):
        return
    errors = [f"line {e.line}: {e.message}" for e in schema.error_log][:5]  # type: ignore[attr-defined]
    raise PackagingError(
        f"imsmanifest.xml does not validate against {wrapper(folder, standard)}: "
        + "; ".join(errors)
    )


def control_files(folder: Path, standard: str) -> dict[str, bytes]:
    """{zip path: bytes} of the canonical XSDs a package ships beside its manifest.

    Everything in the standard's folder except the validation wrapper and the examples.
    """
    return dict(_control_files(wrapper(folder, standard).resolve().parent))


@functools.lru_cache(maxsize=8)
def _control_files(base: Path) -> tuple[tuple[str, bytes], ...]:
    found: list[tuple[str, bytes]] = []
    for path in sorted(base.rglob("*")):
        relative = path.relative_to(base)
        if (
            not path.is_file()
            or relative.parts[0] == "examples"
            or path.name.endswith("_wrapper.xsd")
        ):
            continue
        if path.suffix in (".xsd", ".dtd"):
            found.append((relative.as_posix(), path.read_bytes()))
    return tuple(found)
