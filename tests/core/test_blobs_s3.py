"""Attachments in an S3-compatible bucket: a real moto server (tests/servers/s3.py), the
storage configured from MADOGUCHI_ATTACHMENTS_* as in production, real intake and the
real download pages."""

from __future__ import annotations

import hashlib
import os
import uuid
from email import message_from_bytes
from email.message import EmailMessage
from email.policy import default
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from storages.backends.s3 import S3Storage

from madoguchi import config
from madoguchi.accounts.models import Role
from madoguchi.conversations.models import Attachment
from madoguchi.core import blobs
from madoguchi.reply_templates import actions as template_actions
from tests.factories import client_for, make_agent
from tests.mail_in.helpers import deliver
from tests.mailmaker import make_mail
from tests.servers.s3 import S3Server, s3  # noqa: F401 - the fixture

pytestmark = [pytest.mark.servers, pytest.mark.django_db]


@pytest.fixture
def bucket(s3: S3Server, settings, monkeypatch) -> str:  # noqa: F811 - s3 is the fixture
    """A fresh bucket, and the ``attachments`` storage configured for it by the variables."""
    name = f"madoguchi-{uuid.uuid4().hex[:12]}"
    s3.client().create_bucket(Bucket=name)
    for key, value in {
        "BUCKET": name,
        "ENDPOINT_URL": s3.url,
        "REGION": s3.region,
        "ACCESS_KEY_ID": s3.access_key_id,
        "SECRET_ACCESS_KEY": s3.secret_access_key,
    }.items():
        monkeypatch.setenv(f"MADOGUCHI_ATTACHMENTS_{key}", value)
    monkeypatch.delenv("MADOGUCHI_ATTACHMENTS_DIR", raising=False)
    storage = config.attachments_storage(settings.DATA_DIR)
    settings.STORAGES = {**settings.STORAGES, blobs.ALIAS: storage}
    assert isinstance(blobs.storage(), S3Storage)
    return name


def key_of(sha256: str) -> str:
    return f"{sha256[:2]}/{sha256[2:]}"


def on_local_disk(sha256: str) -> list[Path]:
    """Files named like the blob anywhere in the data dir (where FileStore would put it)."""
    return list(Path(django_settings.DATA_DIR).rglob(sha256[2:]))


def mail_with(data: bytes, filename: str) -> bytes:
    msg = message_from_bytes(make_mail(subject="見積書を送ります"), policy=default)
    assert isinstance(msg, EmailMessage)
    msg.add_attachment(data, maintype="application", subtype="pdf", filename=filename)
    return msg.as_bytes()


def test_an_ingested_attachment_lives_in_the_bucket_and_downloads(team, s3, bucket):  # noqa: F811
    """Intake stores the file in the bucket only; the attachment page streams it back."""
    data = b"%PDF-1.4 " + os.urandom(4096)  # bytes no earlier test stored on disk
    message = deliver(team["support"], mail_with(data, "見積書.pdf"))
    assert message is not None
    att = Attachment.objects.get(message=message)
    assert att.sha256 == hashlib.sha256(data).hexdigest()

    stored = s3.client().get_object(Bucket=bucket, Key=key_of(att.sha256))
    assert stored["Body"].read() == data
    assert on_local_disk(att.sha256) == []

    response = client_for(team["sato"]).get(f"/a/{att.pk}/")
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == data
    assert response["Content-Length"] == str(len(data))
    assert response["Content-Type"] == "application/octet-stream"
    assert response["Content-Disposition"].startswith("attachment;")
    assert response["X-Content-Type-Options"] == "nosniff"
    assert client_for(team["kato"]).get(f"/a/{att.pk}/").status_code == 404  # other mailbox


def test_a_template_file_lives_in_the_bucket_and_downloads(team, s3, bucket):  # noqa: F811
    """Template files share the store: added to the bucket, listed, downloaded."""
    manager = make_agent("suzuki", role=Role.MANAGER, mailboxes=[team["support"]])
    template = template_actions.create_template(
        name="請求書", body="添付します。", mailbox_id=team["support"].pk, actor_id=None
    )
    data = b"%PDF-1.4 bill " + os.urandom(64)
    att = template_actions.add_attachment(
        template, filename="請求書.pdf", content_type="application/pdf", data=data, actor_id=None
    )
    assert s3.client().get_object(Bucket=bucket, Key=key_of(att.sha256))["Body"].read() == data
    assert on_local_disk(att.sha256) == []

    response = client_for(manager).get(f"/admin/templates/{template.pk}/files/{att.pk}")
    assert response.status_code == 200 and b"".join(response.streaming_content) == data


def test_the_store_on_s3_is_idempotent_and_reads_back(s3, bucket):  # noqa: F811
    """store twice keeps one object; exists, read and open see it; a missing blob is
    FileNotFoundError, as on files. Large files go up in parts (multipart) and read back."""
    small = b"hello " + os.urandom(16)
    large = os.urandom(9 * 1024 * 1024)  # above boto3's 8 MiB multipart threshold
    missing = hashlib.sha256(b"never stored " + os.urandom(8)).hexdigest()
    for data in (small, large):
        sha = hashlib.sha256(data).hexdigest()
        blobs.store(sha, data)
        blobs.store(sha, data)
        assert blobs.exists(sha) and blobs.read(sha) == data
        with blobs.open(sha) as fh:
            assert fh.read(5) == data[:5]
    keys = [o["Key"] for o in s3.client().list_objects_v2(Bucket=bucket)["Contents"]]
    assert sorted(keys) == sorted(key_of(hashlib.sha256(d).hexdigest()) for d in (small, large))
    assert not blobs.exists(missing)
    with pytest.raises(FileNotFoundError):
        blobs.read(missing)
