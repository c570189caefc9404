"""`capacity-lti attendance record`: an administrator records attendance for one learner."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from sqlalchemy import select

from capacity_lti.cli import main
from capacity_lti.settings import Settings
from capacity_lti.storage import Database, open_database
from capacity_lti.storage.platforms import add_platform
from capacity_lti.storage.roster import note_membership
from capacity_lti.storage.tables import Award, Completion, Learner, ResourceLink, ScoreOutbox

ISSUER = "https://moodle.example.org"


@pytest.fixture
def db(database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Database:
    monkeypatch.setenv("CAPACITY_LTI_DATABASE_URL", database_url)
    monkeypatch.setenv("CAPACITY_LTI_INSTANCE_PATH", str(tmp_path / "instance"))
    return open_database(Settings())


def run(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(list(argv), out, err)
    return code, out.getvalue(), err.getvalue()


def seat(db: Database) -> tuple[int, int]:
    platform = add_platform(
        db,
        issuer=ISSUER,
        client_id="tool-1",
        auth_login_url=f"{ISSUER}/mod/lti/auth.php",
        auth_token_url=f"{ISSUER}/mod/lti/token.php",
        key_set_url=f"{ISSUER}/mod/lti/certs.php",
        deployment_ids=("1",),
    )
    with db.session() as session:
        learner = Learner(platform_id=platform.id, subject="ana", name="Ana Souza")
        link = ResourceLink(
            platform_id=platform.id,
            deployment_id="1",
            link_id="3",
            context_id="2",
            ags_lineitem=f"{ISSUER}/mod/lti/services.php/2/lineitems/4/lineitem?type_id=1",
            ags_scopes="https://purl.imsglobal.org/spec/lti-ags/scope/score",
        )
        session.add_all([learner, link])
        session.flush()
        ids = learner.id, link.id
        note_membership(
            session, learner_id=learner.id, platform_id=platform.id, context_id="2", teaching=False
        )
    return ids


def test_record_once_then_nothing_changes(db: Database, base_programme: Path) -> None:
    learner, link = seat(db)
    args = ("attendance", "record", "--platform", ISSUER, "--learner", "ana", "--event")
    first = run(*args, "site-visit", "--programme", str(base_programme))
    assert first == (
        0,
        f"recorded: ana attended site-visit (3 points); score queued for resource link #{link}\n",
        "",
    )
    again = run(*args, "site-visit", "--programme", str(base_programme))
    assert again == (0, "ana already attended site-visit: nothing changed\n", "")
    with db.session() as session:
        assert session.execute(select(Completion.learner_id, Completion.item_id)).all() == [
            (learner, "site-visit")
        ]
        scores = session.execute(select(ScoreOutbox.score_given, ScoreOutbox.score_maximum)).all()
        assert [tuple(s) for s in scores] == [(3.0, 7.0)]
        assert session.scalars(select(Award.award_key)).all() == []  # the path needs its modules


def test_unknown_learner_event_and_platform_are_usage_errors(
    db: Database, base_programme: Path
) -> None:
    seat(db)
    programme = ("--programme", str(base_programme))
    assert run(
        "attendance",
        "record",
        "--platform",
        ISSUER,
        "--learner",
        "bob",
        "--event",
        "site-visit",
        *programme,
    ) == (
        2,
        "",
        f"error: platform {ISSUER!r} has no learner with sub 'bob': they appear once they have "
        "opened the tool, or once an instructor has opened the course roster\n",
    )
    assert run(
        "attendance",
        "record",
        "--platform",
        ISSUER,
        "--learner",
        "ana",
        "--event",
        "webinar",
        *programme,
    ) == (
        2,
        "",
        "error: programme 'test-programme' has no event 'webinar' (its events: site-visit)\n",
    )
    code, out, err = run(
        "attendance",
        "record",
        "--platform",
        "https://other.example",
        "--learner",
        "ana",
        "--event",
        "site-visit",
        *programme,
    )
    assert (code, out) == (3, "")
    assert err == (
        "error: no platform is registered with issuer 'https://other.example': see "
        "'capacity-lti platform list'\n"
    )
    with db.session() as session:
        assert session.scalars(select(Completion.id)).all() == []
