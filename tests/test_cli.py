"""`capacity-lti` as a user runs it: exit codes and output of validate, show, new."""

from __future__ import annotations

import io
import subprocess
import sys
from pathlib import Path

from capacity_lti import __version__
from capacity_lti.cli import main


def run(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(list(argv), out=out, err=err)
    return code, out.getvalue(), err.getvalue()


def test_version_and_help_through_the_console_script() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "capacity_lti", "--version"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert (done.returncode, done.stdout) == (0, f"capacity-lti {__version__}\n")
    done = subprocess.run(
        [sys.executable, "-m", "capacity_lti", "--help"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0
    for command in ("validate", "show", "new"):
        assert command in done.stdout


def test_no_command_and_unknown_command_are_usage_errors() -> None:
    assert run()[0] == 2
    code, _, err = run("frobnicate")
    assert code == 2
    assert "invalid choice: 'frobnicate'" in err
    code, _, err = run("validate")
    assert code == 2
    assert "the following arguments are required: folder" in err


def test_new_writes_a_valid_programme_and_refuses_a_non_empty_folder(tmp_path: Path) -> None:
    target = tmp_path / "Energy Course 2027"
    code, out, _ = run("new", str(target))
    assert code == 0
    assert out.startswith(f"wrote a starter programme to {target} (1 themes, 1 modules, 1 events")
    assert run("validate", str(target)) == (
        0,
        "ok: energy-course-2027 (1 themes, 1 modules, 1 events, 1 paths, 1 languages)\n",
        "",
    )
    assert run("new", str(target)) == (
        2,
        "",
        f"error: {target} already exists and is not empty: choose a new folder\n",
    )


def test_validate_missing_folder(tmp_path: Path) -> None:
    code, out, err = run("validate", str(tmp_path / "nope"))
    assert (code, out) == (1, "")
    assert (
        f"error: {tmp_path / 'nope'}: no such folder: give the folder that holds programme.yaml"
        in err
    )


def test_show_lists_structure_and_coverage(base_programme: Path) -> None:
    code, out, _ = run("show", str(base_programme), "--lang", "fr")
    assert code == 0
    lines = out.splitlines()
    assert lines[0] == "Programme de test [test-programme]"
    assert "  officers (officers): Officers - 3 items, 260 min, 7 points" in lines
    assert "    - site-visit [study-visit]" in lines
    assert "  lighting: Éclairage public" in lines
    coverage = {
        line.split()[0]: line for line in lines if line.startswith(("  en ", "  fr ", "  fr-BE "))
    }
    assert coverage["en"].split()[-2:] == ["30/30", "100%"]
    assert coverage["fr"].split()[-5:] == ["0", "1", "2", "3/30", "10%"]
    assert run("show", str(base_programme), "--lang", "de") == (
        2,
        "",
        "error: --lang de is not one of en, fr, fr-BE\n",
    )


def test_output_cut_short_by_the_reader_is_not_an_error(base_programme: Path) -> None:
    script = [
        sys.executable,
        "-c",
        "from capacity_lti.cli import run; run()",
        "show",
        str(base_programme),
    ]
    show = subprocess.Popen(script, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert show.stdout is not None
    first = show.stdout.readline()
    show.stdout.close()
    assert show.wait(timeout=30) == 0
    assert first == b"Test programme [test-programme]\n"
    assert show.stderr is not None
    assert b"Traceback" not in show.stderr.read()
