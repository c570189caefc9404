"""Settings, from the environment (prefix CAPACITY_LTI_) or passed in as a value object.

Read only by the web app factory, the CLI and storage; everything else receives
the values it needs as arguments.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Everything an installation can configure; defaults give the embedded setup."""

    model_config = SettingsConfigDict(env_prefix="CAPACITY_LTI_", extra="forbid", frozen=True)

    instance_path: Path = Field(
        default=Path("instance"),
        description="folder for the embedded SQLite database and other local state",
    )
    database_url: str | None = Field(
        default=None,
        description="SQLAlchemy URL; default: an SQLite file in instance_path. "
        "PostgreSQL: postgresql+psycopg://user@host/db (extra [postgres])",
    )
    deployment_policy: Literal["allow-list", "first-launch"] = Field(
        default="first-launch",
        description="deployment ids not seen before: refuse unless listed ('allow-list'), "
        "or record them on their first validly signed launch ('first-launch')",
    )
    leeway_seconds: int = Field(
        default=60, ge=0, le=600, description="clock skew allowed on iat/exp"
    )
    key_retention_seconds: int = Field(
        default=3600,
        ge=300,
        description="how long a rotated-out tool key stays in the JWKS (longer than any token it signed)",
    )
    key_recheck_seconds: float = Field(
        default=5.0,
        ge=0,
        le=60,
        description="how often a running tool looks for rotated keys (one small query); "
        "'capacity-lti keys rotate' takes effect in every process within this time",
    )
    schemas: Path | None = Field(
        default=None, description="folder of official SCORM/cmi5 XSDs to validate packages against"
    )
    registration_allow_http: bool = Field(
        default=False,
        description="accept plain http:// LMS addresses in Dynamic Registration (local test "
        "platforms only; a real LMS is reached over https)",
    )
    programme_dir: Path | None = Field(
        default=None,
        description="the programme the web tool serves; default: examples/climate-action in a "
        "checkout, else the bundled starter programme",
    )
    proxy_count: int = Field(
        default=0,
        ge=0,
        le=5,
        description="reverse proxies in front of the tool whose X-Forwarded-* headers are trusted",
    )
    session_ttl_seconds: int = Field(
        default=3600,
        ge=60,
        le=43200,
        description="lifetime of a learner's signed session token, renewed on every page",
    )
    public_url: str | None = Field(
        default=None,
        pattern=r"^https?://[^/?#]+(/[^?#]*)?$",
        description="the tool's public base URL, e.g. https://tool.example.org; the launch "
        "(redirect) URI sent to platforms is built from it, byte for byte; default: from "
        "each request (X-Forwarded-* honoured when proxy_count is set)",
    )
    delivery_timeout_seconds: float = Field(
        default=10.0, gt=0, le=120, description="HTTP timeout of each call to an LMS (token, AGS)"
    )
    delivery_backoff_seconds: float = Field(
        default=5.0, ge=0, description="first retry delay of a failed score; doubles per attempt"
    )
    delivery_backoff_max_seconds: float = Field(
        default=3600.0, ge=0, description="longest delay between two tries of one score"
    )
    delivery_lease_seconds: float = Field(
        default=120.0,
        gt=0,
        description="how long a worker owns a score it sends; a killed worker's score is retried "
        "after this (keep it above a few delivery timeouts)",
    )
    worker_poll_seconds: float = Field(
        default=2.0, gt=0, le=300, description="how often an idle score worker looks for work"
    )

    def resolved_database_url(self) -> str:
        """The database URL, defaulting to an SQLite file inside the instance folder."""
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.instance_path / 'capacity_lti.sqlite3').resolve()}"
