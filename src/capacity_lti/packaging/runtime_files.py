"""The learner-side runtime (scorm/ in the repo, capacity_lti/_scorm in the wheel), read once."""

from __future__ import annotations

import functools
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path

from capacity_lti.errors import PackagingError

RUNTIME_FILES = ("player.css", "runtime.js")  # shipped as capacity/<name> in every package
_CHECKOUT = Path(__file__).resolve().parents[3] / "scorm"  # src/capacity_lti/packaging/ -> repo


def _folder() -> Traversable:
    bundled = resources.files("capacity_lti") / "_scorm"
    if bundled.is_dir():
        return bundled
    if _CHECKOUT.is_dir():
        return _CHECKOUT
    raise PackagingError(
        "the SCORM runtime is missing: neither capacity_lti/_scorm (an installed wheel) nor "
        f"{_CHECKOUT} (a checkout) exists; reinstall capacity-lti"
    )


@functools.cache
def runtime_files() -> dict[str, bytes]:
    """{zip path: bytes} of the runtime files, read on first use and kept."""
    folder = _folder()
    return {f"capacity/{name}": (folder / name).read_bytes() for name in RUNTIME_FILES}
