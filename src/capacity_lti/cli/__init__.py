"""The `capacity-lti` command line: `main(argv) -> exit code`; see errors.py for the codes."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from typing import TextIO

from capacity_lti import __version__
from capacity_lti.cli import (
    admin_commands,
    attendance_commands,
    award_commands,
    content_commands,
    outbox_commands,
    package_commands,
    serve_commands,
)
from capacity_lti.cli.errors import EXIT_USAGE, UsageProblem, report
from capacity_lti.errors import CapacityError


class _Parser(argparse.ArgumentParser):
    """argparse that raises instead of exiting, so main() keeps control of exit codes."""

    def error(self, message: str) -> None:  # type: ignore[override]
        raise _UsageError(f"{self.prog}: {message}\n(see '{self.prog} --help')")

    def exit(self, status: int = 0, message: str | None = None) -> None:  # type: ignore[override]
        if message:
            self._print_message(message, sys.stderr)
        raise _Exit(status)


class _UsageError(Exception):
    pass


class _Exit(Exception):
    def __init__(self, status: int) -> None:
        self.status = status


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="capacity-lti",
        description="Capacity-building programmes for local authorities, delivered into Moodle "
        "and Canvas. Exit codes: 0 ok, 1 content errors, 2 usage, 3 other failures.",
    )
    parser.add_argument("--version", action="version", version=f"capacity-lti {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    content_commands.register(commands)
    admin_commands.register(commands)
    outbox_commands.register(commands)
    package_commands.register(commands)
    award_commands.register(commands)
    attendance_commands.register(commands)
    serve_commands.register(commands)
    return parser


def main(
    argv: Sequence[str] | None = None, out: TextIO | None = None, err: TextIO | None = None
) -> int:
    """Run one command; return its exit code. Only this package prints."""
    out = out or sys.stdout
    err = err or sys.stderr
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except _UsageError as exc:
        print(exc, file=err)
        return EXIT_USAGE
    except _Exit as exc:
        return exc.status
    if args.command is None:
        parser.print_help(out)
        return EXIT_USAGE
    try:
        args.err = err  # where a command may report progress (package --all)
        code: int = args.handler(args, out)
    except (CapacityError, UsageProblem) as error:
        return report(error, err)
    return code


def run() -> None:
    """Console-script entry point."""
    try:
        code = main()
        sys.stdout.flush()
    except BrokenPipeError:
        # The reader went away (`capacity-lti show DIR | head`): stop quietly, as Unix tools do.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        code = 0
    sys.exit(code)
