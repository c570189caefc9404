"""`capacity-lti outbox [--failed]` and `capacity-lti worker --once`."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from sqlalchemy import select

from capacity_lti.cli import main
from capacity_lti.lti.ags import scores_url
from capacity_lti.storage import Database
from capacity_lti.storage.delivery import Worker
from capacity_lti.storage.tables import ScoreOutbox
from tests.ags.conftest import place
from tests.ags.fake_lms import FakeMoodle
from tests.ags.test_delivery import POLICY, enqueue


@pytest.fixture
def cli_env(monkeypatch: pytest.MonkeyPatch, database_url: str, tmp_path: Path) -> None:
    monkeypatch.setenv("CAPACITY_LTI_DATABASE_URL", database_url)
    monkeypatch.setenv("CAPACITY_LTI_INSTANCE_PATH", str(tmp_path / "instance"))


def run(*argv: str) -> tuple[int, list[str]]:
    out, err = io.StringIO(), io.StringIO()
    code = main(list(argv), out=out, err=err)
    assert err.getvalue() == ""
    return code, out.getvalue().splitlines()


def _when(moment: object) -> str:
    return f"{moment:%Y-%m-%d %H:%M:%S} UTC"


def test_outbox_shows_what_is_pending_and_failing(
    cli_env: None, tool_db: Database, lms: FakeMoodle
) -> None:
    url = lms.lineitem_url(lms.add_lineitem("Climate action", 10, "rl-42"))
    assert run("outbox") == (
        0,
        ["scores: 0 pending, 0 failed, 0 delivered, 0 superseded", "nothing waiting to be sent"],
    )
    refused = place(tool_db, lms, lineitem=url)
    lms.enrolled.clear()
    flaky = place(
        tool_db, lms, lineitem=url, subject="u-2", link_id="rl-43", platform_id=refused.platform_id
    )
    waiting = place(
        tool_db, lms, lineitem=url, subject="u-3", link_id="rl-44", platform_id=refused.platform_id
    )
    enqueue(tool_db, refused)
    Worker(tool_db, policy=POLICY).run_once()
    lms.enrolled.add("u-2")
    lms.script = ["500"]
    enqueue(tool_db, flaky, given=7)
    Worker(tool_db, policy=POLICY).run_once()
    enqueue(tool_db, waiting, given=2, maximum=4)
    with tool_db.session() as session:
        first, second, third = session.scalars(select(ScoreOutbox).order_by(ScoreOutbox.id)).all()
    where = lms.issuer
    lines = [
        f"#1 failed: Ada Lovelace (moodle-user-7) on Climate action (rl-42) [{where}] score 6/10 of "
        f"{_when(first.scored_at)}; attempts 1; next attempt never (refused by the LMS)",
        f"    last error: score for moodle-user-7 to {scores_url(url)}: HTTP 400: "
        "No user with id moodle-user-7 in this course",
        f"#2 pending: Ada Lovelace (u-2) on Climate action (rl-43) [{where}] score 7/10 of "
        f"{_when(second.scored_at)}; attempts 1; next attempt {_when(second.next_attempt_at)}",
        f"    last error: score for u-2 to {scores_url(url)}: HTTP 500: database busy",
    ]
    third_line = (
        f"#3 pending: Ada Lovelace (u-3) on Climate action (rl-44) [{where}] score 2/4 of "
        f"{_when(third.scored_at)}; attempts 0; next attempt {_when(third.next_attempt_at)}"
    )
    summary = "scores: 2 pending, 1 failed, 0 delivered, 0 superseded"
    assert run("outbox") == (0, [summary, *lines, third_line])
    assert run("outbox", "--failed") == (0, [summary, *lines])


def test_worker_once_sends_what_is_due(cli_env: None, tool_db: Database, lms: FakeMoodle) -> None:
    url = lms.lineitem_url(lms.add_lineitem("Climate action", 10, "rl-42"))
    enqueue(tool_db, place(tool_db, lms, lineitem=url))
    assert run("worker", "--once") == (0, ["score worker: handled 1 score(s)"])
    assert run("outbox", "--failed") == (
        0,
        ["scores: 0 pending, 0 failed, 1 delivered, 0 superseded", "nothing failing"],
    )
    assert len(lms.landed) == 1
