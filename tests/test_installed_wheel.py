"""The wheel as a user installs it: built, installed (not editable) into a fresh venv outside the
repository, then run from a folder outside it. SLOW: about half a minute (marker `slow`; it is
never skipped, CI=true or not; deselect it locally with `-m "not slow"`).

This proves what an editable checkout hides: the runtime ships inside the wheel
(capacity_lti/_scorm, read with importlib.resources), the console script works, and the
dependencies declared in pyproject.toml are enough.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from tests.conftest import EXAMPLES, REPO


def _run(command: list[str | Path], cwd: Path, env: dict[str, str]) -> str:
    done = subprocess.run(
        [str(part) for part in command],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=600,
    )
    assert done.returncode == 0, f"{command} exited {done.returncode}:\n{done.stdout}{done.stderr}"
    return done.stdout


def _clean_environment(venv: Path) -> dict[str, str]:
    """The environment of a shell where only the new venv is active: nothing points at the repo."""
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in {"PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV", "PYTHONSTARTUP"}
    }
    env["PATH"] = f"{venv / 'bin'}{os.pathsep}{env.get('PATH', '')}"
    env["VIRTUAL_ENV"] = str(venv)
    env["PYTHONNOUSERSITE"] = "1"
    return env


@pytest.mark.slow
def test_installed_wheel_builds_a_scorm_package_outside_the_checkout(tmp_path: Path) -> None:
    assert not tmp_path.resolve().is_relative_to(REPO.resolve())
    wheels, venv, work = tmp_path / "wheels", tmp_path / "venv", tmp_path / "work"
    work.mkdir()
    env = _clean_environment(venv)

    # Build the wheel from the checkout, as `pip install .` would (isolated build backend).
    _run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", wheels, REPO], work, env)
    (wheel,) = wheels.glob("capacity_lti-*.whl")
    # A venv without pip (faster) and without system site-packages; this pip installs into it,
    # the wheel with its declared dependencies (from the index and pip's own cache).
    _run([sys.executable, "-m", "venv", "--without-pip", venv], work, env)
    python = venv / "bin" / "python"
    _run(
        [sys.executable, "-m", "pip", "--python", python, "install", "-q", wheel],
        work,
        env,
    )

    imported = Path(
        _run([python, "-c", "import capacity_lti; print(capacity_lti.__file__)"], work, env).strip()
    )
    assert imported.is_relative_to(venv), imported
    assert not imported.resolve().is_relative_to(REPO.resolve())

    shutil.copytree(EXAMPLES / "climate-action", work / "climate-action")
    printed = _run(
        [
            venv / "bin" / "capacity-lti",
            "package",
            "climate-action",
            "--format",
            "scorm12",
            "--out",
            "packages",
        ],
        work,
        env,
    )
    (line,) = printed.splitlines()
    written = work / line
    assert written.parent == work / "packages"
    assert sorted(p.name for p in (work / "packages").iterdir()) == [written.name]
    with zipfile.ZipFile(written) as package:
        assert "imsmanifest.xml" in package.namelist()
        shipped = package.read("capacity/runtime.js")
    assert shipped == (REPO / "scorm" / "runtime.js").read_bytes()
