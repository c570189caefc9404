"""Bring a database to the newest schema with Alembic (idempotent; safe on every start)."""

from __future__ import annotations

from importlib import resources

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine


def alembic_config() -> Config:
    config = Config()
    config.set_main_option(
        "script_location", str(resources.files("capacity_lti.storage") / "migrations")
    )
    return config


def upgrade(engine: Engine) -> None:
    """Apply every migration the database does not have yet."""
    config = alembic_config()
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "head")
