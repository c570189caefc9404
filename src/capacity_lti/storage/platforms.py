"""Registered platforms (LMS installs) and their deployments."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from itertools import groupby
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import Connection, Row, bindparam, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from capacity_lti.errors import ConfigError
from capacity_lti.storage.engine import Database
from capacity_lti.storage.tables import Base, Deployment, Platform


@dataclass(frozen=True)
class PlatformRecord:
    """What the tool knows about one registration (issuer + client id)."""

    id: int
    issuer: str
    client_id: str
    name: str
    auth_login_url: str
    auth_token_url: str
    key_set_url: str
    auth_audience: str | None
    status: str
    deployment_ids: tuple[str, ...] = field(default=())


def _record(row: Platform) -> PlatformRecord:
    return PlatformRecord(
        id=row.id,
        issuer=row.issuer,
        client_id=row.client_id,
        name=row.name,
        auth_login_url=row.auth_login_url,
        auth_token_url=row.auth_token_url,
        key_set_url=row.key_set_url,
        auth_audience=row.auth_audience,
        status=row.status,
        deployment_ids=tuple(d.deployment_id for d in row.deployments),
    )


def add_platform(
    db: Database,
    *,
    issuer: str,
    client_id: str,
    auth_login_url: str,
    auth_token_url: str,
    key_set_url: str,
    deployment_ids: tuple[str, ...] = (),
    name: str = "",
    auth_audience: str | None = None,
) -> PlatformRecord:
    """Register a platform; an issuer may have several client ids, each registered once."""
    for label, url in (
        ("issuer", issuer),
        ("login URL", auth_login_url),
        ("token URL", auth_token_url),
        ("keyset URL", key_set_url),
    ):
        parts = urlsplit(url)
        if parts.scheme not in ("https", "http") or not parts.netloc:
            raise ConfigError(f"{label} {url!r} must be an absolute https:// URL")
    try:
        with db.session() as session:
            row = Platform(
                issuer=issuer,
                client_id=client_id,
                name=name or issuer,
                auth_login_url=auth_login_url,
                auth_token_url=auth_token_url,
                key_set_url=key_set_url,
                auth_audience=auth_audience,
            )
            row.deployments = [Deployment(deployment_id=d) for d in dict.fromkeys(deployment_ids)]
            session.add(row)
            session.flush()
            return _record(row)
    except IntegrityError:
        raise ConfigError(
            f"a platform with issuer {issuer!r} and client id {client_id!r} is already registered: "
            "remove it first or use another client id"
        ) from None


_PLATFORM = Base.metadata.tables["platform"]
_DEPLOYMENT = Base.metadata.tables["deployment"]
# Core on the tables (no ORM entities or compile step per call); built once, so each use
# skips statement construction and cache-key generation.
_JOINED = (
    select(
        _PLATFORM.c.id,
        _PLATFORM.c.issuer,
        _PLATFORM.c.client_id,
        _PLATFORM.c.name,
        _PLATFORM.c.auth_login_url,
        _PLATFORM.c.auth_token_url,
        _PLATFORM.c.key_set_url,
        _PLATFORM.c.auth_audience,
        _PLATFORM.c.status,
        _DEPLOYMENT.c.deployment_id,
    )
    .select_from(_PLATFORM.outerjoin(_DEPLOYMENT, _DEPLOYMENT.c.platform_id == _PLATFORM.c.id))
    .order_by(_PLATFORM.c.id, _DEPLOYMENT.c.id)
)
_BY_ISSUER = _JOINED.where(_PLATFORM.c.issuer == bindparam("issuer"))


def _records(rows: Iterable[Row[*tuple[Any, ...]]]) -> list[PlatformRecord]:
    """Group platform LEFT JOIN deployment rows (ordered by platform id) into records."""
    records = []
    for _, group in groupby(rows, key=lambda row: row.id):
        found = list(group)
        first = found[0]
        records.append(
            PlatformRecord(
                id=first.id,
                issuer=first.issuer,
                client_id=first.client_id,
                name=first.name,
                auth_login_url=first.auth_login_url,
                auth_token_url=first.auth_token_url,
                key_set_url=first.key_set_url,
                auth_audience=first.auth_audience,
                status=first.status,
                deployment_ids=tuple(r.deployment_id for r in found if r.deployment_id is not None),
            )
        )
    return records


def platforms_of(connection: Connection, issuer: str) -> list[PlatformRecord]:
    """The registrations of an issuer (a launch's lookup: one prepared query)."""
    return _records(connection.execute(_BY_ISSUER, {"issuer": issuer}))


def _query(session: Session, issuer: str, client_id: str | None) -> list[PlatformRecord]:
    statement = _BY_ISSUER
    if client_id is not None:
        statement = statement.where(_PLATFORM.c.client_id == client_id)
    return _records(session.execute(statement, {"issuer": issuer}))


def find_platform(db: Database, issuer: str, client_id: str | None = None) -> PlatformRecord:
    """The one platform for issuer (+ client id); ConfigError when none or ambiguous."""
    with db.session() as session:
        rows = _query(session, issuer, client_id)
        if not rows:
            who = f"issuer {issuer!r}" + (f" and client id {client_id!r}" if client_id else "")
            raise ConfigError(
                f"no platform is registered with {who}: see 'capacity-lti platform list'"
            )
        if len(rows) > 1:
            ids = ", ".join(r.client_id for r in rows)
            raise ConfigError(
                f"issuer {issuer!r} has several client ids ({ids}): name one with --client-id"
            )
        return rows[0]


def list_platforms(db: Database) -> list[PlatformRecord]:
    with db.session() as session:
        return _records(session.execute(_JOINED))


def remove_platform(db: Database, issuer: str, client_id: str | None = None) -> PlatformRecord:
    """Delete a registration and its deployments."""
    record = find_platform(db, issuer, client_id)
    with db.session() as session:
        row = session.get(Platform, record.id)
        if row is not None:
            session.delete(row)
    return record
