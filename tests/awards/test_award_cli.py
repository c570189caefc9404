"""`capacity-lti award list|show|revoke` on a real database."""

from __future__ import annotations

import io

import pytest

from capacity_lti.cli import main
from capacity_lti.content import Programme
from capacity_lti.storage import Database
from capacity_lti.storage.awards import issue_due_awards
from tests.awards.conftest import add_learner


def run(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(list(argv), out, err)
    return code, out.getvalue(), err.getvalue()


def test_list_show_and_revoke(
    db: Database, database_url: str, climate: Programme, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CAPACITY_LTI_DATABASE_URL", database_url)
    assert run("award", "list") == (0, "no awards\n", "")
    learner = add_learner(db, name="Ελένη Παπαδοπούλου")
    with db.session() as session:
        (award,) = issue_due_awards(
            session, learner_id=learner, programme=climate, completed_item_ids={"water-beginner"}
        )
    stamp = f"{award.issued_at:%Y-%m-%d %H:%M} UTC"
    code, out, err = run("award", "list")
    assert (code, err) == (0, "")
    assert out == (
        f"{award.public_id}  {stamp}  module-certificate  water-beginner  Ελένη Παπαδοπούλου  valid\n"
    )
    code, out, _ = run("award", "show", award.public_id)
    assert code == 0
    assert out.splitlines() == [
        f"id:           {award.public_id}",
        f"verify at:    /verify/{award.public_id} (on the tool's public address; set public_url)",
        "kind:         module-certificate",
        "for:          water-beginner (programme climate-action)",
        f"learner:      Ελένη Παπαδοπούλου (learner #{learner})",
        "points:       1",
        "language:     en",
        f"issued:       {stamp}",
        "credential:   not signed yet (signed at first download)",
        "status:       valid",
    ]
    code, out, _ = run("award", "revoke", award.public_id, "--reason", "duplicate account")
    assert code == 0
    assert out.startswith(f"award {award.public_id} is revoked ")
    assert out.endswith(": duplicate account\n")
    assert run("award", "list", "--valid") == (0, "no awards\n", "")
    assert run("award", "list", "--revoked")[1].startswith(award.public_id)
    assert run("award", "show", award.public_id)[1].splitlines()[-1] == (
        "reason:       duplicate account"
    )
    monkeypatch.setenv("CAPACITY_LTI_PUBLIC_URL", "https://tool.example.org")
    assert run("award", "show", award.public_id)[1].splitlines()[1] == (
        f"verify at:    https://tool.example.org/verify/{award.public_id}"
    )
    assert run("award", "show", "nope") == (
        3,
        "",
        "error: no award has the id 'nope': see 'capacity-lti award list'\n",
    )
    assert run("award", "revoke", award.public_id)[0] == 2  # --reason is required
