"""The attachment store on files (the default) and its configuration.

The same store on an S3-compatible server is tested in test_blobs_s3.py.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.conf import settings
from django.core.files.base import ContentFile

from madoguchi import config
from madoguchi.core import blobs

S3_VARIABLES = ("MADOGUCHI_ATTACHMENTS_BUCKET", *config.S3_OPTIONS)


def digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def unique(label: bytes) -> bytes:
    """Bytes no other test stored (the data dir is shared by the whole run)."""
    return label + b" " + os.urandom(16).hex().encode()


def test_blobs_keep_the_layout_of_earlier_versions():
    """Files stay at <data dir>/blobs/ab/cdef..., so an existing installation keeps its files."""
    data = unique(b"%PDF-1.4 old")
    sha = digest(data)
    old = Path(settings.DATA_DIR) / "blobs" / sha[:2] / sha[2:]
    old.parent.mkdir(parents=True, exist_ok=True)
    old.write_bytes(data)  # as the version before the storage API wrote it
    assert blobs.exists(sha) and blobs.read(sha) == data
    with blobs.open(sha) as fh:
        assert fh.read() == data

    fresh = unique(b"%PDF-1.4 new")
    blobs.store(digest(fresh), fresh)
    sha = digest(fresh)
    assert (Path(settings.DATA_DIR) / "blobs" / sha[:2] / sha[2:]).read_bytes() == fresh


def test_storing_again_changes_nothing():
    """A blob already stored is not written again; its name never gets a suffix."""
    data = unique(b"same")
    sha = digest(data)
    blobs.store(sha, data)
    path = Path(blobs.storage().path(blobs.name_for(sha)))
    before = path.stat().st_mtime_ns
    blobs.store(sha, data)
    assert path.stat().st_mtime_ns == before
    # Django's own save would pick "<name>_abc123" for a name taken; this store keeps it
    assert blobs.storage().save(blobs.name_for(sha), ContentFile(data)) == blobs.name_for(sha)
    assert [p.name for p in path.parent.iterdir() if p.name.startswith(sha[2:])] == [sha[2:]]
    assert path.read_bytes() == data


class Chunks(ContentFile):
    """A file whose chunks come one by one, calling ``between`` between them."""

    def __init__(self, parts: list[bytes], between) -> None:
        super().__init__(b"".join(parts))
        self.parts, self.between = parts, between

    def chunks(self, chunk_size: int | None = None) -> Iterator[bytes]:
        for i, part in enumerate(self.parts):
            if i:
                self.between()
            yield part


def test_a_blob_is_visible_only_whole():
    """While the bytes are being written, the name does not exist yet."""
    parts = [unique(b"first half"), b"second half"]
    sha = digest(b"".join(parts))
    seen: list[bool] = []
    blobs.storage().save(blobs.name_for(sha), Chunks(parts, lambda: seen.append(blobs.exists(sha))))
    assert seen == [False]
    assert blobs.read(sha) == b"".join(parts)


def test_a_failed_write_leaves_nothing_behind():
    """A write that fails half way leaves neither the name nor a temporary file."""
    parts = [unique(b"first half"), b"never written"]
    sha = digest(b"".join(parts))

    def fail() -> None:
        raise OSError("disk full")

    with pytest.raises(OSError, match="disk full"):
        blobs.storage().save(blobs.name_for(sha), Chunks(parts, fail))
    assert not blobs.exists(sha)
    folder = Path(blobs.storage().path(blobs.name_for(sha))).parent
    assert not [p for p in folder.iterdir() if p.name.startswith(".tmp-")]


def test_a_missing_blob_is_file_not_found():
    sha = digest(unique(b"never stored"))
    assert not blobs.exists(sha)
    with pytest.raises(FileNotFoundError):
        blobs.read(sha)


@pytest.mark.parametrize("bad", ["../../etc/passwd", "AB" * 32, "ab" * 31, "ab" * 32 + "/x", ""])
def test_only_hashes_name_blobs(bad):
    """A value that is not a lowercase SHA-256 hex digest never reaches the storage."""
    with pytest.raises(ValueError, match="SHA-256"):
        blobs.name_for(bad)


# -- configuration ---------------------------------------------------------------------------


@pytest.fixture
def clean_env(monkeypatch):
    for name in ("MADOGUCHI_ATTACHMENTS_DIR", *S3_VARIABLES):
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


def test_attachments_are_files_in_the_data_dir_by_default(clean_env, tmp_path):
    store = config.attachments_storage(tmp_path)
    assert store == {
        "BACKEND": "madoguchi.core.blobs.FileStore",
        "OPTIONS": {"location": str((tmp_path / "blobs").resolve())},
    }


def test_attachments_dir_may_be_a_shared_volume(clean_env, tmp_path):
    """MADOGUCHI_ATTACHMENTS_DIR puts the files elsewhere (e.g. an NFS mount); made if missing."""
    shared = tmp_path / "nfs" / "madoguchi-blobs"
    clean_env.setenv("MADOGUCHI_ATTACHMENTS_DIR", str(shared))
    store = config.attachments_storage(tmp_path / "data")
    assert store["OPTIONS"] == {"location": str(shared.resolve())} and shared.is_dir()


def test_s3_options(clean_env, tmp_path):
    """A bucket selects django-storages' S3Storage; an endpoint means path-style addressing."""
    clean_env.setenv("MADOGUCHI_ATTACHMENTS_BUCKET", "inbox-files")
    clean_env.setenv("MADOGUCHI_ATTACHMENTS_ENDPOINT_URL", "https://minio.example.jp:9000")
    clean_env.setenv("MADOGUCHI_ATTACHMENTS_REGION", "ap-northeast-1")
    clean_env.setenv("MADOGUCHI_ATTACHMENTS_ACCESS_KEY_ID", "madoguchi")
    clean_env.setenv("MADOGUCHI_ATTACHMENTS_SECRET_ACCESS_KEY", "s3cret-s3cret")
    store = config.attachments_storage(tmp_path)
    assert store["BACKEND"] == "storages.backends.s3.S3Storage"
    options = store["OPTIONS"]
    assert isinstance(options, dict)
    assert options["bucket_name"] == "inbox-files"
    assert options["endpoint_url"] == "https://minio.example.jp:9000"
    assert options["region_name"] == "ap-northeast-1"
    assert (options["access_key"], options["secret_key"]) == ("madoguchi", "s3cret-s3cret")
    assert options["file_overwrite"] is True
    assert options["client_config"].s3 == {"addressing_style": "path"}
    assert not (tmp_path / "blobs").exists()


def test_s3_without_keys_leaves_credentials_to_boto3(clean_env, tmp_path):
    """On AWS without keys, boto3's own chain (AWS_* variables, ~/.aws, a role) decides."""
    clean_env.setenv("MADOGUCHI_ATTACHMENTS_BUCKET", "inbox-files")
    options = config.attachments_storage(tmp_path)["OPTIONS"]
    assert isinstance(options, dict)
    assert "access_key" not in options and "secret_key" not in options
    assert options["endpoint_url"] is None
    assert options["client_config"].s3 == {"addressing_style": "auto"}


@pytest.mark.parametrize(
    ("values", "named"),
    [
        ({"REGION": "eu-west-1"}, "REGION"),  # S3 settings but no bucket
        ({"BUCKET": "b", "DIR": "/srv/blobs"}, "DIR"),  # both places
        ({"BUCKET": "b", "ACCESS_KEY_ID": "k"}, "SECRET_ACCESS_KEY"),
        ({"BUCKET": "b", "SECRET_ACCESS_KEY": "s"}, "ACCESS_KEY_ID"),
        ({"BUCKET": "b", "ENDPOINT_URL": "minio:9000"}, "ENDPOINT_URL"),
    ],
)
def test_wrong_storage_settings_name_the_variable(clean_env, tmp_path, values, named):
    """Values of MADOGUCHI_ATTACHMENTS_<key> that do not go together stop the start, named."""
    for key, value in values.items():
        clean_env.setenv(f"MADOGUCHI_ATTACHMENTS_{key}", value)
    with pytest.raises(config.ConfigError, match=f"^MADOGUCHI_ATTACHMENTS_{named}:"):
        config.attachments_storage(tmp_path)


def test_unwritable_attachments_dir_is_named(clean_env, tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("")
    clean_env.setenv("MADOGUCHI_ATTACHMENTS_DIR", str(blocker / "sub"))
    with pytest.raises(config.ConfigError, match="^MADOGUCHI_ATTACHMENTS_DIR"):
        config.attachments_storage(tmp_path)
