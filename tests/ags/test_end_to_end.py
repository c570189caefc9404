"""Completing modules (the learner area's call) puts the learner's points in the gradebook."""

from __future__ import annotations

from sqlalchemy import select

from capacity_lti.content import load_programme
from capacity_lti.storage import Database
from capacity_lti.storage.delivery import Worker
from capacity_lti.storage.progress import record_completion
from capacity_lti.storage.tables import ScoreOutbox
from tests.ags.conftest import place
from tests.ags.fake_lms import FakeMoodle
from tests.ags.test_delivery import POLICY
from tests.conftest import EXAMPLES


def test_completions_reach_the_gradebook_once_each(tool_db: Database, lms: FakeMoodle) -> None:
    programme = load_programme(EXAMPLES / "climate-action")
    first, second = sorted(programme.modules)[:2]
    possible = programme.points_possible([item.id for item in programme.items()])
    points = programme.modules[first].points + programme.modules[second].points
    lms.add_lineitem("Climate action", 100, "rl-other")
    where = place(tool_db, lms, lineitems=lms.lineitems_url())  # programme home: every item
    worker = Worker(tool_db, policy=POLICY)

    def complete(item_id: str) -> bool:
        with tool_db.session() as session:
            return record_completion(
                session,
                learner_id=where.learner_id,
                programme=programme,
                item_id=item_id,
                resource_link_id=where.link_pk,
            )

    assert complete(first)
    assert not complete(first)  # a double submit awards and queues nothing more
    assert complete(second)  # before the worker ran: supersedes the first score
    assert worker.run_once() == 1
    with tool_db.session() as session:
        states = list(session.scalars(select(ScoreOutbox.state).order_by(ScoreOutbox.id)))
    assert states == ["superseded", "delivered"]
    [(item, user, _, grade)] = lms.landed
    assert (item, user) == (2, where.subject)  # a new line item: the listed one is another link's
    assert grade == float(points)  # the new line item is out of the points possible
    [created] = lms.created
    assert created["scoreMaximum"] == float(possible)
    assert lms.results[(2, where.subject)]["score"]["activityProgress"] == "InProgress"
