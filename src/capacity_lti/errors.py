"""The one error tree of capacity_lti.

Every error the library raises on purpose is a :class:`CapacityError`::

    CapacityError
    ├── ContentError        one problem in an authored file: path, line, message
    ├── InvalidProgramme    every ContentError found in one load of a programme folder
    ├── LaunchError         an LTI launch refused (reason code for the log, text for the user)
    ├── PackagingError      a package could not be built
    ├── StorageError        the database refused or is unreachable
    ├── ConfigError         settings that cannot work
    └── ServiceError        an LMS web service (token, AGS) failed: retryable or not

The CLI maps this tree to messages and exit codes in one place
(:mod:`capacity_lti.cli.errors`); the web layer does the same for HTTP.
Anything else that escapes is a bug.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path


class CapacityError(Exception):
    """Base of every error capacity_lti raises on purpose."""


class ContentError(CapacityError):
    """One problem in an authored file, located by path and 1-based line (0 = whole file)."""

    def __init__(self, path: Path | str, line: int, message: str) -> None:
        self.path = Path(path)
        self.line = line
        self.message = message
        super().__init__(str(self))

    def __str__(self) -> str:
        where = f"{self.path}:{self.line}" if self.line else str(self.path)
        return f"{where}: {self.message}"

    def sort_key(self) -> tuple[str, int, str]:
        return (str(self.path), self.line, self.message)


class InvalidProgramme(CapacityError):
    """A programme folder with one or more content errors, all found in one run."""

    def __init__(self, errors: Sequence[ContentError]) -> None:
        if not errors:
            raise ValueError("InvalidProgramme needs at least one ContentError")
        self.errors = tuple(sorted(errors, key=ContentError.sort_key))
        count = len(self.errors)
        super().__init__(f"{count} error{'s' if count != 1 else ''} in the programme")


class LaunchError(CapacityError):
    """An LTI launch refused: `reason` is a stable code for logs, `message` is for the user."""

    def __init__(self, reason: str, message: str) -> None:
        self.reason = reason
        self.message = message
        super().__init__(f"{reason}: {message}")


class PackagingError(CapacityError):
    """A package could not be built (unknown language, path or module; invalid manifest)."""


class StorageError(CapacityError):
    """The database refused an operation or could not be reached."""


class ConfigError(CapacityError):
    """Settings that cannot work, with what to change."""


class ServiceError(CapacityError):
    """An LMS service call failed: `retryable` says whether trying later can help.

    `retry_after` is the delay in seconds the LMS asked for (429/503 Retry-After), if any;
    `status` is the HTTP status (None for timeouts and connection errors).
    """

    def __init__(
        self,
        message: str,
        *,
        retryable: bool,
        status: int | None = None,
        retry_after: float | None = None,
    ) -> None:
        self.message = message
        self.retryable = retryable
        self.status = status
        self.retry_after = retry_after
        super().__init__(message)
