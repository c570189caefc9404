"""Through real launches from a Moodle-like platform over HTTP: a learner completes every
module of a path and gets its certificate, then the rest of the programme and gets the
diploma; both verify at /verify/<id>, download with the learner's session, and a revoked
one shows revoked."""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urljoin

import pytest
import requests

from capacity_lti.cli import main
from capacity_lti.content import Programme
from capacity_lti.storage.awards import learner_awards
from capacity_lti.storage.tables import Learner
from tests.learner.test_launch_http import forms, no_cookies
from tests.lti_launch.conftest import Tool, follow, launch, make_tool
from tests.lti_launch.platforms import MoodleLike


@pytest.fixture
def moodle() -> Iterator[MoodleLike]:
    platform = MoodleLike()
    yield platform
    platform.close()


@pytest.fixture
def tool(tmp_path: Path, database_url: str, moodle: MoodleLike) -> Iterator[Tool]:
    yield from make_tool(tmp_path, database_url, moodle)


def complete(tool: Tool, moodle: MoodleLike, programme: Programme, module_id: str) -> str:
    """Launch the module's link, read every section, pass the check; the final page."""
    moodle.custom = {"module": module_id}
    html = follow(tool, launch(tool, moodle).result).text
    for action, fields in forms(tool, html):
        if "section" in fields:
            assert no_cookies("POST", action, data=fields).status_code == 303
    check = programme.modules[module_id].check
    assert check is not None
    answers = {f"answer-{q.id}": [str(i) for i in q.correct_indexes] for q in check.questions}
    action, fields = next(f for f in forms(tool, html) if f[0].endswith("/check"))
    done = no_cookies("POST", action, data={**fields, **answers})
    assert done.status_code == 303, done.text
    return no_cookies("GET", urljoin(tool.url, done.headers["Location"])).text


def token_in(html: str) -> str:
    found = re.search(r"[?&]s=([A-Za-z0-9_\-.]+)", html)
    assert found is not None
    return found.group(1)


def test_a_path_then_the_programme_through_real_launches(
    tool: Tool, moodle: MoodleLike, climate: Programme, monkeypatch: pytest.MonkeyPatch
) -> None:
    moodle.locale = "sv"
    moodle.user = {**moodle.user, "name": "Ștefania Țurcanu", "sub": "learner-5"}
    db = tool.db()
    path = climate.path("decision-makers").items
    for module_id in path:
        html = complete(tool, moodle, climate, module_id)
    with db.session() as session:
        learner = session.query(Learner).filter_by(subject="learner-5").one()
        held = learner_awards(session, learner_id=learner.id, programme_id=climate.id)
    assert [a.key for a in held][-1] == "rule:decision-makers-certificate"
    assert len(held) == 9
    certificate = held[-1]
    assert certificate.learner_name == "Ștefania Țurcanu"

    token = token_in(html)
    jwt = requests.get(
        f"{tool.url}/awards/{certificate.public_id}.jwt", params={"s": token}, timeout=10
    )
    assert jwt.status_code == 200
    pdf = requests.get(
        f"{tool.url}/awards/{certificate.public_id}.pdf", params={"s": token}, timeout=10
    )
    assert pdf.content.startswith(b"%PDF-")
    public = requests.get(f"{tool.url}/verify/{certificate.public_id}.json", timeout=10).json()
    assert (public["status"], public["title"], public["learner_name"]) == (
        "valid",
        "Intyg för förtroendevalda",
        "Ștefania Țurcanu",
    )
    checked = requests.post(f"{tool.url}/verify/check.json", data=jwt.text, timeout=10).json()
    assert checked["status"] == "valid"

    for module_id in climate.modules:
        if module_id not in path:
            complete(tool, moodle, climate, module_id)
    with db.session() as session:
        held = learner_awards(session, learner_id=learner.id, programme_id=climate.id)
    diploma = next(a for a in held if a.key == "rule:climate-action-diploma")
    assert len(held) == 16 + 4
    page = requests.get(f"{tool.url}/verify/{diploma.public_id}", timeout=10)
    assert 'data-status="valid"' in page.text
    # Issued in the learner's language (the completion passes it), before any download.
    assert "Diplom i lokal klimat- och energiomställning" in page.text
    assert '<html lang="sv">' in page.text
    certificate_page = requests.get(f"{tool.url}/verify/{certificate.public_id}", timeout=10)
    assert "Intyg för förtroendevalda" in certificate_page.text
    assert '<html lang="sv">' in certificate_page.text

    monkeypatch.setenv("CAPACITY_LTI_DATABASE_URL", str(db.engine.url.render_as_string(False)))
    out, err = io.StringIO(), io.StringIO()
    assert main(["award", "revoke", diploma.public_id, "--reason", "test"], out, err) == 0
    page = requests.get(f"{tool.url}/verify/{diploma.public_id}", timeout=10)
    assert 'data-status="revoked"' in page.text
    again = requests.post(f"{tool.url}/verify/check.json", data=jwt.text, timeout=10).json()
    assert again["status"] == "valid"  # the certificate is still valid
