"""Errors: a request the packager cannot build, and manifests the schemas refuse, say exactly why."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from capacity_lti import packaging
from capacity_lti.errors import PackagingError
from capacity_lti.packaging import schemas as xsd
from tests.packaging.conftest import BASE, CLIMATE, MOBILITY, load


@pytest.mark.parametrize(
    ("folder", "arguments", "options", "message"),
    [
        (CLIMATE, ("scorm3", "en"), {},
         "unknown package format 'scorm3': choose one of scorm12, scorm2004"),
        (CLIMATE, ("scorm12", "xx"), {},
         "language 'xx' is not in the programme: choose one of en, en-GB, fr, sv"),
        (MOBILITY, ("scorm12", "sv"), {},
         "language 'sv' is not in the programme: choose one of en, it"),
        (CLIMATE, ("scorm2004", "en"), {"path_id": "mayors"},
         "path 'mayors' is not in the programme: choose one of decision-makers, officers, trainers"),
        (BASE, ("scorm12", "en"), {"module_id": "lighting"},
         "module 'lighting' is not in the programme: choose one of lighting-advanced, lighting-beginner"),
        (BASE, ("scorm12", "en"), {"module_id": "site-visit"},
         "'site-visit' is an event, not a module: events go into path and programme packages as pages without tracking"),
        (BASE, ("scorm12", "en"), {"module_id": "lighting-beginner", "path_id": "officers"},
         "give a path or a module, not both"),
    ],
    ids=["format", "language", "language-mobility", "path", "module", "event", "both"],
)  # fmt: skip
def test_unknown_requests_say_what_to_choose(
    tmp_path: Path, folder: Path, arguments: tuple[str, str], options: dict[str, str], message: str
) -> None:
    with pytest.raises(PackagingError) as caught:
        packaging.build_package(load(folder), *arguments, tmp_path, **options)  # type: ignore[arg-type]
    assert str(caught.value) == message
    assert list(tmp_path.iterdir()) == []


def test_a_path_without_modules_has_nothing_to_track(tmp_path: Path, base_programme: Path) -> None:
    programme_yaml = base_programme / "programme.yaml"
    text = programme_yaml.read_text(encoding="utf-8")
    programme_yaml.write_text(
        text.replace("      - lighting-beginner\n    requires: [officers]", "      - site-visit"),
        encoding="utf-8",
    )
    from capacity_lti import content

    programme = content.load_programme(base_programme)
    with pytest.raises(PackagingError) as caught:
        packaging.build_package(programme, "scorm12", "en", tmp_path, path_id="trainers")
    assert str(caught.value) == (
        "'trainers' has no modules: a SCORM package needs at least one to track"
    )


@pytest.mark.parametrize(
    ("standard", "example", "message"),
    [
        ("scorm12", "scorm12/examples/invalid_bad_scormtype.xml",
         "line 22: Element '{http://www.imsproject.org/xsd/imscp_rootv1p1p2}resource', attribute "
         "'{http://www.adlnet.org/xsd/adlcp_rootv1p2}scormtype': [facet 'enumeration'] The value "
         "'page' is not an element of the set {'asset', 'sco'}."),
        ("scorm2004", "scorm2004-4th/examples/invalid_bad_scormType.xml",
         "line 50: Element '{http://www.imsglobal.org/xsd/imscp_v1p1}resource', attribute "
         "'{http://www.adlnet.org/xsd/adlcp_v1p3}scormType': [facet 'enumeration'] The value "
         "'page' is not an element of the set {'sco', 'asset'}."),
    ],
)  # fmt: skip
def test_a_manifest_the_schema_refuses_fails_with_the_schemas_message(
    schemas: Path, standard: str, example: str, message: str
) -> None:
    """The invalid examples shipped with the official XSDs (shared/schemas)."""
    with pytest.raises(PackagingError) as caught:
        xsd.validate((schemas / example).read_bytes(), schemas, standard)
    wrapper = schemas / xsd.WRAPPERS[standard]
    assert str(caught.value) == f"imsmanifest.xml does not validate against {wrapper}: {message}"


def test_every_valid_example_of_the_schemas_folder_passes(schemas: Path) -> None:
    for standard, folder in (("scorm12", "scorm12"), ("scorm2004", "scorm2004-4th")):
        for example in sorted((schemas / folder / "examples").glob("valid_*.xml")):
            xsd.validate(example.read_bytes(), schemas, standard)


def test_xml_with_entities_is_not_expanded(schemas: Path, tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET", encoding="utf-8")
    manifest = (
        f'<?xml version="1.0"?><!DOCTYPE manifest [<!ENTITY x SYSTEM "{secret.as_uri()}">]>'
        '<manifest xmlns="http://www.imsproject.org/xsd/imscp_rootv1p1p2" identifier="m">'
        "&x;</manifest>"
    ).encode()
    with pytest.raises(PackagingError) as caught:
        xsd.validate(manifest, schemas, "scorm12")
    assert str(caught.value) == (
        "imsmanifest.xml must not have a DOCTYPE (entities are not expanded)"
    )


def test_a_schemas_folder_without_the_wrapper_is_refused(tmp_path: Path) -> None:
    with pytest.raises(PackagingError) as caught:
        packaging.build_package(load(BASE), "scorm2004", "en", tmp_path / "out", schemas=tmp_path)
    assert str(caught.value) == (
        f"the schemas folder {tmp_path} has no scorm2004-4th/scorm2004_4th_manifest_wrapper.xsd: "
        "point --schemas at a folder laid out like shared/schemas"
    )


def test_a_schema_that_does_not_compile_is_reported(schemas: Path, tmp_path: Path) -> None:
    copy = tmp_path / "schemas"
    shutil.copytree(schemas / "scorm12", copy / "scorm12")
    (copy / "scorm12" / "scorm12_manifest_wrapper.xsd").write_text("<not-a-schema/>")
    with pytest.raises(PackagingError) as caught:
        packaging.build_package(load(BASE), "scorm12", "en", tmp_path / "out", schemas=copy)
    assert str(caught.value).startswith(
        f"{(copy / 'scorm12' / 'scorm12_manifest_wrapper.xsd').resolve()} does not load as an XML Schema: "
    )


def test_build_spec_builds_a_planned_package_and_checks_it(tmp_path: Path) -> None:
    climate, base = load(CLIMATE), load(BASE)
    spec = packaging.plan_all(base)[1]
    assert (spec.standard, spec.language) == ("scorm12", "fr")
    path = packaging.build_spec(base, spec, tmp_path)
    assert path == tmp_path / "test-programme-fr-scorm12.zip"
    with pytest.raises(PackagingError) as caught:
        packaging.build_spec(climate, spec, tmp_path)
    assert str(caught.value) == (
        "this package is planned for programme 'test-programme', not 'climate-action'"
    )
    wrong = packaging.PackageSpec("test-programme", "scorm12", "sv")
    with pytest.raises(PackagingError) as caught:
        packaging.build_spec(base, wrong, tmp_path)
    assert str(caught.value) == (
        "language 'sv' is not in the programme: choose one of en, fr, fr-BE"
    )


def test_text_xml_cannot_hold_is_refused_with_a_clear_message(tmp_path: Path) -> None:
    programme = load(BASE)
    module = programme.modules["lighting-beginner"]
    broken = module.model_copy(update={"title": {"en": "Lamps \x0b poles"}})
    changed = programme.model_copy(
        update={"modules": {**programme.modules, "lighting-beginner": broken}}
    )
    with pytest.raises(PackagingError) as caught:
        packaging.build_package(changed, "scorm2004", "en", tmp_path)
    assert str(caught.value) == (
        "a title or description cannot go into the manifest: All strings must be XML "
        "compatible: Unicode or ASCII, no NULL bytes or control characters"
    )
    assert list(tmp_path.iterdir()) == []
