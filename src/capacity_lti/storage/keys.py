"""Persisted tool keys: made on first start, rotated on demand, served by a KeyStore."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from capacity_lti.lti.keys import KeyMaterial, KeyRing, SigningKey, generate_key
from capacity_lti.settings import Settings
from capacity_lti.storage.engine import Database
from capacity_lti.storage.tables import ToolKey

_Stamp = tuple[tuple[str, datetime | None], ...]


def _material(row: ToolKey) -> KeyMaterial:
    return KeyMaterial(
        kid=row.kid,
        private_pem=row.private_pem,
        public_jwk=json.loads(row.public_jwk),
        created_at=row.created_at,
        retired_at=row.retired_at,
    )


def _row(key: KeyMaterial) -> ToolKey:
    return ToolKey(
        kid=key.kid,
        private_pem=key.private_pem,
        public_jwk=json.dumps(key.public_jwk),
        created_at=key.created_at,
    )


def list_keys(db: Database) -> list[KeyMaterial]:
    with db.session() as session:
        rows = session.scalars(select(ToolKey).order_by(ToolKey.created_at)).all()
        return [_material(row) for row in rows]


def ensure_key(db: Database) -> None:
    """Make the first key if the tool has none (first start)."""
    if not any(k.retired_at is None for k in list_keys(db)):
        with db.session() as session:
            session.add(_row(generate_key(datetime.now(UTC))))


def rotate(db: Database) -> KeyMaterial:
    """Make a new signing key; the previous one is retired but stays published for a while."""
    now = datetime.now(UTC)
    key = generate_key(now)
    with db.session() as session:
        for row in session.scalars(select(ToolKey).where(ToolKey.retired_at.is_(None))):
            row.retired_at = now
        session.add(_row(key))
    return key


def _stamp(keys: list[tuple[str, datetime | None]]) -> _Stamp:
    return tuple(sorted(keys, key=lambda k: k[0]))


def _utcnow() -> datetime:
    return datetime.now(UTC)


class KeyStore:
    """The tool's keys for every user in one process: a KeyRing kept until the stored keys change.

    `ring()` answers from memory; at most every `recheck_seconds` (monotonic) it first runs
    one small query (each key's kid and retired_at) and reloads only when that changed or a
    retired key's retention has ended. So `capacity-lti keys rotate`, run in another process,
    reaches this one within `recheck_seconds`, and a new signing key's PEM is parsed once.
    Thread-safe: one thread rechecks while the others keep using the current ring.
    """

    def __init__(
        self,
        db: Database,
        retention: timedelta,
        *,
        recheck_seconds: float = 5.0,
        clock: Callable[[], float] = time.monotonic,
        now: Callable[[], datetime] = _utcnow,
    ) -> None:
        self._db = db
        self._retention = retention
        self._recheck = recheck_seconds
        self._clock = clock
        self._now = now
        self._lock = threading.Lock()
        self._current: tuple[KeyRing, _Stamp, float] | None = None  # ring, stamp, next check

    @classmethod
    def from_settings(cls, db: Database, settings: Settings) -> KeyStore:
        return cls(
            db,
            timedelta(seconds=settings.key_retention_seconds),
            recheck_seconds=settings.key_recheck_seconds,
        )

    def ring(self) -> KeyRing:
        """The current key ring (ConfigError when the tool has no active key)."""
        current = self._current
        if current is not None and self._clock() < current[2]:
            return current[0]
        with self._lock:
            current = self._current
            if current is not None and self._clock() < current[2]:
                return current[0]
            ring, stamp = self._refresh(current)
            self._current = (ring, stamp, self._clock() + self._recheck)
            return ring

    def signing(self) -> SigningKey:
        """The key to sign with now (a callable for ServiceTokens)."""
        return self.ring().signing

    def _refresh(self, current: tuple[KeyRing, _Stamp, float] | None) -> tuple[KeyRing, _Stamp]:
        now = self._now()
        if current is not None:
            ring, stamp, _ = current
            with self._db.session() as session:
                rows = session.execute(select(ToolKey.kid, ToolKey.retired_at)).all()
            if _stamp([(kid, retired) for kid, retired in rows]) == stamp and (
                ring.expires_at is None or now < ring.expires_at
            ):
                return ring, stamp
        keys = list_keys(self._db)
        reuse = current[0].signing if current is not None else None
        ring = KeyRing(keys, now, self._retention, reuse=reuse)
        return ring, _stamp([(k.kid, k.retired_at) for k in keys])
