"""Registered platforms (LMS installs) and their deployments."""

from __future__ import annotations

from dataclasses import dataclass, field
from itertools import groupby
from urllib.parse import urlsplit

from sqlalchemy import ColumnElement, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from capacity_lti.errors import ConfigError
from capacity_lti.storage.engine import Database
from capacity_lti.storage.tables import Deployment, Platform


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


_COLUMNS = (
    Platform.id,
    Platform.issuer,
    Platform.client_id,
    Platform.name,
    Platform.auth_login_url,
    Platform.auth_token_url,
    Platform.key_set_url,
    Platform.auth_audience,
    Platform.status,
)


def select_platforms(session: Session, *where: ColumnElement[bool]) -> list[PlatformRecord]:
    """The platforms matching `where` (all when none), by id, each with its deployment ids:
    one Core query (platform LEFT JOIN deployment), no ORM objects."""
    statement = (
        select(*_COLUMNS, Deployment.deployment_id)
        .outerjoin(Deployment, Deployment.platform_id == Platform.id)
        .where(*where)
        .order_by(Platform.id, Deployment.id)
    )
    records = []
    for _, group in groupby(session.execute(statement), key=lambda row: row.id):
        rows = list(group)
        first = rows[0]
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
                deployment_ids=tuple(r.deployment_id for r in rows if r.deployment_id is not None),
            )
        )
    return records


def _query(session: Session, issuer: str, client_id: str | None) -> list[PlatformRecord]:
    where = [Platform.issuer == issuer]
    if client_id is not None:
        where.append(Platform.client_id == client_id)
    return select_platforms(session, *where)


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
        return select_platforms(session)


def remove_platform(db: Database, issuer: str, client_id: str | None = None) -> PlatformRecord:
    """Delete a registration and its deployments."""
    record = find_platform(db, issuer, client_id)
    with db.session() as session:
        row = session.get(Platform, record.id)
        if row is not None:
            session.delete(row)
    return record
