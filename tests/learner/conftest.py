"""A database with learners on two platforms and their course links, for the learner tests."""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from werkzeug.test import TestResponse

from capacity_lti.content import Programme, load_programme
from capacity_lti.settings import Settings
from capacity_lti.storage import Database, open_database
from capacity_lti.storage.tables import Completion, Learner, Platform, ResourceLink, ScoreOutbox
from capacity_lti.web import create_app
from capacity_lti.web.services import services
from capacity_lti.web.session import LearnerSession, issue_token
from tests.lti_launch.conftest import moodle, tool  # noqa: F401 (the launch tests' fixtures)

LINEITEMS = "https://lms.example/api/lti/courses/7/line_items"


@pytest.fixture
def db(database_url: str) -> Database:
    return open_database(Settings(database_url=database_url))


@pytest.fixture
def programme(base_programme: Path) -> Programme:
    """The small test programme: lighting-beginner (2 points, two questions, pass 50 %),
    lighting-advanced (2 points), event site-visit (3 points); 7 points in all."""
    return load_programme(base_programme)


@dataclass(frozen=True)
class Seat:
    """One learner on one platform with a link to the programme home and one to a module."""

    platform_id: int
    learner_id: int
    home_link: int
    module_link: int


def seat(db: Database, issuer: str, subject: str, module_id: str = "lighting-beginner") -> Seat:
    with db.session() as session:
        platform = session.scalar(select(Platform).where(Platform.issuer == issuer))
        if platform is None:
            platform = Platform(
                issuer=issuer,
                client_id="tool",
                auth_login_url=f"{issuer}/auth",
                auth_token_url=f"{issuer}/token",
                key_set_url=f"{issuer}/jwks",
            )
            session.add(platform)
            session.flush()
        learner = Learner(platform_id=platform.id, subject=subject)
        links = [
            ResourceLink(
                platform_id=platform.id,
                deployment_id="1",
                link_id=f"{subject}-{name}",
                module_id=target,
                ags_lineitems=LINEITEMS,
                ags_scopes="https://purl.imsglobal.org/spec/lti-ags/scope/score",
            )
            for name, target in (("home", None), ("module", module_id))
        ]
        session.add_all([learner, *links])
        session.flush()
        return Seat(platform.id, learner.id, links[0].id, links[1].id)


@pytest.fixture
def alice(db: Database) -> Seat:
    return seat(db, "https://lms-a.example", "alice")


@pytest.fixture
def bob(db: Database) -> Seat:
    return seat(db, "https://lms-b.example", "bob")


def scores(db: Database, learner_id: int) -> list[tuple[int, float, float, str]]:
    """The learner's outbox rows: (link, given, maximum, activity progress), oldest first."""
    with db.session() as session:
        rows = session.execute(
            select(
                ScoreOutbox.resource_link_id,
                ScoreOutbox.score_given,
                ScoreOutbox.score_maximum,
                ScoreOutbox.activity_progress,
            )
            .where(ScoreOutbox.learner_id == learner_id)
            .order_by(ScoreOutbox.id)
        ).all()
        return [(r[0], r[1], r[2], r[3]) for r in rows]


def completions(db: Database, learner_id: int) -> int:
    with db.session() as session:
        found = session.scalar(
            select(func.count()).select_from(Completion).where(Completion.learner_id == learner_id)
        )
        return int(found or 0)


@dataclass(frozen=True)
class Browser:
    """A Flask test client for one learner: every request carries their session token."""

    client: FlaskClient
    token: str
    who: Seat

    def get(self, path: str, **query: str) -> TestResponse:
        return self.client.get(path, query_string={"s": self.token, **query})

    def post(self, path: str, data: dict[str, Any], **headers: str) -> TestResponse:
        return self.client.post(path, data={"s": self.token, **data}, headers=headers)


def token_for(
    app: Flask, who: Seat, locale: str, link: int | None = None, instructor: bool = False
) -> str:
    now = int(time.time())
    with app.app_context():
        return issue_token(
            LearnerSession(
                platform_id=who.platform_id,
                learner_id=who.learner_id,
                resource_link_id=who.module_link if link is None else link,
                locale=locale,
                roles=(),
                instructor=instructor,
                deep_linking=None,
                expires_at=now + 3600,
                launched_at=now,
            )
        )


@pytest.fixture
def app(tmp_path: Path, database_url: str, programme: Programme) -> Flask:
    settings = Settings(database_url=database_url, instance_path=tmp_path / "instance")
    return create_app(settings, programme=programme)


@pytest.fixture
def app_db(app: Flask) -> Database:
    with app.app_context():
        return services().db


def browser(
    app: Flask, who: Seat, locale: str = "en", link: int | None = None, instructor: bool = False
) -> Browser:
    return Browser(app.test_client(), token_for(app, who, locale, link, instructor), who)
