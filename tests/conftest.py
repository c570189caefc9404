"""Shared fixtures: the base test programme and the example programmes."""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
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


def require(reason: str) -> None:
    """A component the test needs is missing: skip, except under CI=true where it must fail."""
    if os.environ.get("CI") == "true":
        pytest.fail(f"{reason} (CI=true: every component must be present)")
    pytest.skip(reason)


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
