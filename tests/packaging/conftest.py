"""Packaging test helpers: the example programmes, built packages, and the official XSDs.

The XSDs are not in the repo: CAPACITY_LTI_SCHEMAS names the folder, else ../shared/schemas
beside the checkout; missing, the tests that need them skip (and fail under CI=true).
"""

from __future__ import annotations

import functools
import os
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from lxml import etree

from capacity_lti import content, packaging
from capacity_lti.content import Programme
from tests.conftest import BASE, EXAMPLES, REPO, require

CLIMATE = EXAMPLES / "climate-action"
MOBILITY = EXAMPLES / "mobility-innovation"
CP12 = "http://www.imsproject.org/xsd/imscp_rootv1p1p2"
ADLCP12 = "http://www.adlnet.org/xsd/adlcp_rootv1p2"
CP = "http://www.imsglobal.org/xsd/imscp_v1p1"
ADLCP = "http://www.adlnet.org/xsd/adlcp_v1p3"
IMSSS = "http://www.imsglobal.org/xsd/imsss"
ADLSEQ = "http://www.adlnet.org/xsd/adlseq_v1p3"
NS = {"cp12": CP12, "adlcp12": ADLCP12, "cp": CP, "adlcp": ADLCP, "imsss": IMSSS,
      "adlseq": ADLSEQ}  # fmt: skip
PARSER = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)


def schemas_folder() -> Path | None:
    named = os.environ.get("CAPACITY_LTI_SCHEMAS")
    folder = Path(named) if named else REPO.parent / "shared" / "schemas"
    return folder if (folder / "scorm12").is_dir() else None


@pytest.fixture(scope="session")
def schemas() -> Path:
    folder = schemas_folder()
    if folder is None:
        require(
            "the official SCORM XSDs are missing: set CAPACITY_LTI_SCHEMAS or ../shared/schemas"
        )
    assert folder is not None
    return folder


@functools.cache
def load(folder: Path) -> Programme:
    return content.load_programme(folder)


class _Offline(etree.Resolver):
    def __init__(self, folder: Path) -> None:
        super().__init__()
        self.folder = folder

    def resolve(self, system_url, public_id, context):  # type: ignore[no-untyped-def]
        if system_url == "http://www.w3.org/2001/xml.xsd":
            return self.resolve_filename(str(self.folder / "xml.xsd"), context)
        return None


@functools.cache
def official_schema(folder: Path, standard: str) -> etree.XMLSchema:
    """The README's validation snippet, independent of the code under test."""
    xsd = {
        "scorm12": folder / "scorm12" / "scorm12_manifest_wrapper.xsd",
        "scorm2004": folder / "scorm2004-4th" / "scorm2004_4th_manifest_wrapper.xsd",
    }[standard]
    parser = etree.XMLParser(no_network=True, resolve_entities=False, load_dtd=False)
    parser.resolvers.add(_Offline(xsd.parent))
    return etree.XMLSchema(etree.parse(str(xsd), parser))


@dataclass
class Built:
    """A built package, opened."""

    path: Path
    files: dict[str, bytes]

    @property
    def manifest(self) -> Any:
        return etree.fromstring(self.files["imsmanifest.xml"], PARSER)

    def text(self, name: str) -> str:
        return self.files[name].decode("utf-8")


def open_zip(path: Path) -> Built:
    with zipfile.ZipFile(path) as archive:
        return Built(path, {name: archive.read(name) for name in archive.namelist()})


@pytest.fixture
def build(tmp_path: Path) -> Callable[..., Built]:
    """build(folder, standard, language, **options): the package, built into tmp_path.

    Its manifest is checked against the official XSDs whenever they are here, by the README's
    snippet (not by the code under test): every package a test builds is valid.
    """
    count = 0
    folder = schemas_folder()

    def make(programme: Path, standard: str, language: str, **options: Any) -> Built:
        nonlocal count
        count += 1
        out = tmp_path / f"out{count}"
        path = packaging.build_package(load(programme), standard, language, out, **options)
        built = open_zip(path)
        if folder is not None:
            schema = official_schema(folder, standard)
            document = etree.fromstring(built.files["imsmanifest.xml"], PARSER)
            assert schema.validate(document), [str(e) for e in schema.error_log]
        return built

    return make


__all__ = ["BASE", "CLIMATE", "MOBILITY", "NS"]
