"""`worker` and `outbox`: send scores to LMS gradebooks, and see what is pending or failing."""

from __future__ import annotations

import argparse
import signal
import threading
from datetime import UTC, datetime
from typing import Any, TextIO

from capacity_lti.cli.errors import EXIT_OK
from capacity_lti.settings import Settings
from capacity_lti.storage import open_database
from capacity_lti.storage.delivery import DeliveryPolicy, Worker
from capacity_lti.storage.keys import KeyStore, ensure_key
from capacity_lti.storage.outbox import list_outbox, outbox_counts


def register(commands: Any) -> None:
    worker = commands.add_parser(
        "worker", help="send queued scores to the LMS gradebooks until interrupted"
    )
    worker.add_argument(
        "--once", action="store_true", help="send what is due now, then stop (for cron)"
    )
    worker.set_defaults(handler=cmd_worker)
    outbox = commands.add_parser("outbox", help="list scores not yet accepted by an LMS")
    outbox.add_argument(
        "--failed", action="store_true", help="only scores whose last attempt failed"
    )
    outbox.set_defaults(handler=cmd_outbox)


def cmd_worker(args: argparse.Namespace, out: TextIO) -> int:
    settings = Settings()
    db = open_database(settings)
    ensure_key(db)
    worker = Worker(
        db,
        policy=DeliveryPolicy.from_settings(settings),
        keys=KeyStore.from_settings(db, settings),
    )
    try:
        if args.once:
            handled = 0
            while count := worker.run_once():
                handled += count
            print(f"score worker: handled {handled} score(s)", file=out)
            return EXIT_OK
        stop = threading.Event()
        for signum in (signal.SIGINT, signal.SIGTERM):
            signal.signal(signum, lambda *_: stop.set())
        safe = db.engine.url.render_as_string(hide_password=True)
        print(f"score worker running on {safe}; Ctrl-C stops it", file=out, flush=True)
        worker.run_forever(stop)
        print("score worker stopped", file=out)
    finally:
        worker.close()
    return EXIT_OK


def _when(moment: datetime) -> str:
    return f"{moment:%Y-%m-%d %H:%M:%S} UTC"


def cmd_outbox(args: argparse.Namespace, out: TextIO) -> int:
    db = open_database(Settings())
    counts = outbox_counts(db)
    summary = ", ".join(
        f"{counts.get(state, 0)} {state}"
        for state in ("pending", "failed", "delivered", "superseded")
    )
    print(f"scores: {summary}", file=out)
    entries = list_outbox(db, failed_only=args.failed)
    now = datetime.now(UTC)
    if not entries:
        print("nothing failing" if args.failed else "nothing waiting to be sent", file=out)
    for e in entries:
        if e.state == "failed":
            when = "never (refused by the LMS)"
        elif e.leased_until is not None and e.leased_until > now:
            when = f"being sent now (lease until {_when(e.leased_until)})"
        else:
            when = _when(e.next_attempt_at)
        print(
            f"#{e.id} {e.state}: {e.learner} on {e.link} [{e.platform}] "
            f"score {e.score_given:g}/{e.score_maximum:g} of {_when(e.scored_at)}; "
            f"attempts {e.attempts}; next attempt {when}",
            file=out,
        )
        if e.last_error:
            print(f"    last error: {e.last_error}", file=out)
    return EXIT_OK
