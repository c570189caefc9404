"""`package`: SCORM zips of a programme, for an LMS that cannot register the LTI tool.

The library builds and raises; this module checks every requested package before it builds
any (a wrong `--lang`, `--path` or `--module` is a usage error, exit 2, as in `show`), prints
each zip's path on stdout as it is written and, for `--all`, progress on stderr.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any, TextIO

from capacity_lti.cli.errors import EXIT_OK, UsageProblem
from capacity_lti.content import Programme, load_programme
from capacity_lti.errors import PackagingError
from capacity_lti.packaging import FORMATS, PackageSpec, build_package, plan_all
from capacity_lti.packaging.selection import check_spec

BAR_WIDTH = 24


def register(commands: Any) -> None:
    package = commands.add_parser(
        "package",
        help="build SCORM 1.2 or 2004 zips of a programme, to upload where LTI is not available",
    )
    package.add_argument("folder", type=Path, help="the folder that holds programme.yaml")
    what = package.add_mutually_exclusive_group(required=True)
    what.add_argument("--format", choices=list(FORMATS), help="the package standard")
    what.add_argument(
        "--all", action="store_true", help="every format x every language of the programme"
    )
    package.add_argument(
        "--lang", metavar="L", help="the package language (default: the programme's default)"
    )
    scope = package.add_mutually_exclusive_group()
    scope.add_argument(
        "--path", metavar="P", help="only this learning path (its modules, and its events as pages)"
    )
    scope.add_argument("--module", metavar="M", help="only this module")
    package.add_argument(
        "--out",
        type=Path,
        default=Path("dist"),
        metavar="DIR",
        help="where the zips are written (default: ./dist, made if missing)",
    )
    package.add_argument(
        "--single-sco",
        action="store_true",
        help="one SCO for the whole package (programme or path) instead of one per module",
    )
    package.add_argument(
        "--schemas",
        type=Path,
        metavar="XSD_DIR",
        help="validate each manifest against the official XSDs in this folder and ship them",
    )
    package.set_defaults(handler=cmd_package)


def _specs(programme: Programme, args: argparse.Namespace) -> list[PackageSpec]:
    """Every package asked for, each checked; a request that cannot work is a usage error."""
    if args.all and args.lang:
        raise UsageProblem("--all builds every language: leave out --lang, or use --format")
    if args.out.exists() and not args.out.is_dir():
        raise UsageProblem(f"--out {args.out} is a file: give a folder")
    wanted = (
        [(s.standard, s.language) for s in plan_all(programme)]
        if args.all
        else [(args.format, args.lang or programme.default_language)]
    )
    try:
        return [
            check_spec(
                programme,
                standard,
                language,
                path_id=args.path,
                module_id=args.module,
                single_sco=args.single_sco,
            )
            for standard, language in wanted
        ]
    except PackagingError as exc:
        raise UsageProblem(str(exc)) from exc


class _Progress:
    """`--all` progress on stderr: a bar redrawn in place on a terminal, else a line per package."""

    def __init__(self, stream: TextIO, total: int) -> None:
        self.stream = stream
        self.total = total
        self.done = 0
        self.tty = stream.isatty()
        self.drawn = 0

    def starting(self, standard: str, language: str) -> None:
        label = f"{self.done + 1}/{self.total} {standard} {language}"
        if not self.tty:
            print(f"[{label}]", file=self.stream, flush=True)
            return
        filled = BAR_WIDTH * self.done // self.total
        line = f"[{'#' * filled}{'-' * (BAR_WIDTH - filled)}] {label}"
        self.stream.write("\r" + line.ljust(self.drawn))
        self.stream.flush()
        self.drawn = max(self.drawn, len(line))  # what the terminal line now shows

    def finished(self) -> None:
        self.done += 1

    def close(self) -> None:
        """Leave the terminal line clean, whether the run finished or failed."""
        if self.tty and self.drawn:
            self.stream.write("\r" + " " * self.drawn + "\r")
            self.stream.flush()


def cmd_package(args: argparse.Namespace, out: TextIO) -> int:
    programme = load_programme(args.folder)
    specs = _specs(programme, args)
    try:
        args.out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise PackagingError(f"cannot make the folder {args.out}: {exc.strerror}") from exc
    progress = _Progress(args.err, len(specs)) if args.all else None
    try:
        for spec in specs:
            if progress:
                progress.starting(spec.standard, spec.language)
            written = build_package(
                programme,
                spec.standard,
                spec.language,
                args.out,
                module_id=spec.module_id,
                path_id=spec.path_id,
                schemas=args.schemas,
                single_sco=spec.single_sco,
            )
            print(written, file=out, flush=True)
            if progress:
                progress.finished()
    finally:
        if progress:
            progress.close()
    if progress:
        print(f"{len(specs)} packages written to {args.out}", file=progress.stream)
    return EXIT_OK
