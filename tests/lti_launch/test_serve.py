"""`capacity-lti serve` prints the URLs an admin needs and serves them; proxies are honoured when configured."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from tests.conftest import KEY_RECHECK_SECONDS, rotate_keys
from tests.lti_launch.conftest import Tool, make_tool
from tests.lti_launch.platforms import MoodleLike, query_of

LABELS = [
    "Dynamic registration URL:",
    "Login (initiation) URL:",
    "Launch / redirect URL:",
    "Deep-linking URL:",
    "Public keyset (JWKS) URL:",
    "Canvas developer-key JSON URL:",
]


def test_serve_prints_urls_and_serves_the_jwks(tmp_path: Path) -> None:
    env = {**os.environ, "CAPACITY_LTI_INSTANCE_PATH": str(tmp_path / "instance")}
    env.pop("CAPACITY_LTI_DATABASE_URL", None)
    process = subprocess.Popen(
        [sys.executable, "-m", "capacity_lti", "serve", "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        assert process.stdout is not None
        lines = [process.stdout.readline() for _ in range(8)]
        assert lines[0].startswith("capacity-lti serving 'climate-action' at http://127.0.0.1:")
        base = lines[0].rsplit(" at ", 1)[1].strip()
        urls = {}
        for label, line in zip(LABELS, lines[1:7], strict=True):
            assert line.strip().startswith(label), line
            urls[label] = line.split()[-1]
        assert urls == {
            "Dynamic registration URL:": base + "/lti/register",
            "Login (initiation) URL:": base + "/lti/login",
            "Launch / redirect URL:": base + "/launch",
            "Deep-linking URL:": base + "/launch",
            "Public keyset (JWKS) URL:": base + "/.well-known/jwks.json",
            "Canvas developer-key JSON URL:": base + "/lti/canvas.json",
        }
        assert lines[7] == "Stop with Ctrl+C.\n"
        canvas = requests.get(urls["Canvas developer-key JSON URL:"], timeout=10).json()
        assert canvas["target_link_uri"] == urls["Launch / redirect URL:"]
        keys = requests.get(urls["Public keyset (JWKS) URL:"], timeout=10).json()["keys"]
        assert [k["alg"] for k in keys] == ["RS256"]
        assert (
            requests.get(base + "/lti/jwks", params={"s": "SECRET-TOKEN"}, timeout=10).json()[
                "keys"
            ]
            == keys
        )
        assert (tmp_path / "instance" / "capacity_lti.sqlite3").is_file()
    finally:
        process.send_signal(signal.SIGINT)
        _, errors = process.communicate(timeout=20)
    assert process.returncode == 0
    assert '"GET /lti/jwks HTTP/1.1" 200' in errors  # request lines are logged without query
    assert "SECRET-TOKEN" not in errors


@pytest.fixture
def proxied(tmp_path: Path, database_url: str, moodle: MoodleLike) -> Iterator[Tool]:
    yield from make_tool(tmp_path, database_url, moodle, proxy_count=1)


def test_forwarded_headers_shape_the_redirect_uri_behind_a_proxy(
    proxied: Tool, moodle: MoodleLike
) -> None:
    headers = {
        "X-Forwarded-Proto": "https",
        "X-Forwarded-Host": "tool.example.org",
        "X-Forwarded-For": "203.0.113.9",
    }
    response = requests.post(
        proxied.url + "/lti/login",
        data=moodle.initiation(),
        headers=headers,
        allow_redirects=False,
        timeout=10,
    )
    assert (
        query_of(response.headers["Location"])["redirect_uri"] == "https://tool.example.org/launch"
    )
    cookie = response.headers["Set-Cookie"]
    assert "Secure" in cookie
    assert "SameSite=None" in cookie


def test_forwarded_headers_are_ignored_without_a_proxy(tool: Tool, moodle: MoodleLike) -> None:
    headers = {"X-Forwarded-Proto": "https", "X-Forwarded-Host": "evil.example.org"}
    response = requests.post(
        tool.url + "/lti/login",
        data=moodle.initiation(),
        headers=headers,
        allow_redirects=False,
        timeout=10,
    )
    assert query_of(response.headers["Location"])["redirect_uri"] == tool.url + "/launch"


@pytest.fixture
def rechecking(tmp_path: Path, database_url: str, moodle: MoodleLike) -> Iterator[Tool]:
    yield from make_tool(tmp_path, database_url, moodle, key_recheck_seconds=KEY_RECHECK_SECONDS)


def test_jwks_shows_a_rotation_without_a_restart(rechecking: Tool, database_url: str) -> None:
    before = requests.get(rechecking.url + "/.well-known/jwks.json", timeout=10)
    assert before.headers["Cache-Control"] == "public, max-age=300"
    old = [k["kid"] for k in before.json()["keys"]]
    new = rotate_keys(database_url)  # `capacity-lti keys rotate`, run beside the running tool
    after = requests.get(rechecking.url + "/lti/jwks", timeout=10).json()["keys"]
    assert [k["kid"] for k in after] == [*old, new]  # the old key stays while its tokens live


@pytest.fixture
def public(tmp_path: Path, database_url: str, moodle: MoodleLike) -> Iterator[Tool]:
    yield from make_tool(tmp_path, database_url, moodle, public_url="https://tool.example.org")


def test_public_url_fixes_the_redirect_uri(public: Tool, moodle: MoodleLike) -> None:
    """What the admin registered is what the platform receives, whatever Host the request had."""
    response = requests.post(
        public.url + "/lti/login", data=moodle.initiation(), allow_redirects=False, timeout=10
    )
    assert (
        query_of(response.headers["Location"])["redirect_uri"] == "https://tool.example.org/launch"
    )
