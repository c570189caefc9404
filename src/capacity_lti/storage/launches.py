"""What a launch writes: pending OIDC logins, the tool's own secrets, learners and links.

The launch functions take the caller's connection (Database.transaction: prepared Core
statements, no ORM session to set up), so one request's steps share one transaction (a
refused launch rolls back, and nothing is half-recorded).
"""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from weakref import WeakKeyDictionary

from sqlalchemy import Connection, Row, Table, bindparam, delete, insert, select, update
from sqlalchemy.exc import IntegrityError

from capacity_lti.errors import LaunchError
from capacity_lti.lti.claims import LaunchClaims
from capacity_lti.storage.engine import Database
from capacity_lti.storage.platforms import PlatformRecord, platforms_of
from capacity_lti.storage.roster import note_membership
from capacity_lti.storage.tables import (
    Base,
    ToolSecret,
    utcnow,
)
from capacity_lti.storage.upsert import dialect_insert, upsert

SESSION_SECRET = "session-hmac"  # noqa: S105 (the name of a generated secret)


def _insert_missing(connection: Connection, table: Table, **values: object) -> None:
    """INSERT ... ON CONFLICT DO NOTHING, so two concurrent first launches both succeed."""
    connection.execute(dialect_insert(connection, table).values(**values).on_conflict_do_nothing())


def tool_secret(db: Database, name: str = SESSION_SECRET) -> bytes:
    """A 32-byte secret made on first start and kept in the database (shared by every worker)."""
    with db.session() as session:
        row = session.get(ToolSecret, name)
        if row is not None:
            return bytes.fromhex(row.value)
    try:
        with db.session() as session:
            session.add(ToolSecret(name=name, value=secrets.token_hex(32)))
    except IntegrityError:
        pass  # another worker made it first: use theirs
    with db.session() as session:
        row = session.get(ToolSecret, name)
        assert row is not None
        return bytes.fromhex(row.value)


_ASK_ADMIN = "Please ask your LMS administrator to check the tool's registration."
KEEP_USED = timedelta(hours=1)  # used logins stay this long past expiry, to name replays


@dataclass(frozen=True)
class PendingLoginRecord:
    state: str
    nonce: str
    platform_id: int
    browser_hash: str | None
    storage_target: str | None


def _candidates(connection: Connection, issuer: str) -> list[PlatformRecord]:
    found = platforms_of(connection, issuer)
    if not found:
        raise LaunchError(
            "unknown-issuer",
            f"The tool has no registration for the LMS {issuer!r}. " + _ASK_ADMIN,
        )
    return found


def _active(record: PlatformRecord) -> PlatformRecord:
    if record.status != "active":
        raise LaunchError(
            "platform-not-active",
            f"The tool's registration for this LMS is {record.status}. " + _ASK_ADMIN,
        )
    return record


def login_platform(connection: Connection, issuer: str, client_id: str | None) -> PlatformRecord:
    """The platform a login initiation names: issuer, plus client id when it has several."""
    rows = _candidates(connection, issuer)
    if client_id is not None:
        rows = [r for r in rows if r.client_id == client_id]
        if not rows:
            raise LaunchError(
                "unknown-client",
                f"The LMS used a client id the tool does not know ({client_id!r}). " + _ASK_ADMIN,
            )
    if len(rows) > 1:
        raise LaunchError(
            "ambiguous-client",
            "This LMS has several registrations of the tool and did not say which one "
            "(client_id) when signing in. " + _ASK_ADMIN,
        )
    return _active(rows[0])


def launch_platform(
    connection: Connection, issuer: str, aud: object, azp: object
) -> PlatformRecord:
    """The platform an (unverified) id_token is for: its issuer and azp, else its one audience."""
    audience = [aud] if isinstance(aud, str) else aud if isinstance(aud, list) else []
    clients = [azp] if isinstance(azp, str) else [a for a in audience if isinstance(a, str)]
    candidates = _candidates(connection, issuer)
    rows = [r for r in candidates if r.client_id in clients]
    if not rows and any(r.client_id in audience for r in candidates):
        raise LaunchError(
            "wrong-azp", "The launch was authorised for another tool (azp). " + _ASK_ADMIN
        )
    if not rows:
        raise LaunchError(
            "wrong-aud",
            "The launch was meant for a client id the tool does not know. " + _ASK_ADMIN,
        )
    if len(rows) > 1:
        raise LaunchError(
            "no-azp",
            "The launch names several audiences but no authorised party (azp). " + _ASK_ADMIN,
        )
    return _active(rows[0])


_LOGINS = Base.metadata.tables["pending_login"]
_PURGE = delete(_LOGINS).where(_LOGINS.c.expires_at < bindparam("before"))
_NEW_LOGIN = insert(_LOGINS)
_LOGIN = select(_LOGINS).where(_LOGINS.c.state == bindparam("state"))
_CLAIM = (
    update(_LOGINS)
    .where(
        _LOGINS.c.state == bindparam("b_state"),
        _LOGINS.c.nonce == bindparam("b_nonce"),
        _LOGINS.c.used_at.is_(None),
        _LOGINS.c.expires_at > bindparam("b_now"),
    )
    .values(used_at=bindparam("b_now"))
)
_REPLAYED = select(_LOGINS.c.state).where(
    _LOGINS.c.nonce == bindparam("nonce"), _LOGINS.c.used_at.is_not(None)
)


PURGE_EVERY_SECONDS = 60.0  # each process purges long-expired logins at most this often
_purged_at: WeakKeyDictionary[object, float] = WeakKeyDictionary()  # by engine


def _purge_due(connection: Connection) -> bool:
    """True at most once per PURGE_EVERY_SECONDS per engine (a race makes two purges: harmless)."""
    engine, clock = connection.engine, time.monotonic()
    last = _purged_at.get(engine)
    if last is not None and clock - last < PURGE_EVERY_SECONDS:
        return False
    _purged_at[engine] = clock
    return True


def start_login(
    connection: Connection, login: PendingLoginRecord, *, now: datetime, ttl: timedelta
) -> None:
    """Keep a new login's state and nonce; now and then purge logins long expired.

    The purge is housekeeping only: an expired or used login is refused by its own row.
    """
    if _purge_due(connection):
        connection.execute(_PURGE, {"before": now - KEEP_USED})
    connection.execute(
        _NEW_LOGIN,
        {
            "state": login.state,
            "nonce": login.nonce,
            "platform_id": login.platform_id,
            "browser_hash": login.browser_hash,
            "storage_target": login.storage_target,
            "expires_at": now + ttl,
        },
    )


def _login_row(connection: Connection, state: str) -> Row[*tuple[Any, ...]] | None:
    return connection.execute(_LOGIN, {"state": state}).first()


def _stale(row: Row[*tuple[Any, ...]] | None, now: datetime) -> LaunchError | None:
    again = "Please open the activity again from your course."
    if row is None:
        return LaunchError(
            "state-unknown", "The tool has no record of this sign-in (state). " + again
        )
    if row.used_at is not None:
        return LaunchError("state-replayed", "This sign-in was already used. " + again)
    if row.expires_at <= now:
        return LaunchError("state-expired", "The sign-in took too long and expired. " + again)
    return None


def pending_login(connection: Connection, state: str, *, now: datetime) -> PendingLoginRecord:
    """A login in flight, not yet used and not expired; LaunchError otherwise."""
    row = _login_row(connection, state)
    problem = _stale(row, now)
    if problem is not None:
        raise problem
    assert row is not None
    return PendingLoginRecord(
        row.state, row.nonce, row.platform_id, row.browser_hash, row.storage_target
    )


def consume_login(connection: Connection, state: str, nonce: str, *, now: datetime) -> None:
    """Use a login once: the verified token's nonce must be this login's; a second use fails.

    The conditional UPDATE comes first, so the database's own locking decides which of two
    concurrent submissions wins; the reads after it only name the reason for a refusal.
    """
    claimed = connection.execute(_CLAIM, {"b_state": state, "b_nonce": nonce, "b_now": now})
    if claimed.rowcount == 1:
        return
    problem = _stale(_login_row(connection, state), now)
    if problem is not None:
        raise problem
    replayed = connection.scalar(_REPLAYED, {"nonce": nonce})
    if replayed is not None:
        raise LaunchError(
            "nonce-replayed",
            "This launch was already used. Please open the activity again from your course.",
        )
    raise LaunchError(
        "nonce-mismatch",
        "The launch does not belong to this sign-in. Please open the activity again from your course.",
    )


def admit_deployment(
    connection: Connection, platform: PlatformRecord, deployment_id: str, policy: str
) -> None:
    """Apply the deployment policy: a known id passes; a new one is refused or recorded."""
    if deployment_id in platform.deployment_ids:
        return
    if policy != "first-launch":
        raise LaunchError(
            "deployment-not-allowed",
            f"This LMS's deployment {deployment_id!r} of the tool is not on the tool's allow-list. "
            + _ASK_ADMIN,
        )
    _insert_missing(
        connection,
        Base.metadata.tables["deployment"],
        platform_id=platform.id,
        deployment_id=deployment_id,
        added_by="first-launch",
    )


def _upsert_id(
    connection: Connection, table: Table, keys: dict[str, object], **fields: object
) -> int:
    """Insert or update the row with these unique `keys`; its id."""
    values = {**keys, **fields}
    found = upsert(connection, table, values, keys=list(keys), update=list(fields), returning="id")
    return int(found.scalar_one())


_LEARNERS = Base.metadata.tables["learner"]
_LINKS = Base.metadata.tables["resource_link"]


def record_launch(
    connection: Connection, platform_id: int, claims: LaunchClaims, module_id: str | None
) -> tuple[int, int | None]:
    """Upsert the learner and (for a resource-link launch) the link; return their ids."""
    now = utcnow()
    learner_id = _upsert_id(
        connection,
        _LEARNERS,
        {"platform_id": platform_id, "subject": claims.subject},
        name=claims.name[:255],
        email=claims.email[:255],
        last_launch_at=now,
    )
    link_id: int | None = None
    if claims.link_id is not None:
        link_id = _upsert_id(
            connection,
            _LINKS,
            {"platform_id": platform_id, "link_id": claims.link_id},
            deployment_id=claims.deployment_id,
            title=claims.link_title,
            context_id=claims.context_id,
            context_title=claims.context_title,
            module_id=module_id,
            ags_lineitem=claims.ags_lineitem,
            ags_lineitems=claims.ags_lineitems,
            ags_scopes=" ".join(claims.ags_scopes),
            nrps_url=claims.nrps_url,
            updated_at=now,
        )
    if claims.context_id:
        note_membership(
            connection,
            learner_id=learner_id,
            platform_id=platform_id,
            context_id=claims.context_id,
            teaching=claims.instructor,
        )
    return learner_id, link_id
