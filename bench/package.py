"""How long building packages takes, beside a baseline measured in the same run.

    python bench/package.py [PROGRAMME_DIR] [--repeat N] [--schemas XSD_DIR]

Ours: build_package for every format x language of the programme, one zip each.
Baseline: the same files, read back from the zips ours wrote, written into a zip with
`zipfile` alone (same names, order, compression and timestamps). The ratio shows what
rendering the pages and the manifest costs over writing the same bytes. The programme is
loaded once, outside the timings. Prints figures only; nothing is asserted.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
import zipfile
from collections.abc import Callable
from functools import partial
from pathlib import Path

from capacity_lti.content import load_programme
from capacity_lti.packaging import FORMATS, build_package, plan_all
from capacity_lti.packaging.archive import LEVEL

Entries = list[tuple[zipfile.ZipInfo, bytes]]


def read_entries(package: Path) -> Entries:
    with zipfile.ZipFile(package) as source:
        return [(info, source.read(info)) for info in source.infolist()]


def baseline(entries: Entries, target: Path) -> None:
    with zipfile.ZipFile(target, "w", compresslevel=LEVEL) as zipped:
        for info, data in entries:
            zipped.writestr(info, data)


def timed(works: list[Callable[[], object]], repeat: int) -> tuple[list[float], list[float]]:
    """Run every work `repeat` times (after one warm-up round): (round totals, per-work times)."""
    for work in works:
        work()  # warm up: imports, templates, schema caches
    totals, each = [], []
    for _ in range(repeat):
        round_start = time.perf_counter()
        for work in works:
            start = time.perf_counter()
            work()
            each.append(time.perf_counter() - start)
        totals.append(time.perf_counter() - round_start)
    return totals, each


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "folder",
        nargs="?",
        type=Path,
        default=Path(__file__).parent.parent / "examples" / "climate-action",
    )
    parser.add_argument("--repeat", type=int, default=10)
    parser.add_argument("--schemas", type=Path, default=None, help="validate every manifest too")
    args = parser.parse_args()
    programme = load_programme(args.folder)
    jobs = [(spec.standard, spec.language) for spec in plan_all(programme)]
    with tempfile.TemporaryDirectory() as scratch:
        ours_dir, base_dir = Path(scratch, "ours"), Path(scratch, "baseline")
        ours_dir.mkdir()
        base_dir.mkdir()
        built = [
            build_package(programme, standard, language, ours_dir, schemas=args.schemas)
            for standard, language in jobs
        ]
        entries = [read_entries(package) for package in built]
        kilobytes = sum(package.stat().st_size for package in built) / 1024
        ours = timed(
            [
                partial(
                    build_package, programme, standard, language, ours_dir, schemas=args.schemas
                )
                for standard, language in jobs
            ],
            args.repeat,
        )
        base = timed(
            [
                partial(baseline, files, base_dir / package.name)
                for files, package in zip(entries, built, strict=True)
            ],
            args.repeat,
        )
    files = sum(len(e) for e in entries)
    print(
        f"programme: {args.folder}: {len(jobs)} packages ({', '.join(FORMATS)} x "
        f"{', '.join(programme.languages)}), {files} files, {kilobytes:.0f} KiB in all; {args.repeat} runs, medians"
    )
    rows = [
        ("all packages", statistics.median(ours[0]), statistics.median(base[0])),
        ("per package", statistics.median(ours[1]), statistics.median(base[1])),
    ]
    print(f"  {'':14} {'build_package':>14} {'zipfile alone':>14} {'ratio':>8}")
    for label, ours_s, base_s in rows:
        print(
            f"  {label:14} {ours_s * 1000:11.1f} ms {base_s * 1000:11.1f} ms {ours_s / base_s:7.2f}x"
        )


if __name__ == "__main__":
    main()
