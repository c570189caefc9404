"""`validate`, `show` and `new`: the author's commands."""

from __future__ import annotations

import argparse
import re
import shutil
from importlib import resources
from pathlib import Path
from typing import Any, TextIO

from capacity_lti.cli.errors import EXIT_OK, UsageProblem
from capacity_lti.content import load_programme, pick
from capacity_lti.content.languages import display_name
from capacity_lti.content.model import Event, Programme
from capacity_lti.content.summary import coverage

STARTER = "starter"


def register(commands: Any) -> None:
    validate = commands.add_parser(
        "validate", help="check a programme folder and report every problem"
    )
    validate.add_argument("folder", type=Path, help="the folder that holds programme.yaml")
    validate.set_defaults(handler=cmd_validate)

    show = commands.add_parser(
        "show", help="print a programme's paths, themes and modules, and its translation coverage"
    )
    show.add_argument("folder", type=Path)
    show.add_argument("--lang", help="language of the titles (default: the programme's default)")
    show.set_defaults(handler=cmd_show)

    new = commands.add_parser("new", help="write a small valid programme to start from")
    new.add_argument("folder", type=Path, help="a folder that does not exist yet, or is empty")
    new.set_defaults(handler=cmd_new)


def _counts(programme: Programme) -> str:
    return (
        f"{len(programme.themes)} themes, {len(programme.modules)} modules, "
        f"{len(programme.events)} events, {len(programme.paths)} paths, "
        f"{len(programme.languages)} languages"
    )


def cmd_validate(args: argparse.Namespace, out: TextIO) -> int:
    programme = load_programme(args.folder)
    print(f"ok: {programme.id} ({_counts(programme)})", file=out)
    return EXIT_OK


def cmd_show(args: argparse.Namespace, out: TextIO) -> int:
    programme = load_programme(args.folder)
    language = args.lang or programme.default_language
    if language not in programme.languages:
        raise UsageProblem(f"--lang {language} is not one of {', '.join(programme.languages)}")
    chain = programme.chain(language)
    total_minutes = sum(i.minutes for i in programme.items())
    print(f"{pick(programme.title, chain)} [{programme.id}]", file=out)
    print(
        f"  {_counts(programme)}; {total_minutes} minutes, {programme.points_possible()} points in all",
        file=out,
    )
    print("\nPaths", file=out)
    for path in programme.paths:
        minutes = sum(programme.item(i).minutes for i in path.items)
        print(
            f"  {path.id} ({path.audience}): {pick(path.title, chain)}"
            f" - {len(path.items)} items, {minutes} min, {programme.points_possible(path.items)} points",
            file=out,
        )
        for item_id in path.items:
            item = programme.item(item_id)
            kind = item.kind.value if isinstance(item, Event) else item.level.value
            print(f"    - {item_id} [{kind}]", file=out)
    print("\nThemes", file=out)
    for theme in programme.themes:
        print(f"  {theme.id}: {pick(theme.title, chain)}", file=out)
        for module in programme.theme_modules(theme.id):
            check = f", check {len(module.check.questions)} q" if module.check else ""
            print(
                f"    - {module.id} [{module.level.value}] {module.minutes} min, "
                f"{module.points} pt{check}: {pick(module.title, chain)}",
                file=out,
            )
    if programme.events:
        print("\nEvents", file=out)
        for event in programme.events.values():
            print(
                f"  - {event.id} [{event.kind.value}] {event.minutes} min, {event.points} pt: "
                f"{pick(event.title, chain)}",
                file=out,
            )
    if programme.diplomas:
        print("\nDiplomas", file=out)
        for diploma in programme.diplomas:
            scope = f"path {diploma.path}" if diploma.path else "whole programme"
            print(
                f"  - {diploma.id} ({scope}, min {diploma.min_points} points): {pick(diploma.title, chain)}",
                file=out,
            )
    print(
        "\nTranslation coverage (texts written in the language itself; the rest falls back)",
        file=out,
    )
    rows = coverage(programme)
    labels = [f"{row.language} {display_name(row.language, 'en')}" for row in rows]
    width = max(len(label) for label in [*labels, "language"])
    print(
        f"  {'language':<{width}} {'full':>5} {'partial':>8} {'fallback':>9} {'texts':>12}",
        file=out,
    )
    for row, label in zip(rows, labels, strict=True):
        texts = f"{row.blocks}/{row.total_blocks}"
        print(
            f"  {label:<{width}} {row.full:>5} {row.partial:>8} {row.fallback:>9} {texts:>12} {row.percent:>3}%",
            file=out,
        )
    return EXIT_OK


def cmd_new(args: argparse.Namespace, out: TextIO) -> int:
    target: Path = args.folder
    if target.exists() and (not target.is_dir() or any(target.iterdir())):
        raise UsageProblem(f"{target} already exists and is not empty: choose a new folder")
    source = resources.files("capacity_lti.content").joinpath(STARTER)
    with resources.as_file(source) as folder:
        shutil.copytree(
            folder, target, dirs_exist_ok=True, ignore=shutil.ignore_patterns("__pycache__")
        )
    programme_id = re.sub(r"[^a-z0-9]+", "-", target.resolve().name.lower())[:64].strip("-")
    if programme_id:
        manifest = target / "programme.yaml"
        text = manifest.read_text(encoding="utf-8")
        text = text.replace("\nid: my-programme\n", f"\nid: {programme_id}\n", 1)
        manifest.write_text(text, encoding="utf-8")
    programme = load_programme(target)
    print(f"wrote a starter programme to {target} ({_counts(programme)})", file=out)
    print(
        f"next: edit {target / 'programme.yaml'}, then run: capacity-lti validate {target}",
        file=out,
    )
    return EXIT_OK
