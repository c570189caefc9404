"""The one place where errors become messages and exit codes.

| exit | meaning                                                        |
|------|----------------------------------------------------------------|
| 0    | success                                                        |
| 1    | the programme (or other authored input) has content errors      |
| 2    | wrong usage: unknown command or option, missing argument       |
| 3    | any other CapacityError: packaging, storage, configuration      |
"""

from __future__ import annotations

from typing import TextIO

from capacity_lti.errors import CapacityError, ContentError, InvalidProgramme

EXIT_OK = 0
EXIT_CONTENT = 1
EXIT_USAGE = 2
EXIT_FAILED = 3


class UsageProblem(Exception):
    """A command given arguments that cannot work (found after parsing), exit code 2."""


def report(error: CapacityError | UsageProblem, err: TextIO) -> int:
    """Print `error` for a person on `err` and return the exit code it maps to."""
    if isinstance(error, UsageProblem):
        print(f"error: {error}", file=err)
        return EXIT_USAGE
    if isinstance(error, InvalidProgramme):
        for problem in error.errors:
            print(f"error: {problem}", file=err)
        print(f"{error}: nothing was changed; fix the lines above and run again", file=err)
        return EXIT_CONTENT
    if isinstance(error, ContentError):
        print(f"error: {error}", file=err)
        return EXIT_CONTENT
    print(f"error: {error}", file=err)
    return EXIT_FAILED
