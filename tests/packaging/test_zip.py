"""The zip: layout, every file listed in a resource, safe names, byte-identical rebuilds."""

from __future__ import annotations

import re
import shutil
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest

from capacity_lti import content, packaging
from capacity_lti.packaging.runtime_files import runtime_files
from tests.conftest import REPO
from tests.packaging.conftest import BASE, CLIMATE, MOBILITY, NS, Built, load, open_zip

Build = Callable[..., Built]
CONTROL = {"imsmanifest.xml", "metadata.xml"}
SAFE = re.compile(r"[A-Za-z0-9_-][A-Za-z0-9._-]*(/[A-Za-z0-9_-][A-Za-z0-9._-]*)*")


def listed(built: Built, standard: str) -> dict[str, list[str]]:
    """{resource identifier: its file hrefs}, and every href a resource launches."""
    ns = "cp12" if standard == "scorm12" else "cp"
    found = {}
    for resource in built.manifest.findall(f"{ns}:resources/{ns}:resource", NS):
        files = [f.get("href") for f in resource.findall(f"{ns}:file", NS)]
        if resource.get("href"):
            assert resource.get("href") in files, "a resource's launch page is one of its files"
        found[resource.get("identifier")] = files
    return found


@pytest.mark.parametrize("standard", packaging.FORMATS)
@pytest.mark.parametrize("folder", [BASE, MOBILITY], ids=["base", "mobility"])
def test_every_file_is_listed_in_a_resource_and_every_listed_file_exists(
    build: Build, folder: Path, standard: str
) -> None:
    built = build(folder, standard, "en")
    resources = listed(built, standard)
    every = [href for files in resources.values() for href in files]
    assert set(every) == set(built.files) - CONTROL
    assert all(len(files) == len(set(files)) for files in resources.values())
    programme = load(folder)
    assert set(programme.assets) <= set(built.files)
    for module in programme.modules.values():
        assert set(module.assets) <= set(resources[f"res-{module.id}"])
    assert resources["res-capacity"] == ["capacity/player.css", "capacity/runtime.js"]


@pytest.mark.parametrize("standard", packaging.FORMATS)
def test_layout_at_the_root_with_safe_ascii_names(build: Build, standard: str) -> None:
    built = build(BASE, standard, "fr-BE")
    names = sorted(built.files)
    expected = {
        "capacity/player.css",
        "capacity/runtime.js",
        "imsmanifest.xml",
        "lighting-advanced.certificate.html",
        "lighting-advanced.html",
        "lighting-beginner.certificate.html",
        "lighting-beginner.html",
        "media/checklist.txt",
        "media/map.png",
        "site-visit.html",
    }
    assert set(names) == expected | ({"metadata.xml"} if standard == "scorm12" else set())
    assert all(SAFE.fullmatch(n) for n in names)
    assert built.files["capacity/runtime.js"] == (REPO / "scorm" / "runtime.js").read_bytes()
    assert built.files["capacity/player.css"] == (REPO / "scorm" / "player.css").read_bytes()
    assert built.files["media/map.png"] == (BASE / "media" / "map.png").read_bytes()


def test_same_input_gives_the_same_bytes(tmp_path: Path) -> None:
    programme = load(CLIMATE)
    first = packaging.build_package(programme, "scorm2004", "sv", tmp_path / "a")
    again = content.load_programme(CLIMATE)  # a fresh load, later, from another object
    second = packaging.build_package(again, "scorm2004", "sv", tmp_path / "b")
    assert first.name == second.name == "climate-action-sv-scorm2004.zip"
    assert first.read_bytes() == second.read_bytes()
    with zipfile.ZipFile(first) as archive:
        infos = archive.infolist()
    assert [i.filename for i in infos] == sorted(i.filename for i in infos)
    assert {i.date_time for i in infos} == {(1980, 1, 1, 0, 0, 0)}
    assert {i.external_attr >> 16 for i in infos} == {0o100644}
    assert {i.compress_type for i in infos} == {zipfile.ZIP_DEFLATED}
    assert not [i for i in infos if i.is_dir()]


def test_rebuilding_overwrites_the_zip_and_leaves_nothing_else(tmp_path: Path) -> None:
    programme = load(BASE)
    first = packaging.build_package(programme, "scorm12", "en", tmp_path)
    data = first.read_bytes()
    second = packaging.build_package(programme, "scorm12", "en", tmp_path)
    assert second == first
    assert second.read_bytes() == data
    assert [p.name for p in tmp_path.iterdir()] == ["test-programme-en-scorm12.zip"]


@pytest.mark.parametrize("standard", packaging.FORMATS)
def test_schemas_ship_beside_the_manifest_when_given(
    build: Build, schemas: Path, standard: str
) -> None:
    built = build(BASE, standard, "en", schemas=schemas)
    shipped = {n for n in built.files if n.endswith((".xsd", ".dtd"))}
    if standard == "scorm12":
        assert shipped == {
            "adlcp_rootv1p2.xsd",
            "ims_xml.xsd",
            "imscp_rootv1p1p2.xsd",
            "imsmd_rootv1p2p1.xsd",
            "xml.xsd",
        }
    else:
        named = {"imscp_v1p1.xsd", "adlcp_v1p3.xsd", "adlseq_v1p3.xsd", "adlnav_v1p3.xsd",
                 "imsss_v1p0.xsd", "lom.xsd", "xml.xsd", "common/anyElement.xsd"}  # fmt: skip
        assert named | {"XMLSchema.dtd", "datatypes.dtd"} <= shipped
        assert not any("wrapper" in n or n.startswith("examples/") for n in shipped)
    for name in shipped:
        assert built.files[name] == (schemas / built_folder(standard) / name).read_bytes()
    assert "examples" not in {n.split("/")[0] for n in built.files}
    assert set(built.files) - shipped == set(build(BASE, standard, "en").files)


def built_folder(standard: str) -> str:
    return "scorm12" if standard == "scorm12" else "scorm2004-4th"


def test_files_with_unsafe_names_are_renamed_and_linked_by_their_new_names(
    build: Build, base_programme: Path
) -> None:
    shutil.copy(base_programme / "media" / "map.png", base_programme / "media" / "Kärta 1.png")
    module = base_programme / "modules" / "lighting-advanced.en.md"
    text = module.read_text(encoding="utf-8")
    module.write_text(
        text.replace("Talk to the maintenance crew.", "See ![plan](../media/K%C3%A4rta%201.png)."),
        encoding="utf-8",
    )
    built = build(base_programme, "scorm12", "en")
    renamed = [n for n in built.files if n.startswith("media/Karta-1-")]
    assert len(renamed) == 1
    assert re.fullmatch(r"media/Karta-1-[0-9a-f]{8}\.png", renamed[0])
    assert built.files[renamed[0]] == (base_programme / "media" / "map.png").read_bytes()
    assert f'<img src="{renamed[0]}" alt="plan">' in built.text("lighting-advanced.html")
    resources = listed(built, "scorm12")
    assert renamed[0] in resources["res-lighting-advanced"]
    assert all(SAFE.fullmatch(n) for n in built.files)


def test_the_runtime_is_read_from_the_package_data() -> None:
    assert runtime_files() == {
        "capacity/player.css": (REPO / "scorm" / "player.css").read_bytes(),
        "capacity/runtime.js": (REPO / "scorm" / "runtime.js").read_bytes(),
    }


def test_a_zip_opens_with_the_manifest_at_the_root(tmp_path: Path) -> None:
    path = packaging.build_package(load(BASE), "scorm2004", "fr", tmp_path)
    built = open_zip(path)
    assert "imsmanifest.xml" in built.files
    assert built.files["imsmanifest.xml"].startswith(b'<?xml version="1.0" encoding="UTF-8"?>\n')
    assert built.manifest.find("cp:resources", NS) is not None
