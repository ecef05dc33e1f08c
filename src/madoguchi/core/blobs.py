"""Content-addressed store for attachment bytes: each distinct file is stored once.

The bytes live in the Django storage named ``attachments`` (``settings.STORAGES``, built by
``config.attachments_storage``, docs/configuration.md "Attachment storage"): by default
files under ``<data dir>/blobs/ab/cdef...`` named by their SHA-256 (``FileStore``), or
objects with the same keys in an S3-compatible bucket (django-storages). Callers use only
the functions below and never a path: on S3 there is none. Attachments are derived from
the raw mail kept in the database, so a lost blob can always be rebuilt.
"""

from __future__ import annotations

import os
import re
import tempfile
from pathlib import Path
from typing import Any

from django.core.files import File
from django.core.files.base import ContentFile
from django.core.files.storage import FileSystemStorage, Storage, storages

#: The key of ``settings.STORAGES`` that holds attachments.
ALIAS = "attachments"

_SHA256 = re.compile(r"[0-9a-f]{64}")


def storage() -> Storage:
    return storages[ALIAS]


def name_for(sha256: str) -> str:
    """The blob's name in the storage, ``ab/cdef...``; a value that is no hash is refused."""
    if not _SHA256.fullmatch(sha256):
        raise ValueError(f"not a SHA-256 hex digest: {sha256!r}")
    return f"{sha256[:2]}/{sha256[2:]}"


def exists(sha256: str) -> bool:
    return storage().exists(name_for(sha256))


def store(sha256: str, data: bytes) -> None:
    """Keep ``data`` under its hash unless it is already there.

    A blob is never visible under its name half written: ``FileStore`` writes a temporary
    file and renames it, and S3 shows an object only once its upload is complete. Two
    processes storing the same file at once both succeed, with the same bytes.
    """
    name = name_for(sha256)
    where = storage()
    if not where.exists(name):
        where.save(name, ContentFile(data))


def open(sha256: str) -> File[Any]:  # shadows the builtin here on purpose: blobs.open(...)
    """The blob for reading, e.g. streamed by a ``FileResponse``; the caller closes it.

    ``FileNotFoundError`` if it is not stored.
    """
    return storage().open(name_for(sha256), "rb")


def read(sha256: str) -> bytes:
    with open(sha256) as fh:
        data: bytes = fh.read()
    return data


class FileStore(FileSystemStorage):
    """``FileSystemStorage`` for content-addressed names (the default ``attachments``).

    A name always stands for the same bytes, so saving keeps the name (Django's storage
    would pick another one) and replaces the file atomically: the bytes go to a temporary
    file in the same folder, renamed once complete. On a shared volume (NFS) the rename
    is atomic too, so web and worker processes on several hosts can share the folder.
    """

    def get_available_name(self, name: str, max_length: int | None = None) -> str:
        return name

    def _save(self, name: str, content: File[Any]) -> str:
        target = Path(self.path(name))
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".tmp-")
        try:
            with os.fdopen(fd, "wb") as fh:
                for chunk in content.chunks():
                    fh.write(chunk)
            if self.file_permissions_mode is not None:
                os.chmod(tmp, self.file_permissions_mode)
            os.replace(tmp, target)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        return name
