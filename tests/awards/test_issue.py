"""Issuing awards exactly once, on SQLite and PostgreSQL, also under concurrent completions."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from capacity_lti.awards.rules import AwardKind
from capacity_lti.content import Programme
from capacity_lti.errors import StorageError
from capacity_lti.storage import Database
from capacity_lti.storage.awards import (
    find_award,
    issue_due_awards,
    learner_awards,
    list_awards,
    revoke_award,
)
from capacity_lti.storage.tables import Award
from tests.awards.conftest import add_learner


def issue(db: Database, learner_id: int, programme: Programme, done: set[str]) -> list[str]:
    with db.session() as session:
        issued = issue_due_awards(
            session, learner_id=learner_id, programme=programme, completed_item_ids=done
        )
        return [a.key for a in issued]


def test_each_award_is_issued_once_and_returned_only_by_the_call_that_issued_it(
    db: Database, climate: Programme
) -> None:
    learner = add_learner(db)
    path = set(climate.path("decision-makers").items)
    first = issue(db, learner, climate, path - {"water-beginner"})
    assert len(first) == 7
    assert all(k.startswith("module:") for k in first)
    assert issue(db, learner, climate, path - {"water-beginner"}) == []
    assert issue(db, learner, climate, path) == [
        "module:water-beginner",
        "rule:decision-makers-certificate",
    ]
    assert issue(db, learner, climate, path) == []
    with db.session() as session:
        held = learner_awards(session, learner_id=learner, programme_id="climate-action")
    assert len(held) == 9
    certificate = held[-1]
    assert certificate.kind is AwardKind.PATH_CERTIFICATE
    assert (certificate.rule_id, certificate.path_id, certificate.points) == (
        "decision-makers-certificate",
        "decision-makers",
        8,
    )
    assert certificate.language == "en"
    assert not certificate.signed
    assert len(certificate.public_id) == 22
    assert len({a.public_id for a in held}) == 9


def test_awards_belong_to_one_learner(db: Database, climate: Programme) -> None:
    ana, ben = add_learner(db, "42", "Ana"), add_learner(db, "43", "Ben")
    assert issue(db, ana, climate, {"waste-beginner"}) == ["module:waste-beginner"]
    assert issue(db, ben, climate, {"waste-beginner"}) == ["module:waste-beginner"]
    with db.session() as session:
        assert [
            a.learner_id for a in learner_awards(session, learner_id=ben, programme_id=climate.id)
        ] == [ben]


def test_the_database_refuses_a_second_copy_of_an_award(db: Database, climate: Programme) -> None:
    learner = add_learner(db)
    issue(db, learner, climate, {"waste-beginner"})
    with pytest.raises(IntegrityError), db.session() as session:
        session.add(
            Award(
                public_id="x" * 22,
                learner_id=learner,
                programme_id=climate.id,
                award_key="module:waste-beginner",
                kind="module-certificate",
                language="en",
            )
        )


def test_concurrent_last_completions_issue_the_diploma_once(
    db: Database, climate: Programme
) -> None:
    """Eight requests complete the last module at the same moment, each in its own
    transaction on its own connection: every award exists once, and each is reported
    as new by exactly one request."""
    learner = add_learner(db)
    everything = set(climate.modules)
    issue(db, learner, climate, everything - {"water-advanced"})
    start = threading.Barrier(8)
    results: list[list[str]] = []
    errors: list[BaseException] = []

    def complete() -> None:
        try:
            with db.session() as session:
                start.wait(timeout=10)
                issued = issue_due_awards(
                    session, learner_id=learner, programme=climate, completed_item_ids=everything
                )
                results.append([a.key for a in issued])
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=complete) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert errors == []
    issued = sorted(key for keys in results for key in keys)
    assert issued == sorted(
        ["module:water-advanced", "rule:climate-action-diploma", "rule:officers-certificate"]
    )
    assert sum(1 for keys in results if keys) == 1  # one transaction issued all three
    with db.session() as session:
        count = session.scalar(select(func.count()).select_from(Award))
    assert count == 16 + 4


def test_revoke_keeps_the_first_revocation_and_refuses_unknown_ids(
    db: Database, climate: Programme
) -> None:
    learner = add_learner(db)
    issue(db, learner, climate, {"waste-beginner"})
    (award,) = list_awards(db)
    assert award.learner_name == "Ana Novak"
    revoked = revoke_award(db, award.public_id, "issued by mistake")
    assert revoked.revoked_at is not None
    assert revoked.revocation_reason == "issued by mistake"
    again = revoke_award(db, award.public_id, "other")
    assert (again.revoked_at, again.revocation_reason) == (revoked.revoked_at, "issued by mistake")
    assert [a.public_id for a in list_awards(db, revoked=True)] == [award.public_id]
    assert list_awards(db, revoked=False) == []
    with pytest.raises(StorageError) as unknown:
        revoke_award(db, "nope", "x")
    assert str(unknown.value) == "no award has the id 'nope': see 'capacity-lti award list'"
    with db.session() as session:
        assert find_award(session, "nope") is None
