"""Content-addressed file store for attachment bytes: each distinct file is stored once.

Files live under ``<data dir>/blobs/ab/cdef...`` named by their SHA-256. Attachments are
derived from the raw mail kept in the database, so a lost blob can always be rebuilt.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from django.conf import settings


def root() -> Path:
    return Path(settings.MADOGUCHI.blob_dir)


def path_for(sha256: str) -> Path:
    return root() / sha256[:2] / sha256[2:]


def store(sha256: str, data: bytes) -> Path:
    """Write ``data`` under its hash unless already there; atomic via rename."""
    target = path_for(sha256)
    if target.exists():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".tmp-")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return target


def read(sha256: str) -> bytes:
    return path_for(sha256).read_bytes()
