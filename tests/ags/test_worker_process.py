"""`capacity-lti worker` as a real process, killed with SIGKILL while the LMS holds its request."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from sqlalchemy import select

from capacity_lti.storage import Database
from capacity_lti.storage.tables import ScoreOutbox
from tests.ags.fake_lms import FakeMoodle
from tests.ags.test_delivery import enqueue, with_lineitem


def _worker(database_url: str, tmp_path: Path) -> subprocess.Popen[str]:
    env = {
        **os.environ,
        "CAPACITY_LTI_DATABASE_URL": database_url,
        "CAPACITY_LTI_INSTANCE_PATH": str(tmp_path / "instance"),
        "CAPACITY_LTI_DELIVERY_LEASE_SECONDS": "1",
        "CAPACITY_LTI_DELIVERY_TIMEOUT_SECONDS": "20",
        "CAPACITY_LTI_WORKER_POLL_SECONDS": "0.05",
    }
    return subprocess.Popen(
        [sys.executable, "-m", "capacity_lti", "worker"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _row(db: Database) -> ScoreOutbox:
    with db.session() as session:
        return session.scalars(select(ScoreOutbox)).one()


def test_a_worker_killed_mid_delivery_still_lands_exactly_one_score(
    tool_db: Database, lms: FakeMoodle, database_url: str, tmp_path: Path
) -> None:
    where, _ = with_lineitem(tool_db, lms)
    lms.script = ["hold"]  # apply the score, then keep the worker waiting for the answer
    enqueue(tool_db, where)

    first = _worker(database_url, tmp_path)
    try:
        assert lms.held.wait(60), "the worker never sent the score"
    finally:
        first.send_signal(signal.SIGKILL)
        first.wait(10)
    assert first.returncode == -signal.SIGKILL
    lms.release.set()
    killed = _row(tool_db)
    assert (killed.state, killed.attempts, killed.leased_until is not None) == ("pending", 1, True)
    assert len(lms.landed) == 1

    second = _worker(database_url, tmp_path)
    try:
        deadline = time.monotonic() + 60
        while _row(tool_db).state != "delivered" and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        second.send_signal(signal.SIGTERM)
        out, err = second.communicate(timeout=20)
    assert second.returncode == 0, err
    assert out.splitlines()[-1] == "score worker stopped"
    row = _row(tool_db)
    assert (row.state, row.attempts, row.last_error) == ("delivered", 2, None)
    assert lms.score_posts == 2  # sent twice ...
    assert len(lms.landed) == 1  # ... and one score in the gradebook
