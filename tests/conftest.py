"""Shared fixtures: the base test programme and the example programmes."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

TESTS = Path(__file__).parent
REPO = TESTS.parent
BASE = TESTS / "fixtures" / "base"
EXAMPLES = REPO / "examples"


@pytest.fixture
def base_programme(tmp_path: Path) -> Path:
    """A fresh, writable copy of the small valid test programme."""
    target = tmp_path / "programme"
    shutil.copytree(BASE, target)
    return target
