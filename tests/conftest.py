"""Shared fixtures: the base test programme and the example programmes."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from playwright.sync_api import Playwright

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


def require(reason: str) -> None:
    """A component the test needs is missing: skip, except under CI=true where it must fail."""
    if os.environ.get("CI") == "true":
        pytest.fail(f"{reason} (CI=true: every component must be present)")
    pytest.skip(reason)


CHROMIUM = Path("/usr/bin/chromium")
# As root, without the background-networking flags Chromium's calls home are refused in bulk.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="session")
def playwright_driver() -> Iterator[Playwright]:
    """One Playwright driver for the whole run: a second sync driver cannot start beside it.

    Every browser test launches Debian's Chromium from it (executable_path, never a download).
    """
    try:
        from playwright.sync_api import sync_playwright
    except ModuleNotFoundError:
        require("Python playwright is not installed: pip install -e '.[dev]'")
    if not CHROMIUM.exists():
        require(f"{CHROMIUM} is missing: run bash tests/browser/setup.sh")
    with sync_playwright() as playwright:
        yield playwright


KEY_RECHECK_SECONDS = 0.1  # the test apps' key_recheck_seconds (the default is 5 s)


def rotate_keys(database_url: str) -> str:
    """Run `capacity-lti keys rotate` as an administrator does, in a process of its own, while
    the tool runs; then wait KEY_RECHECK_SECONDS, so the tool's next use of its keys looks
    for the change. The new key's kid."""
    done = subprocess.run(
        [sys.executable, "-m", "capacity_lti", "keys", "rotate"],
        env={**os.environ, "CAPACITY_LTI_DATABASE_URL": database_url},
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    found = re.match(r"new signing key (\S+); the JWKS now publishes \d+ key\(s\):", done.stdout)
    assert found, done.stdout + done.stderr
    time.sleep(KEY_RECHECK_SECONDS)
    return found[1]


POSTGRES_URL = os.environ.get(
    "CAPACITY_LTI_TEST_POSTGRES", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh, empty database: an SQLite file, or a new schema in the test PostgreSQL."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'test.sqlite3'}"
        return
    try:
        import psycopg
    except ModuleNotFoundError:
        require("psycopg is not installed: pip install -e '.[postgres]'")
    conninfo = POSTGRES_URL.replace("postgresql+psycopg://", "postgresql://")
    schema = f"t_{uuid.uuid4().hex[:16]}"
    try:
        with psycopg.connect(conninfo, autocommit=True, connect_timeout=3) as connection:
            connection.execute(f'CREATE SCHEMA "{schema}"')
    except psycopg.OperationalError as exc:
        require(f"PostgreSQL is not reachable at {POSTGRES_URL}: {exc}")
    separator = "&" if "?" in POSTGRES_URL else "?"
    yield f"{POSTGRES_URL}{separator}options=-csearch_path%3D{schema}"
    with psycopg.connect(conninfo, autocommit=True) as connection:
        connection.execute(f'DROP SCHEMA "{schema}" CASCADE')
