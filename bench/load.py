"""How long loading a programme takes, beside a baseline measured in the same run.

    python bench/load.py [PROGRAMME_DIR] [--repeat N]

Baseline: read every file of the programme, parse programme.yaml and each front
matter with PyYAML's fastest safe loader, and render every Markdown body with
markdown-it, with no validation, sanitising or fallback. The ratio shows what the
loader's checks (line tracking, strict YAML, sanitising, cross-references) cost.
Prints figures only; nothing is asserted.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable
from pathlib import Path

import yaml
from markdown_it import MarkdownIt

from capacity_lti.content import load_programme

SafeLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_md = MarkdownIt("commonmark", {"html": True}).enable("table")


def baseline(folder: Path) -> None:
    yaml.load((folder / "programme.yaml").read_text(encoding="utf-8"), Loader=SafeLoader)
    for path in sorted(folder.glob("*/*.md")):
        _, front, body = path.read_text(encoding="utf-8").split("---\n", 2)
        yaml.load(front, Loader=SafeLoader)
        _md.render(body)


def timed(work: Callable[[], object], repeat: int) -> list[float]:
    work()  # warm up: imports, caches
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        work()
        samples.append(time.perf_counter() - start)
    return samples


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "folder",
        nargs="?",
        type=Path,
        default=Path(__file__).parent.parent / "examples" / "climate-action",
    )
    parser.add_argument("--repeat", type=int, default=10)
    args = parser.parse_args()
    files = len(list(args.folder.glob("*/*.md"))) + 1
    ours = timed(lambda: load_programme(args.folder), args.repeat)
    base = timed(lambda: baseline(args.folder), args.repeat)
    ours_ms, base_ms = statistics.median(ours) * 1000, statistics.median(base) * 1000
    print(f"programme: {args.folder} ({files} files), {args.repeat} runs each, medians")
    print(f"  load_programme           {ours_ms:8.1f} ms")
    print(f"  baseline (parse+render)  {base_ms:8.1f} ms")
    print(f"  ratio                    {ours_ms / base_ms:8.2f}x the baseline")


if __name__ == "__main__":
    main()
