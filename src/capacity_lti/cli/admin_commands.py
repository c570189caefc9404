"""`platform` and `keys`: what an administrator of the hosted tool runs."""

from __future__ import annotations

import argparse
import json
from typing import Any, TextIO

from capacity_lti.cli.errors import EXIT_OK
from capacity_lti.settings import Settings
from capacity_lti.storage import Database, open_database
from capacity_lti.storage.keys import KeyStore, list_keys, rotate
from capacity_lti.storage.platforms import (
    PlatformRecord,
    add_platform,
    find_platform,
    list_platforms,
    remove_platform,
)


def register(commands: Any) -> None:
    platform = commands.add_parser("platform", help="register LMS platforms (manual configuration)")
    actions = platform.add_subparsers(dest="action", metavar="ACTION", required=True)
    add = actions.add_parser("add", help="register a platform: an issuer and a client id")
    add.add_argument(
        "--issuer", required=True, help="the platform's issuer, e.g. https://moodle.example.org"
    )
    add.add_argument("--client-id", required=True)
    add.add_argument("--login-url", required=True, help="OIDC authentication request URL")
    add.add_argument("--token-url", required=True, help="OAuth 2 access-token URL")
    add.add_argument("--keyset-url", required=True, help="the platform's public keyset (JWKS) URL")
    add.add_argument(
        "--deployment",
        action="append",
        default=[],
        metavar="ID",
        help="a deployment id (repeatable)",
    )
    add.add_argument("--name", default="", help="a label for lists (default: the issuer)")
    add.add_argument("--audience", default=None, help="token audience, if the platform needs one")
    add.set_defaults(handler=cmd_platform_add)
    for verb, handler, text in (
        ("show", cmd_platform_show, "print one platform's configuration"),
        ("remove", cmd_platform_remove, "remove a platform and its deployments"),
    ):
        sub = actions.add_parser(verb, help=text)
        sub.add_argument("issuer")
        sub.add_argument("--client-id", default=None, help="needed when the issuer has several")
        sub.set_defaults(handler=handler)
    actions.add_parser("list", help="list registered platforms").set_defaults(
        handler=cmd_platform_list
    )

    keys = commands.add_parser("keys", help="the tool's signing keys")
    key_actions = keys.add_subparsers(dest="action", metavar="ACTION", required=True)
    key_actions.add_parser("list", help="list keys and which are published").set_defaults(
        handler=cmd_keys_list
    )
    key_actions.add_parser(
        "rotate",
        help="make a new signing key; the old one stays in the JWKS until its tokens expire",
    ).set_defaults(handler=cmd_keys_rotate)


def _database() -> tuple[Settings, Database]:
    settings = Settings()
    return settings, open_database(settings)


def _describe(p: PlatformRecord) -> list[str]:
    return [
        f"issuer:       {p.issuer}",
        f"client id:    {p.client_id}",
        f"name:         {p.name}",
        f"login URL:    {p.auth_login_url}",
        f"token URL:    {p.auth_token_url}",
        f"keyset URL:   {p.key_set_url}",
        f"audience:     {p.auth_audience or '-'}",
        f"status:       {p.status}",
        f"deployments:  {', '.join(p.deployment_ids) or '- (see deployment_policy)'}",
    ]


def cmd_platform_add(args: argparse.Namespace, out: TextIO) -> int:
    _, db = _database()
    record = add_platform(
        db,
        issuer=args.issuer,
        client_id=args.client_id,
        auth_login_url=args.login_url,
        auth_token_url=args.token_url,
        key_set_url=args.keyset_url,
        deployment_ids=tuple(args.deployment),
        name=args.name,
        auth_audience=args.audience,
    )
    print(f"registered platform {record.issuer} (client id {record.client_id})", file=out)
    return EXIT_OK


def cmd_platform_list(args: argparse.Namespace, out: TextIO) -> int:
    _, db = _database()
    platforms = list_platforms(db)
    if not platforms:
        print("no platforms registered: add one with 'capacity-lti platform add'", file=out)
    for p in platforms:
        print(
            f"{p.issuer}  client {p.client_id}  {p.status}  deployments: {len(p.deployment_ids)}  {p.name}",
            file=out,
        )
    return EXIT_OK


def cmd_platform_show(args: argparse.Namespace, out: TextIO) -> int:
    _, db = _database()
    print("\n".join(_describe(find_platform(db, args.issuer, args.client_id))), file=out)
    return EXIT_OK


def cmd_platform_remove(args: argparse.Namespace, out: TextIO) -> int:
    _, db = _database()
    record = remove_platform(db, args.issuer, args.client_id)
    print(f"removed platform {record.issuer} (client id {record.client_id})", file=out)
    return EXIT_OK


def cmd_keys_list(args: argparse.Namespace, out: TextIO) -> int:
    settings, db = _database()
    keys = list_keys(db)
    if not keys:
        print(
            "no keys yet: the first is made on first start, or by 'capacity-lti keys rotate'",
            file=out,
        )
        return EXIT_OK
    ring = KeyStore.from_settings(db, settings).ring()
    published = {k["kid"] for k in ring.jwks()["keys"]}
    for key in keys:
        state = (
            "signing" if key.retired_at is None else f"retired {key.retired_at:%Y-%m-%d %H:%M} UTC"
        )
        shown = "published" if key.kid in published else "no longer published"
        print(f"{key.kid}  created {key.created_at:%Y-%m-%d %H:%M} UTC  {state}, {shown}", file=out)
    return EXIT_OK


def cmd_keys_rotate(args: argparse.Namespace, out: TextIO) -> int:
    settings, db = _database()
    key = rotate(db)
    jwks = KeyStore.from_settings(db, settings).ring().jwks()
    print(
        f"new signing key {key.kid}; the JWKS now publishes {len(jwks['keys'])} key(s):", file=out
    )
    print(json.dumps([k["kid"] for k in jwks["keys"]]), file=out)
    return EXIT_OK
