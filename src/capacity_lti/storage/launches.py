"""What a launch writes: pending OIDC logins, the tool's own secrets, learners and links."""

from __future__ import annotations

import secrets

from sqlalchemy.exc import IntegrityError

from capacity_lti.storage.engine import Database
from capacity_lti.storage.tables import ToolSecret

SESSION_SECRET = "session-hmac"  # noqa: S105 (the name of a generated secret)


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
