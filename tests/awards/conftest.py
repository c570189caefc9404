"""Fixtures for awards: a migrated database with a platform and learners, the tool's keys."""

from __future__ import annotations

from datetime import timedelta

import pytest

from capacity_lti.content import Programme, load_programme
from capacity_lti.lti.keys import KeyRing
from capacity_lti.settings import Settings
from capacity_lti.storage import Database, open_database
from capacity_lti.storage.keys import KeyStore, ensure_key
from capacity_lti.storage.platforms import add_platform
from capacity_lti.storage.tables import Learner, Platform
from tests.conftest import EXAMPLES

ISSUER = "https://moodle.example.org"
BASE_URL = "https://tool.example.org"


@pytest.fixture(scope="session")
def climate() -> Programme:
    return load_programme(EXAMPLES / "climate-action")


@pytest.fixture(scope="session")
def mobility() -> Programme:
    return load_programme(EXAMPLES / "mobility-innovation")


@pytest.fixture
def db(database_url: str) -> Database:
    return open_database(Settings(database_url=database_url))


@pytest.fixture
def ring(db: Database) -> KeyRing:
    ensure_key(db)
    return KeyStore(db, timedelta(hours=1)).ring()


def add_learner(db: Database, subject: str = "42", name: str = "Ana Novak", email: str = "") -> int:
    """A learner of the Moodle platform (the platform is registered on first use)."""
    with db.session() as session:
        platform_id = session.query(Platform.id).limit(1).scalar()
    if platform_id is None:
        platform_id = add_platform(
            db,
            issuer=ISSUER,
            client_id="tool",
            auth_login_url=f"{ISSUER}/mod/lti/auth.php",
            auth_token_url=f"{ISSUER}/mod/lti/token.php",
            key_set_url=f"{ISSUER}/mod/lti/certs.php",
        ).id
    with db.session() as session:
        learner = Learner(platform_id=platform_id, subject=subject, name=name, email=email)
        session.add(learner)
        session.flush()
        return learner.id
