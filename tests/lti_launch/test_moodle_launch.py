"""Complete launches from a platform that signs the way Moodle 4.5 does."""

from __future__ import annotations

import logging

import pytest
from sqlalchemy import select

from capacity_lti.storage.tables import Deployment, Learner, PendingLogin, ResourceLink
from tests.lti_launch.conftest import MODULE, Tool, follow, lands_on, launch, session_of
from tests.lti_launch.platforms import INSTRUCTOR, LEARNER, MoodleLike, query_of


def test_resource_link_launch_opens_home_and_records_learner_and_link(
    tool: Tool, moodle: MoodleLike, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="capacity_lti.web")
    done = launch(tool, moodle)
    assert lands_on(tool, done.result, "learner.home")
    page = follow(tool, done.result)
    assert page.status_code == 200
    session = session_of(tool, done.result)
    assert session["locale"] == "pt-BR"  # Moodle's pt_br, as BCP 47
    assert session["roles"] == [LEARNER]
    assert session["instructor"] is False
    assert session["deep_linking"] is None
    with tool.db().session() as db:
        learner = db.scalars(select(Learner)).one()
        assert (learner.subject, learner.name, learner.email) == (
            "2",
            "Ana Souza",
            "ana@example.org",
        )
        link = db.scalars(select(ResourceLink)).one()
        assert session["learner_id"] == learner.id
        assert session["resource_link_id"] == link.id
        assert link.link_id == "3"
        assert link.deployment_id == "1"
        assert link.context_title == "Climate action for councils"
        assert link.module_id is None
        # byte-exact, query string and all
        assert (
            link.ags_lineitem
            == moodle.issuer + "/mod/lti/services.php/2/lineitems/4/lineitem?type_id=1"
        )
        assert link.ags_lineitems == moodle.issuer + "/mod/lti/services.php/2/lineitems?type_id=1"
        assert link.ags_scopes.split() == [
            "https://purl.imsglobal.org/spec/lti-ags/scope/lineitem",
            "https://purl.imsglobal.org/spec/lti-ags/scope/lineitem.readonly",
            "https://purl.imsglobal.org/spec/lti-ags/scope/result.readonly",
            "https://purl.imsglobal.org/spec/lti-ags/scope/score",
        ]
        assert (
            link.nrps_url
            == moodle.issuer + "/mod/lti/services.php/CourseSection/2/bindings/1/memberships"
        )
    assert any(
        "launch ok" in r.getMessage() and "-> learner.home" in r.getMessage()
        for r in caplog.records
    )


def test_login_redirect_is_a_complete_oidc_request(tool: Tool, moodle: MoodleLike) -> None:
    done = launch(tool, moodle)
    location = done.login.headers["Location"]
    assert location.startswith(moodle.auth_url + "?")
    query = query_of(location)
    assert query["redirect_uri"] == tool.url + "/launch"
    assert query["lti_message_hint"] == moodle.initiation()["lti_message_hint"]
    assert len(query["state"]) >= 43
    assert len(query["nonce"]) >= 43
    assert moodle.issued[0]["nonce"] == query["nonce"]
    with tool.db().session() as db:
        row = db.get(PendingLogin, query["state"])
        assert row is not None
        assert row.used_at is not None


def test_login_by_get_works_too(tool: Tool, moodle: MoodleLike) -> None:
    import requests

    response = requests.get(
        tool.url + "/lti/login", params=moodle.initiation(), allow_redirects=False, timeout=10
    )
    assert response.status_code == 302
    assert response.headers["Location"].startswith(moodle.auth_url + "?")


def test_module_from_custom_parameter(tool: Tool, moodle: MoodleLike) -> None:
    moodle.custom = {"module": MODULE}
    done = launch(tool, moodle)
    assert lands_on(tool, done.result, "learner.module", module_id=MODULE)
    assert follow(tool, done.result).status_code == 200
    with tool.db().session() as db:
        assert db.scalars(select(ResourceLink.module_id)).one() == MODULE


def test_module_from_target_link_uri_path(tool: Tool, moodle: MoodleLike) -> None:
    moodle.target = tool.url + f"/modules/{MODULE}"
    done = launch(tool, moodle)
    assert lands_on(tool, done.result, "learner.module", module_id=MODULE)


def test_unknown_module_is_a_404_page(tool: Tool, moodle: MoodleLike) -> None:
    moodle.custom = {"module": "no-such-module"}
    done = launch(tool, moodle)
    assert done.result.status_code == 404
    assert "<code>unknown-module</code>" in done.result.text


def test_deep_linking_request_arrives_at_launch_and_goes_to_choose(
    tool: Tool, moodle: MoodleLike
) -> None:
    moodle.message_type = "LtiDeepLinkingRequest"
    moodle.roles = [INSTRUCTOR]
    done = launch(tool, moodle)
    assert lands_on(tool, done.result, "deep_linking.choose")
    session = session_of(tool, done.result)
    assert session["instructor"] is True
    assert session["resource_link_id"] is None
    assert session["deep_linking"]["deep_link_return_url"].endswith(
        "contentitem_return.php?course=2&id=1&sesskey=abc"
    )
    assert session["deep_linking"]["data"] == "eyJ0eXBlIjoiY29udGVudCJ9"


def test_first_launch_policy_records_a_new_deployment(tool: Tool, moodle: MoodleLike) -> None:
    moodle.deployment_id = "7"  # a second registration in the same Moodle
    done = launch(tool, moodle)
    assert lands_on(tool, done.result, "learner.home")
    with tool.db().session() as db:
        rows = {(d.deployment_id, d.added_by) for d in db.scalars(select(Deployment))}
    assert rows == {("1", "admin"), ("7", "first-launch")}


def test_a_second_launch_updates_the_same_learner(tool: Tool, moodle: MoodleLike) -> None:
    launch(tool, moodle)
    moodle.user = {"sub": "2", "email": "ana.souza@example.org"}
    follow(tool, launch(tool, moodle).result)
    with tool.db().session() as db:
        learners = db.scalars(select(Learner)).all()
    assert [(x.subject, x.name, x.email) for x in learners] == [("2", "", "ana.souza@example.org")]
