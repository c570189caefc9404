"""The tool on a real HTTP server, and LMS platforms that launch it and serve NRPS rosters.

A `Site` is one LMS: a MoodleLike (OIDC login, signed id_tokens) for launches and an
NrpsMoodle (lti1p3platform token endpoint checking the tool's client assertion against
the tool's own JWKS, AGS, NRPS) for services, registered in the tool as one platform.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import lxml.html
import pytest
import requests

from capacity_lti.content import Programme, load_programme
from capacity_lti.settings import Settings
from capacity_lti.storage.platforms import add_platform
from capacity_lti.web import create_app
from tests.ags.conftest import platform_pems  # noqa: F401 (the AGS tests' platform key)
from tests.conftest import KEY_RECHECK_SECONDS
from tests.instructor.fake_nrps import NrpsMoodle, Running
from tests.lti_launch.conftest import Tool, address_of, launch, serve
from tests.lti_launch.platforms import INSTRUCTOR, LEARNER, LTI, NRPS, MoodleLike, query_of


@pytest.fixture
def programme(base_programme: Path) -> Programme:
    """lighting-beginner and lighting-advanced (2 points each), event site-visit (3): 7."""
    return load_programme(base_programme)


@pytest.fixture
def tool(tmp_path: Path, database_url: str, programme: Programme) -> Iterator[Tool]:
    settings = Settings(
        instance_path=tmp_path / "instance",
        database_url=database_url,
        key_recheck_seconds=KEY_RECHECK_SECONDS,
    )
    running = serve(create_app(settings, programme=programme))
    yield running
    running.server.shutdown()
    running.server.server_close()


@dataclass
class Site:
    """One LMS as the tool sees it: launches from `moodle`, services from `lms`."""

    moodle: MoodleLike
    lms: NrpsMoodle
    platform_id: int

    def launch(
        self,
        tool: Tool,
        sub: str,
        name: str,
        *,
        course: int = 2,
        instructor: bool = False,
        nrps: bool = True,
        nrps_course: int | None = None,
    ) -> str:
        """Launch the programme home from `course` as `sub`; the session token it opens with."""
        self.moodle.user = {"sub": sub, "name": name, "email": f"{sub}@example.org"}
        self.moodle.roles = [INSTRUCTOR if instructor else LEARNER]
        lms = self.lms

        def course_claims(claims: dict[str, Any]) -> None:
            claims[LTI + "context"] = {"id": str(course), "title": f"Course {course}"}
            claims[LTI + "resource_link"]["id"] = f"link-{course}"
            if nrps:
                claims[NRPS]["context_memberships_url"] = lms.memberships_url(nrps_course or course)
            else:
                del claims[NRPS]

        self.moodle.tamper = course_claims
        result = launch(tool, self.moodle).result
        return query_of(address_of(result))["s"]


@pytest.fixture
def site_factory(tool: Tool, platform_pems: tuple[str, str]) -> Iterator[Callable[[], Site]]:  # noqa: F811
    made: list[tuple[MoodleLike, Running]] = []

    def make() -> Site:
        moodle = MoodleLike()
        running = Running(
            NrpsMoodle(
                *platform_pems,
                tool_jwks_url=tool.url + "/.well-known/jwks.json",
                client_id=moodle.client_id,
            )
        )
        made.append((moodle, running))
        platform = add_platform(
            tool.db(),
            issuer=moodle.issuer,
            client_id=moodle.client_id,
            auth_login_url=moodle.auth_url,
            auth_token_url=running.lms.token_url,
            key_set_url=moodle.keyset_url,
            deployment_ids=(moodle.deployment_id,),
        )
        moodle.tool_login = tool.url + "/lti/login"
        moodle.redirect_uri = tool.url + "/launch"
        moodle.target = tool.url + "/launch"
        return Site(moodle, running.lms, platform.id)

    yield make
    for moodle, running in made:
        running.stop()
        moodle.close()


@pytest.fixture
def site(site_factory: Callable[[], Site]) -> Site:
    return site_factory()


def page(tool: Tool, path: str, token: str) -> requests.Response:
    """A GET with the session token in the query and no cookies, as in the LMS frame."""
    with requests.Session() as http:
        return http.get(tool.url + path, params={"s": token}, timeout=20, allow_redirects=False)


def post(tool: Tool, path: str, fields: dict[str, Any]) -> requests.Response:
    with requests.Session() as http:
        return http.post(tool.url + path, data=fields, timeout=20, allow_redirects=False)


def _text(element: Any) -> str:
    """An element's text, its parts joined by one space."""
    return " ".join(" ".join(part.split()) for part in element.itertext() if part.strip())


def roster_table(html: str) -> list[list[str]]:
    """The roster table's rows as lists of cell texts (whitespace collapsed)."""
    root = lxml.html.fromstring(html)
    return [
        [_text(cell) for cell in row.xpath("./td")]
        for row in root.xpath("//table[@class='roster']/tbody/tr")
    ]


def attendance_form(tool: Tool, html: str) -> tuple[str, dict[str, str], dict[str, str]]:
    """The attendance form: its action, hidden fields, and learner checkbox value -> label."""
    root = lxml.html.fromstring(html)
    form = root.xpath("//form[@method='post']")[0]
    hidden = {i.get("name"): i.get("value") for i in form.xpath(".//input[@type='hidden']")}
    boxes = {
        box.get("value"): _text(box.getparent()) for box in form.xpath(".//input[@type='checkbox']")
    }
    return tool.url + form.get("action"), hidden, boxes
