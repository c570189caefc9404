"""Launch bookkeeping commits without waiting for the disk; everything else waits for it."""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.orm import Session

from capacity_lti.settings import Settings
from capacity_lti.storage import open_database
from capacity_lti.storage.tables import ToolSecret

SQLITE_LEVELS = {0: "off", 1: "normal", 2: "full", 3: "extra"}


def commit_setting(session: Session) -> str:
    """How this session's commits reach the disk, as the database itself reports it."""
    if session.get_bind().dialect.name == "sqlite":
        return SQLITE_LEVELS[session.execute(text("PRAGMA synchronous")).scalar_one()]
    return str(session.execute(text("SHOW synchronous_commit")).scalar_one())


def test_only_sessions_marked_not_durable_skip_waiting_for_the_disk(database_url: str) -> None:
    db = open_database(Settings(database_url=database_url))
    sqlite = database_url.startswith("sqlite")
    for _ in range(2):  # and again on the pooled connections
        with db.session() as session:
            assert commit_setting(session) == ("full" if sqlite else "on")
        with db.session(durable=False) as session:
            assert commit_setting(session) == ("normal" if sqlite else "off")
        with db.session() as session:
            assert commit_setting(session) == ("full" if sqlite else "on")


def test_both_kinds_of_session_see_one_database(database_url: str) -> None:
    db = open_database(Settings(database_url=database_url))
    with db.session(durable=False) as session:
        session.add(ToolSecret(name="quick", value="1"))
    with db.session() as session:
        assert session.get(ToolSecret, "quick") is not None
        session.add(ToolSecret(name="durable", value="2"))
    with db.session(durable=False) as session:
        assert session.get(ToolSecret, "durable") is not None
