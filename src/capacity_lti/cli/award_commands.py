"""`award list|show|revoke`: the diplomas and certificates the tool has issued."""

from __future__ import annotations

import argparse
from typing import Any, TextIO

from capacity_lti.awards.credentials import verify_url
from capacity_lti.cli.errors import EXIT_OK
from capacity_lti.settings import Settings
from capacity_lti.storage import open_database
from capacity_lti.storage.awards import AwardRecord, get_award, list_awards, revoke_award

_STAMP = "%Y-%m-%d %H:%M UTC"


def register(commands: Any) -> None:
    award = commands.add_parser("award", help="issued diplomas and certificates")
    actions = award.add_subparsers(dest="action", metavar="ACTION", required=True)
    listing = actions.add_parser("list", help="list awards, newest first")
    state = listing.add_mutually_exclusive_group()
    state.add_argument("--revoked", action="store_true", help="only revoked awards")
    state.add_argument("--valid", action="store_true", help="only awards not revoked")
    listing.set_defaults(handler=cmd_list)
    show = actions.add_parser("show", help="one award in full")
    show.add_argument("id", help="the award's public id (the end of its /verify/ address)")
    show.set_defaults(handler=cmd_show)
    revoke = actions.add_parser("revoke", help="revoke an award: its verification shows revoked")
    revoke.add_argument("id")
    revoke.add_argument("--reason", required=True, help="kept for the record, never shown publicly")
    revoke.set_defaults(handler=cmd_revoke)


def _subject(award: AwardRecord) -> str:
    return award.rule_id or award.module_id or award.key


def _state(award: AwardRecord) -> str:
    return f"revoked {award.revoked_at:{_STAMP}}" if award.revoked_at else "valid"


def cmd_list(args: argparse.Namespace, out: TextIO) -> int:
    db = open_database(Settings())
    revoked = True if args.revoked else False if args.valid else None
    awards = list_awards(db, revoked=revoked)
    if not awards:
        print("no awards", file=out)
    for award in awards:
        print(
            f"{award.public_id}  {award.issued_at:{_STAMP}}  {award.kind.value:<18}  "
            f"{_subject(award)}  {award.learner_name or '(no name)'}  {_state(award)}",
            file=out,
        )
    return EXIT_OK


def _describe(award: AwardRecord, public_url: str | None) -> list[str]:
    learner = f"learner #{award.learner_id}" if award.learner_id else "learner removed"
    where = (
        verify_url(public_url, award.public_id)
        if public_url
        else f"/verify/{award.public_id} (on the tool's public address; set public_url)"
    )
    lines = [
        f"id:           {award.public_id}",
        f"verify at:    {where}",
        f"kind:         {award.kind.value}",
        f"for:          {_subject(award)} (programme {award.programme_id})",
        f"learner:      {award.learner_name or '(no name)'} ({learner})",
        f"points:       {award.points}",
        f"language:     {award.language}",
        f"issued:       {award.issued_at:{_STAMP}}",
        f"credential:   {'signed' if award.signed else 'not signed yet (signed at first download)'}",
        f"status:       {_state(award)}",
    ]
    if award.revoked_at:
        lines.append(f"reason:       {award.revocation_reason}")
    return lines


def cmd_show(args: argparse.Namespace, out: TextIO) -> int:
    settings = Settings()
    award = get_award(open_database(settings), args.id)
    print("\n".join(_describe(award, settings.public_url)), file=out)
    return EXIT_OK


def cmd_revoke(args: argparse.Namespace, out: TextIO) -> int:
    db = open_database(Settings())
    award = revoke_award(db, args.id, args.reason)
    print(f"award {award.public_id} is {_state(award)}: {award.revocation_reason}", file=out)
    return EXIT_OK
