"""Persisted tool keys: made on first start, rotated on demand, read into a KeyRing."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from capacity_lti.lti.keys import KeyMaterial, KeyRing, generate_key
from capacity_lti.storage.engine import Database
from capacity_lti.storage.tables import ToolKey


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


def key_ring(db: Database, retention: timedelta) -> KeyRing:
    """Load the keys once into a KeyRing (the signing key's PEM is parsed here, not per signature)."""
    return KeyRing(list_keys(db), datetime.now(UTC), retention)
