"""Platforms, deployments and tool keys on a real SQLite and a real PostgreSQL."""

from __future__ import annotations

import io
import threading
from datetime import UTC, datetime, timedelta
from typing import Any

import jwt
import pytest
from alembic.script import ScriptDirectory
from sqlalchemy import event, inspect, text

from capacity_lti.cli import main
from capacity_lti.errors import ConfigError, StorageError
from capacity_lti.lti.keys import KeyRing
from capacity_lti.settings import Settings
from capacity_lti.storage import Database, open_database
from capacity_lti.storage.keys import KeyStore, ensure_key, list_keys, rotate
from capacity_lti.storage.migrate import alembic_config
from capacity_lti.storage.platforms import (
    add_platform,
    find_platform,
    list_platforms,
    remove_platform,
)

MOODLE = {
    "issuer": "https://moodle.example.org",
    "auth_login_url": "https://moodle.example.org/mod/lti/auth.php",
    "auth_token_url": "https://moodle.example.org/mod/lti/token.php",
    "key_set_url": "https://moodle.example.org/mod/lti/certs.php",
}


@pytest.fixture
def db(database_url: str) -> Database:
    return open_database(Settings(database_url=database_url))


def test_migrations_create_the_schema_and_are_idempotent(database_url: str) -> None:
    first = open_database(Settings(database_url=database_url))
    open_database(Settings(database_url=database_url))  # second start: nothing to do
    tables = set(inspect(first.engine).get_table_names())
    assert {"platform", "deployment", "tool_key", "alembic_version"} <= tables
    heads = set(ScriptDirectory.from_config(alembic_config()).get_heads())
    assert len(heads) == 1, f"migrations must form one line, found heads {heads}"
    with first.engine.connect() as connection:
        applied = set(connection.execute(text("select version_num from alembic_version")).scalars())
    assert applied == heads


def test_one_issuer_many_client_ids_each_once(db: Database) -> None:
    add_platform(db, client_id="tenant-a", deployment_ids=("1", "1", "7"), **MOODLE)
    add_platform(db, client_id="tenant-b", **MOODLE)
    with pytest.raises(ConfigError) as duplicate:
        add_platform(db, client_id="tenant-a", **MOODLE)
    assert str(duplicate.value) == (
        "a platform with issuer 'https://moodle.example.org' and client id 'tenant-a' is already "
        "registered: remove it first or use another client id"
    )
    assert [(p.client_id, p.deployment_ids) for p in list_platforms(db)] == [
        ("tenant-a", ("1", "7")),
        ("tenant-b", ()),
    ]
    with pytest.raises(ConfigError, match=r"has several client ids \(tenant-a, tenant-b\)"):
        find_platform(db, MOODLE["issuer"])
    assert find_platform(db, MOODLE["issuer"], "tenant-b").client_id == "tenant-b"
    remove_platform(db, MOODLE["issuer"], "tenant-a")
    assert find_platform(db, MOODLE["issuer"]).client_id == "tenant-b"


def test_platform_urls_must_be_absolute(db: Database) -> None:
    with pytest.raises(ConfigError) as bad:
        add_platform(db, client_id="x", **{**MOODLE, "key_set_url": "/mod/lti/certs.php"})
    assert str(bad.value) == "keyset URL '/mod/lti/certs.php' must be an absolute https:// URL"


def test_key_rotation_keeps_the_old_key_published_until_retention_ends(db: Database) -> None:
    ensure_key(db)
    ensure_key(db)  # first start only once
    [first] = list_keys(db)
    token = jwt.encode(
        {"sub": "x"},
        KeyStore(db, timedelta(hours=1)).ring().signing.private_key,
        "RS256",
        headers={"kid": first.kid},
    )
    second = rotate(db)
    ring = KeyStore(db, timedelta(hours=1)).ring()
    assert ring.signing.kid == second.kid
    published = {k["kid"]: k for k in ring.jwks()["keys"]}
    assert set(published) == {first.kid, second.kid}
    old_public = jwt.PyJWK(published[first.kid]).key
    assert jwt.decode(token, old_public, algorithms=["RS256"]) == {"sub": "x"}
    later = KeyStore(db, timedelta(hours=1)).ring()
    later_published = [k["kid"] for k in later.jwks()["keys"]]
    assert later_published == [first.kid, second.kid]
    expired = [k for k in list_keys(db) if k.retired_at is not None]
    assert all(k.retired_at and k.retired_at < datetime.now(UTC) for k in expired)
    assert [k["kid"] for k in KeyStore(db, timedelta(seconds=0)).ring().jwks()["keys"]] == [
        second.kid
    ]


def test_jwk_has_no_private_parts_and_kid_is_the_thumbprint(db: Database) -> None:
    ensure_key(db)
    [jwk] = KeyStore(db, timedelta(hours=1)).ring().jwks()["keys"]
    assert set(jwk) == {"kty", "n", "e", "kid", "alg", "use"}
    assert jwt.PyJWK(jwk).key.key_size == 2048


class Ticks:
    """A monotonic clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def statements(db: Database) -> list[str]:
    """Every SQL statement `db` sends from now on, in order."""
    sent: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        sent.append(" ".join(statement.split()))

    event.listen(db.engine, "before_cursor_execute", record)
    return sent


RECHECK = "SELECT tool_key.kid, tool_key.retired_at FROM tool_key"


def test_the_key_store_looks_for_a_rotation_once_per_recheck_interval(db: Database) -> None:
    """Within `recheck_seconds` no query at all; then one small query, and a reload (one PEM
    parsed) only when the keys changed; many threads at once still reload once."""
    ensure_key(db)
    ticks = Ticks()
    store = KeyStore(db, timedelta(hours=1), recheck_seconds=5.0, clock=ticks)
    first = store.ring()
    sent = statements(db)
    assert all(store.ring() is first for _ in range(200))
    assert sent == []
    ticks.now += 5.0
    assert store.ring() is first
    assert sent == [RECHECK]
    new = rotate(db)
    sent.clear()
    ticks.now += 4.9  # a rotation inside the interval is seen at its end, not before
    assert store.signing() is first.signing
    assert sent == []
    ticks.now += 0.1
    rings: list[KeyRing] = []
    threads = [threading.Thread(target=lambda: rings.append(store.ring())) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert len(rings) == 8
    assert len({id(ring) for ring in rings}) == 1
    ring = rings[0]
    assert ring.signing.kid == new.kid
    assert [k["kid"] for k in ring.jwks()["keys"]] == [first.signing.kid, new.kid]
    assert sent[0] == RECHECK
    assert len(sent) == 2  # the recheck, then the one reload
    assert sent[1].startswith("SELECT tool_key.kid, tool_key.private_pem")
    ticks.now += 5.0
    assert store.ring() is ring  # nothing changed: the parsed key stays
    assert sent[2:] == [RECHECK]


def test_a_retired_key_leaves_the_key_store_when_its_retention_ends(db: Database) -> None:
    ensure_key(db)
    wall = [datetime.now(UTC)]
    store = KeyStore(db, timedelta(hours=1), recheck_seconds=0, now=lambda: wall[0])
    old = store.ring().signing.kid
    new = rotate(db)
    ring = store.ring()
    assert [k["kid"] for k in ring.jwks()["keys"]] == [old, new.kid]
    [retired] = [k for k in list_keys(db) if k.retired_at is not None]
    assert retired.retired_at is not None
    assert ring.expires_at == retired.retired_at + timedelta(hours=1)
    wall[0] = retired.retired_at + timedelta(minutes=59, seconds=59)
    assert store.ring() is ring
    wall[0] = retired.retired_at + timedelta(hours=1)
    later = store.ring()
    assert [k["kid"] for k in later.jwks()["keys"]] == [new.kid]
    assert later.expires_at is None
    assert later.signing is ring.signing  # the same parsed key: its PEM is not read again


def test_a_key_store_without_an_active_key_says_what_to_run(db: Database) -> None:
    with pytest.raises(ConfigError) as caught:
        KeyStore(db, timedelta(hours=1)).ring()
    assert str(caught.value) == "the tool has no active key: run 'capacity-lti keys rotate'"


def test_cli_platform_and_keys(database_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CAPACITY_LTI_DATABASE_URL", database_url)
    out, err = io.StringIO(), io.StringIO()
    args = ["platform", "add", "--issuer", MOODLE["issuer"], "--client-id", "abc",
            "--login-url", MOODLE["auth_login_url"], "--token-url", MOODLE["auth_token_url"],
            "--keyset-url", MOODLE["key_set_url"], "--deployment", "3"]  # fmt: skip
    assert main(args, out=out, err=err) == 0
    assert main(args, out=out, err=err) == 3
    assert "is already registered" in err.getvalue()
    out = io.StringIO()
    assert main(["platform", "show", MOODLE["issuer"]], out=out, err=err) == 0
    assert "deployments:  3" in out.getvalue().splitlines()
    out = io.StringIO()
    assert main(["keys", "rotate"], out=out, err=err) == 0
    assert out.getvalue().startswith("new signing key ")
    assert main(["platform", "remove", MOODLE["issuer"]], out=out, err=err) == 0
    err = io.StringIO()
    assert main(["platform", "show", MOODLE["issuer"]], out=out, err=err) == 3
    assert err.getvalue() == (
        "error: no platform is registered with issuer 'https://moodle.example.org': "
        "see 'capacity-lti platform list'\n"
    )


def test_unreachable_database_is_a_clear_storage_error() -> None:
    with pytest.raises(StorageError) as caught:
        open_database(Settings(database_url="postgresql+psycopg://nobody:secret@127.0.0.1:1/x"))
    message = str(caught.value)
    assert message.startswith(
        "cannot use the database postgresql+psycopg://nobody:***@127.0.0.1:1/x: "
    )
    assert "Connection refused" in message
    assert "secret" not in message
