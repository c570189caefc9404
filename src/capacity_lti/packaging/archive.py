"""Deterministic zips: same files, same bytes (sorted entries, fixed time, mode and level)."""

from __future__ import annotations

import os
import re
import zipfile
from collections.abc import Mapping
from pathlib import Path

from capacity_lti.errors import PackagingError

EPOCH = (1980, 1, 1, 0, 0, 0)
FILE_MODE = 0o100644 << 16  # a regular file, rw-r--r--
LEVEL = 6
SAFE_NAME = re.compile(r"[A-Za-z0-9_-][A-Za-z0-9._-]*(/[A-Za-z0-9_-][A-Za-z0-9._-]*)*\Z")
_STORED = (".png", ".jpg", ".jpeg", ".gif", ".webp", ".mp4", ".webm", ".mp3", ".zip", ".pdf")


def write_zip(target: Path, files: Mapping[str, bytes]) -> Path:
    """Write `files` ({zip path: bytes}) to `target` through a temporary file, then rename.

    An old `target` is removed first: renaming over it (or truncating it) makes ext4 flush
    the new file to disk before returning, which costs more than building a small package.
    """
    for name in files:
        if not SAFE_NAME.match(name):
            raise PackagingError(f"unsafe file name in the package: {name!r}")
    partial = target.with_name(f".{target.name}.partial")
    try:
        with zipfile.ZipFile(partial, "w") as archive:
            for name in sorted(files):
                info = zipfile.ZipInfo(name, EPOCH)
                info.create_system = 3  # Unix, so the mode below is read as permissions
                info.external_attr = FILE_MODE
                stored = name.lower().endswith(_STORED)
                info.compress_type = zipfile.ZIP_STORED if stored else zipfile.ZIP_DEFLATED
                archive.writestr(info, files[name], compresslevel=None if stored else LEVEL)
        target.unlink(missing_ok=True)
        os.replace(partial, target)
    except OSError as exc:
        partial.unlink(missing_ok=True)
        raise PackagingError(f"cannot write {target}: {exc.strerror or exc}") from exc
    return target
