"""`attendance record`: an administrator records that a learner attended an event."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any, TextIO

from capacity_lti.cli.errors import EXIT_OK, UsageProblem
from capacity_lti.content.loader import load_programme
from capacity_lti.settings import Settings
from capacity_lti.storage import open_database
from capacity_lti.storage.attendance import record_for_learner
from capacity_lti.storage.platforms import find_platform


def register(commands: Any) -> None:
    attendance = commands.add_parser("attendance", help="event attendance (counts like a module)")
    actions = attendance.add_subparsers(dest="action", metavar="ACTION", required=True)
    record = actions.add_parser(
        "record",
        help="record that a learner attended an event: its points once, score queued, awards issued",
    )
    record.add_argument("--platform", required=True, metavar="ISS", help="the platform's issuer")
    record.add_argument("--client-id", default=None, help="needed when the issuer has several")
    record.add_argument("--learner", required=True, metavar="SUB", help="the learner's LTI sub")
    record.add_argument("--event", required=True, metavar="ID", help="the event's id")
    record.add_argument(
        "--programme", type=Path, default=None, metavar="DIR", help="the programme the tool serves"
    )
    record.set_defaults(handler=cmd_record)


def cmd_record(args: argparse.Namespace, out: TextIO) -> int:
    from capacity_lti.web import programme_folder  # the same programme `serve` would serve

    settings = Settings(**({"programme_dir": args.programme} if args.programme else {}))
    programme = load_programme(programme_folder(settings))
    if args.event not in programme.events:
        known = ", ".join(programme.events) or "none"
        raise UsageProblem(
            f"programme {programme.id!r} has no event {args.event!r} (its events: {known})"
        )
    db = open_database(settings)
    platform = find_platform(db, args.platform, args.client_id)
    done = record_for_learner(
        db,
        platform_id=platform.id,
        subject=args.learner,
        programme=programme,
        event_id=args.event,
    )
    if done is None:
        raise UsageProblem(
            f"platform {platform.issuer!r} has no learner with sub {args.learner!r}: they appear "
            "once they have opened the tool, or once an instructor has opened the course roster"
        )
    event = programme.events[args.event]
    if not done.recorded:
        print(f"{args.learner} already attended {args.event}: nothing changed", file=out)
        return EXIT_OK
    grade = (
        f"score queued for resource link #{done.link_pk}"
        if done.link_pk is not None
        else "no graded course link known for this learner, so no score was queued"
    )
    print(
        f"recorded: {args.learner} attended {args.event} ({event.points} points); {grade}",
        file=out,
    )
    return EXIT_OK
