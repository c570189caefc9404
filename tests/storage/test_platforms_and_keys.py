"""Platforms, deployments and tool keys on a real SQLite and a real PostgreSQL."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta

import jwt
import pytest
from alembic.script import ScriptDirectory
from sqlalchemy import inspect, text

from capacity_lti.cli import main
from capacity_lti.errors import ConfigError, StorageError
from capacity_lti.settings import Settings
from capacity_lti.storage import Database, open_database
from capacity_lti.storage.keys import ensure_key, key_ring, list_keys, rotate
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
        key_ring(db, timedelta(hours=1)).signing.private_key,
        "RS256",
        headers={"kid": first.kid},
    )
    second = rotate(db)
    ring = key_ring(db, timedelta(hours=1))
    assert ring.signing.kid == second.kid
    published = {k["kid"]: k for k in ring.jwks()["keys"]}
    assert set(published) == {first.kid, second.kid}
    old_public = jwt.PyJWK(published[first.kid]).key
    assert jwt.decode(token, old_public, algorithms=["RS256"]) == {"sub": "x"}
    later = key_ring(db, timedelta(hours=1))
    later_published = [k["kid"] for k in later.jwks()["keys"]]
    assert later_published == [first.kid, second.kid]
    expired = [k for k in list_keys(db) if k.retired_at is not None]
    assert all(k.retired_at and k.retired_at < datetime.now(UTC) for k in expired)
    assert [k["kid"] for k in key_ring(db, timedelta(seconds=0)).jwks()["keys"]] == [second.kid]


def test_jwk_has_no_private_parts_and_kid_is_the_thumbprint(db: Database) -> None:
    ensure_key(db)
    [jwk] = key_ring(db, timedelta(hours=1)).jwks()["keys"]
    assert set(jwk) == {"kty", "n", "e", "kid", "alg", "use"}
    assert jwt.PyJWK(jwk).key.key_size == 2048


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
