"""`capacity-lti package` as a user runs it: real builds from examples/, output, exit codes."""

from __future__ import annotations

import io
import json
import re
import shutil
import zipfile
from pathlib import Path
from typing import Any

import pytest

from capacity_lti.cli import main
from tests.conftest import EXAMPLES, REPO, require

CLIMATE = str(EXAMPLES / "climate-action")
MOBILITY = str(EXAMPLES / "mobility-innovation")
SCHEMAS = REPO.parent / "shared" / "schemas"
DATA = re.compile(r'<script type="application/json" id="capacity-data">(.*?)</script>', re.DOTALL)
CLIMATE_LANGUAGES = ["en", "sv", "fr", "en-GB"]
ALL = [
    f"climate-action-{language}-{standard}.zip"
    for standard in ("scorm12", "scorm2004")
    for language in CLIMATE_LANGUAGES
]


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def run(*argv: str, err: io.StringIO | None = None) -> tuple[int, str, str]:
    out, err = io.StringIO(), err or io.StringIO()
    code = main(list(argv), out=out, err=err)
    return code, out.getvalue(), err.getvalue()


def pages(package: Path) -> dict[str, dict[str, Any]]:
    """{page name: its capacity-data} for every module page of the zip."""
    found = {}
    with zipfile.ZipFile(package) as archive:
        for name in archive.namelist():
            match = DATA.search(archive.read(name).decode()) if name.endswith(".html") else None
            if match and json.loads(match.group(1))["module"] is not None:
                found[name] = json.loads(match.group(1))
    return found


def test_one_format_in_the_default_language(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "new" / "dist"
    assert run("package", CLIMATE, "--format", "scorm12", "--out", str(out)) == (
        0,
        f"{out / 'climate-action-en-scorm12.zip'}\n",
        "",
    )
    built = pages(out / "climate-action-en-scorm12.zip")
    assert len(built) == 16
    assert {(d["standard"], d["language"]) for d in built.values()} == {("scorm12", "en")}
    with zipfile.ZipFile(out / "climate-action-en-scorm12.zip") as archive:
        assert archive.read("capacity/runtime.js") == (REPO / "scorm" / "runtime.js").read_bytes()
    # Without --out: ./dist, made if missing; the same input gives the same bytes.
    monkeypatch.chdir(tmp_path)
    assert run("package", CLIMATE, "--format", "scorm12") == (
        0,
        f"{Path('dist', 'climate-action-en-scorm12.zip')}\n",
        "",
    )
    assert (tmp_path / "dist" / "climate-action-en-scorm12.zip").read_bytes() == (
        out / "climate-action-en-scorm12.zip"
    ).read_bytes()


def test_module_and_path_in_a_chosen_language(tmp_path: Path) -> None:
    code, printed, _ = run(
        "package",
        CLIMATE,
        "--format",
        "scorm2004",
        "--lang",
        "sv",
        "--module",
        "ghg-inventory-beginner",
        "--out",
        str(tmp_path),
    )
    module_zip = tmp_path / "climate-action-ghg-inventory-beginner-sv-scorm2004.zip"
    assert (code, printed) == (0, f"{module_zip}\n")
    assert {name: (d["module"], d["language"]) for name, d in pages(module_zip).items()} == {
        "ghg-inventory-beginner.html": ("ghg-inventory-beginner", "sv")
    }

    code, printed, _ = run(
        "package",
        CLIMATE,
        "--format",
        "scorm12",
        "--path",
        "decision-makers",
        "--out",
        str(tmp_path),
    )
    path_zip = tmp_path / "climate-action-decision-makers-en-scorm12.zip"
    assert (code, printed) == (0, f"{path_zip}\n")
    assert sorted(d["module"] for d in pages(path_zip).values()) == sorted(
        f"{theme}-beginner"
        for theme in (
            "plan-development",
            "ghg-inventory",
            "stakeholder-engagement",
            "procurement",
            "buildings",
            "transport",
            "waste",
            "water",
        )
    )


def test_single_sco_path_package(tmp_path: Path) -> None:
    code, printed, _ = run(
        "package",
        CLIMATE,
        "--format",
        "scorm12",
        "--path",
        "officers",
        "--single-sco",
        "--out",
        str(tmp_path),
    )
    single = tmp_path / "climate-action-officers-single-en-scorm12.zip"
    assert (code, printed) == (0, f"{single}\n")
    with zipfile.ZipFile(single) as archive:
        assert "index.html" in archive.namelist()
        assert archive.read("imsmanifest.xml").count(b'adlcp:scormtype="sco"') == 1


def test_all_prints_every_path_and_a_line_per_package_when_not_a_terminal(
    tmp_path: Path,
) -> None:
    code, printed, progress = run("package", CLIMATE, "--all", "--out", str(tmp_path / "all"))
    assert code == 0
    assert printed.splitlines() == [str(tmp_path / "all" / name) for name in ALL]
    assert progress.splitlines() == [
        *(
            f"[{index}/8 {standard} {language}]"
            for index, (standard, language) in enumerate(
                ((s, lang) for s in ("scorm12", "scorm2004") for lang in CLIMATE_LANGUAGES),
                start=1,
            )
        ),
        f"8 packages written to {tmp_path / 'all'}",
    ]
    assert sorted(p.name for p in (tmp_path / "all").iterdir()) == sorted(ALL)
    # --all builds exactly what the one-package command builds.
    run("package", CLIMATE, "--format", "scorm2004", "--lang", "fr", "--out", str(tmp_path / "one"))
    name = "climate-action-fr-scorm2004.zip"
    assert (tmp_path / "one" / name).read_bytes() == (tmp_path / "all" / name).read_bytes()


def test_all_of_one_path_as_single_scos(tmp_path: Path) -> None:
    code, printed, progress = run(
        "package",
        MOBILITY,
        "--all",
        "--path",
        "ambassadors",
        "--single-sco",
        "--out",
        str(tmp_path),
    )
    assert code == 0
    assert printed.splitlines() == [
        str(tmp_path / f"mobility-innovation-ambassadors-single-{language}-{standard}.zip")
        for standard in ("scorm12", "scorm2004")
        for language in ("en", "it")
    ]
    assert progress.splitlines()[-1] == f"4 packages written to {tmp_path}"


def test_all_draws_a_bar_on_a_terminal_and_clears_it(tmp_path: Path) -> None:
    code, printed, drawn = run("package", MOBILITY, "--all", "--out", str(tmp_path), err=Terminal())
    assert code == 0
    assert len(printed.splitlines()) == 4
    bar = "[{}] {}"
    widest = "[##################------] 4/4 scorm2004 it"
    assert drawn.split("\r") == [
        "",
        bar.format("-" * 24, "1/4 scorm12 en"),
        bar.format("#" * 6 + "-" * 18, "2/4 scorm12 it"),
        bar.format("#" * 12 + "-" * 12, "3/4 scorm2004 en"),
        widest,
        " " * len(widest),
        f"4 packages written to {tmp_path}\n",
    ]


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (
            ["--format", "scorm12", "--lang", "de"],
            "error: language 'de' is not in the programme: choose one of en, en-GB, fr, sv",
        ),
        (
            ["--format", "scorm12", "--path", "mayors"],
            "error: path 'mayors' is not in the programme: choose one of decision-makers, "
            "officers, trainers",
        ),
        (
            ["--format", "scorm2004", "--module", "ghg"],
            "error: module 'ghg' is not in the programme: choose one of buildings-advanced, "
            "buildings-beginner, ghg-inventory-advanced, ghg-inventory-beginner, "
            "plan-development-advanced, plan-development-beginner, procurement-advanced, "
            "procurement-beginner, stakeholder-engagement-advanced, "
            "stakeholder-engagement-beginner, transport-advanced, transport-beginner, "
            "waste-advanced, waste-beginner, water-advanced, water-beginner",
        ),
        (
            ["--all", "--lang", "sv"],
            "error: --all builds every language: leave out --lang, or use --format",
        ),
        (
            ["--format", "scorm12", "--path", "officers", "--module", "waste-beginner"],
            "capacity-lti package: argument --module: not allowed with argument --path\n"
            "(see 'capacity-lti package --help')",
        ),
        (
            ["--format", "scorm12", "--all"],
            "capacity-lti package: argument --all: not allowed with argument --format\n"
            "(see 'capacity-lti package --help')",
        ),
        (
            [],
            "capacity-lti package: one of the arguments --format --all is required\n"
            "(see 'capacity-lti package --help')",
        ),
        (
            ["--format", "xapi"],
            "capacity-lti package: argument --format: invalid choice: 'xapi' "
            "(choose from 'scorm12', 'scorm2004')\n(see 'capacity-lti package --help')",
        ),
    ],
)
def test_usage_errors_exit_2_and_write_nothing(
    tmp_path: Path, argv: list[str], message: str
) -> None:
    out = tmp_path / "dist"
    assert run("package", CLIMATE, *argv, "--out", str(out)) == (2, "", f"{message}\n")
    assert not out.exists()


def test_an_event_is_not_a_module(tmp_path: Path) -> None:
    assert run(
        "package",
        MOBILITY,
        "--format",
        "scorm12",
        "--module",
        "study-visit-mobility-hub",
        "--out",
        str(tmp_path),
    ) == (
        2,
        "",
        "error: 'study-visit-mobility-hub' is an event, not a module: events go into path and "
        "programme packages as pages without tracking\n",
    )


def test_out_that_is_a_file(tmp_path: Path) -> None:
    target = tmp_path / "dist"
    target.write_text("not a folder")
    assert run("package", CLIMATE, "--format", "scorm12", "--out", str(target)) == (
        2,
        "",
        f"error: --out {target} is a file: give a folder\n",
    )


def test_content_errors_exit_1(tmp_path: Path, base_programme: Path) -> None:
    (base_programme / "programme.yaml").write_text("id: Not An Id\n", encoding="utf-8")
    code, printed, err = run(
        "package", str(base_programme), "--format", "scorm12", "--out", str(tmp_path / "dist")
    )
    assert (code, printed) == (1, "")
    assert err.startswith(f"error: {base_programme / 'programme.yaml'}:")
    assert err.endswith(
        " in the programme: nothing was changed; fix the lines above and run again\n"
    )
    assert not (tmp_path / "dist").exists()


def test_packaging_errors_exit_3_and_clear_the_progress(tmp_path: Path) -> None:
    empty = tmp_path / "schemas"
    empty.mkdir()
    out = tmp_path / "dist"
    code, printed, err = run(
        "package", CLIMATE, "--all", "--schemas", str(empty), "--out", str(out), err=Terminal()
    )
    first = "[------------------------] 1/8 scorm12 en"
    assert (code, printed) == (3, "")
    assert err == (
        f"\r{first}\r{' ' * len(first)}\r"
        f"error: the schemas folder {empty} has no scorm12/scorm12_manifest_wrapper.xsd: "
        "point --schemas at a folder laid out like shared/schemas\n"
    )
    assert list(out.iterdir()) == []


def test_schema_validation_through_the_command(tmp_path: Path) -> None:
    if not SCHEMAS.is_dir():
        require(f"the official XSDs are not at {SCHEMAS}")
    code, printed, err = run(
        "package",
        CLIMATE,
        "--format",
        "scorm2004",
        "--module",
        "water-beginner",
        "--schemas",
        str(SCHEMAS),
        "--out",
        str(tmp_path),
    )
    assert (code, err) == (0, "")
    with zipfile.ZipFile(printed.strip()) as archive:
        assert {"imscp_v1p1.xsd", "adlseq_v1p3.xsd", "imsss_v1p0.xsd"} <= set(archive.namelist())

    # A schema the manifest does not meet fails the build with the schema's own message.
    strict = tmp_path / "strict"
    shutil.copytree(SCHEMAS / "scorm12", strict / "scorm12")
    (strict / "scorm12" / "scorm12_manifest_wrapper.xsd").write_text(
        '<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema" '
        'targetNamespace="urn:elsewhere"><xs:element name="manifest"/></xs:schema>',
        encoding="utf-8",
    )
    code, printed, err = run(
        "package", CLIMATE, "--format", "scorm12", "--schemas", str(strict), "--out", str(tmp_path)
    )
    assert (code, printed) == (3, "")
    assert err.startswith(
        "error: imsmanifest.xml does not validate against "
        f"{strict / 'scorm12' / 'scorm12_manifest_wrapper.xsd'}: line 2: Element "
    )
    assert "No matching global declaration available for the validation root." in err


def test_listed_in_the_help(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--help"]) == 0  # argparse prints help on sys.stdout itself
    assert re.search(
        r"\n +package +build SCORM 1\.2 or 2004 zips of a programme", capsys.readouterr().out
    )
