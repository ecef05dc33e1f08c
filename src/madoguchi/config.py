"""Read Madoguchi's configuration from ``MADOGUCHI_*`` environment variables.

Every variable read here is documented, with its default, in ``docs/configuration.md``
(a test checks that the two agree). A missing or wrong value raises ``ConfigError``
whose message names the variable, so that a start fails with one clear line.
"""

from __future__ import annotations

import os
import secrets
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from django.core.exceptions import ImproperlyConfigured

#: Every environment variable Madoguchi reads, with its default as documented.
VARIABLES: dict[str, str] = {
    "MADOGUCHI_DATA_DIR": "~/.local/share/madoguchi",
    "MADOGUCHI_DATABASE_URL": "sqlite in the data dir",
    "MADOGUCHI_SECRET_KEY": "generated into the data dir",
    "MADOGUCHI_SECRET_KEY_FALLBACKS": "none",
    "MADOGUCHI_DEBUG": "false",
    "MADOGUCHI_ALLOWED_HOSTS": "localhost,127.0.0.1,[::1]",
    "MADOGUCHI_WEB_BIND": "127.0.0.1:8000",
    "MADOGUCHI_BASE_URL": "http:// and the web bind",
    "MADOGUCHI_HTTPS": "false",
    "MADOGUCHI_HSTS_SECONDS": "31536000",
    "MADOGUCHI_HSTS_INCLUDE_SUBDOMAINS": "true",
    "MADOGUCHI_TRUSTED_PROXIES": "none",
    "MADOGUCHI_SMTP_BIND": "127.0.0.1:2525",
    "MADOGUCHI_LMTP_BIND": "127.0.0.1:2424",
    "MADOGUCHI_MAX_MESSAGE_BYTES": "52428800",
    "MADOGUCHI_IMAP_POLL_SECONDS": "60",
    "MADOGUCHI_IMAP_RESCAN_SECONDS": "5",
    "MADOGUCHI_LIVE_POLL_SECONDS": "0.5",
    "MADOGUCHI_CLOCK_SECONDS": "30",
    "MADOGUCHI_LOG_LEVEL": "INFO",
    "MADOGUCHI_ATTACHMENTS_DIR": "the blobs folder in the data dir",
    "MADOGUCHI_ATTACHMENTS_BUCKET": "none (attachments are files)",
    "MADOGUCHI_ATTACHMENTS_ENDPOINT_URL": "AWS S3",
    "MADOGUCHI_ATTACHMENTS_REGION": "boto3's own",
    "MADOGUCHI_ATTACHMENTS_ACCESS_KEY_ID": "boto3's own",
    "MADOGUCHI_ATTACHMENTS_SECRET_ACCESS_KEY": "boto3's own",
    "MADOGUCHI_ADMIN_PASSWORD": "none (read by `madoguchi createadmin`)",
    "MADOGUCHI_IMAP_PASSWORD": "none (read by `madoguchi mailbox add`)",
    "MADOGUCHI_SMTP_PASSWORD": "none (read by `madoguchi mailbox add`)",
}


class ConfigError(ImproperlyConfigured):
    """A configuration value is missing or wrong; the message names the variable."""


@dataclass(frozen=True)
class Bind:
    host: str
    port: int

    def __str__(self) -> str:
        return f"{self.host}:{self.port}"


def clock_seconds() -> float:
    """``MADOGUCHI_CLOCK_SECONDS``: how often the worker runs ``automation.clock.tick``."""
    return seconds("MADOGUCHI_CLOCK_SECONDS", minimum=1)


@dataclass(frozen=True)
class Runtime:
    """Madoguchi's own settings (``settings.MADOGUCHI``)."""

    web_bind: Bind
    base_url: str
    smtp_bind: Bind
    lmtp_bind: Bind
    max_message_bytes: int
    imap_poll_seconds: int
    live_poll_seconds: float
    #: Served to browsers over HTTPS (through a proxy that terminates TLS).
    https: bool = False
    #: Proxies whose X-Forwarded-For / X-Forwarded-Proto are believed (IPs or CIDRs).
    trusted_proxies: tuple[str, ...] = ()
    #: How often the IMAP supervisor looks for mailboxes added or changed by an admin.
    imap_rescan_seconds: float = 5.0
    #: How often the worker runs the clock (snoozes, follow-ups, SLAs: ``automation.clock``).
    clock_seconds: float = field(default_factory=clock_seconds)


def env(name: str) -> str | None:
    assert name in VARIABLES, f"{name} must be listed in VARIABLES and docs/configuration.md"
    value = os.environ.get(name, "").strip()
    return value or None


def data_dir() -> Path:
    """The folder for the SQLite database, attachments and the generated secret key."""
    raw = env("MADOGUCHI_DATA_DIR")
    if raw:
        path = Path(raw).expanduser()
    else:
        base = os.environ.get("XDG_DATA_HOME") or "~/.local/share"
        path = Path(base).expanduser() / "madoguchi"
    return writable_dir("MADOGUCHI_DATA_DIR", path)


def writable_dir(name: str, path: Path) -> Path:
    """``path``, made if missing and checked writable; else a ConfigError naming ``name``."""
    try:
        path.mkdir(parents=True, exist_ok=True)
        # A file of its own (several processes start at once: a shared name raced, one
        # process removing the other's probe), gone when closed.
        with tempfile.TemporaryFile(dir=path):
            pass
    except OSError as exc:
        raise ConfigError(f"{name}: cannot write to {path}: {exc.strerror}") from exc
    return path.resolve()


def secret_key(folder: Path) -> str:
    """The key for sessions, signed Message-IDs and encrypted secrets.

    Generated once and kept (mode 0600) in the data dir when the variable is absent.
    """
    value = env("MADOGUCHI_SECRET_KEY")
    if value:
        if len(value) < 32:
            raise ConfigError("MADOGUCHI_SECRET_KEY: must be at least 32 characters long")
        return value
    keyfile = folder / "secret_key"
    if not keyfile.exists():
        fd = os.open(keyfile, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(secrets.token_urlsafe(48))
    return keyfile.read_text().strip()


def secret_key_fallbacks() -> list[str]:
    """Earlier secret keys, still accepted for sessions, signatures and stored passwords."""
    keys = word_list("MADOGUCHI_SECRET_KEY_FALLBACKS")
    if any(len(key) < 32 for key in keys):
        raise ConfigError("MADOGUCHI_SECRET_KEY_FALLBACKS: each key must be at least 32 characters")
    return keys


def trusted_proxies() -> tuple[str, ...]:
    """``MADOGUCHI_TRUSTED_PROXIES``: addresses or networks (CIDR) of the reverse proxies."""
    import ipaddress

    entries = word_list("MADOGUCHI_TRUSTED_PROXIES")
    for entry in entries:
        try:
            ipaddress.ip_network(entry, strict=False)
        except ValueError:
            raise ConfigError(
                f"MADOGUCHI_TRUSTED_PROXIES: {entry!r} is not an IP address or network "
                "(e.g. 127.0.0.1, 10.0.0.0/8, ::1)"
            ) from None
    return tuple(entries)


def https(proxies: tuple[str, ...]) -> bool:
    """``MADOGUCHI_HTTPS``: browsers reach Madoguchi over HTTPS, through a trusted proxy."""
    on = flag("MADOGUCHI_HTTPS")
    if on and not proxies:
        raise ConfigError(
            "MADOGUCHI_HTTPS: Madoguchi itself serves plain HTTP; name the proxy that "
            "terminates TLS in MADOGUCHI_TRUSTED_PROXIES (e.g. 127.0.0.1), or every page "
            "would redirect to itself"
        )
    return on


def origin(url: str) -> str:
    """``https://inbox.example.jp`` of ``https://inbox.example.jp/path``."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def database(folder: Path) -> dict[str, object]:
    """Django's DATABASES['default'] from MADOGUCHI_DATABASE_URL, or SQLite in the data dir."""
    url = env("MADOGUCHI_DATABASE_URL")
    if not url:
        return sqlite(folder / "madoguchi.sqlite3")
    scheme = urlsplit(url).scheme
    if scheme in {"postgres", "postgresql", "pgsql"}:
        import dj_database_url

        # a pool, not persistent connections: under ASGI each request may run in a new
        # thread, which would open a new connection (15 ms on PostgreSQL) every time
        config = dict(dj_database_url.parse(url, conn_max_age=0))
        options = dict(config.get("OPTIONS") or {})  # type: ignore[call-overload]
        options.setdefault("pool", {"min_size": 1, "max_size": 20, "timeout": 20})
        config["OPTIONS"] = options
        config.setdefault("TEST", {"NAME": f"test_{config.get('NAME') or 'madoguchi'}"})
        return config
    if scheme == "sqlite":
        path = urlsplit(url).path
        return sqlite(Path(path) if path else folder / "madoguchi.sqlite3")
    raise ConfigError(
        f"MADOGUCHI_DATABASE_URL: unsupported scheme {scheme!r} (use postgresql://... or sqlite:///PATH)"
    )


#: The variables of an S3-compatible attachment store, besides the bucket.
S3_OPTIONS = (
    "MADOGUCHI_ATTACHMENTS_ENDPOINT_URL",
    "MADOGUCHI_ATTACHMENTS_REGION",
    "MADOGUCHI_ATTACHMENTS_ACCESS_KEY_ID",
    "MADOGUCHI_ATTACHMENTS_SECRET_ACCESS_KEY",
)


def attachments_storage(folder: Path) -> dict[str, object]:
    """``STORAGES["attachments"]`` (``core.blobs``): files in a folder, ``<data dir>/blobs``
    unless ``MADOGUCHI_ATTACHMENTS_DIR`` names another (a shared volume), or objects in the
    S3-compatible bucket ``MADOGUCHI_ATTACHMENTS_BUCKET``."""
    bucket = env("MADOGUCHI_ATTACHMENTS_BUCKET")
    raw_dir = env("MADOGUCHI_ATTACHMENTS_DIR")
    if bucket is None:
        for name in S3_OPTIONS:
            if env(name):
                raise ConfigError(f"{name}: set MADOGUCHI_ATTACHMENTS_BUCKET too (or neither)")
        path = Path(raw_dir).expanduser() if raw_dir else folder / "blobs"
        return {
            "BACKEND": "madoguchi.core.blobs.FileStore",
            "OPTIONS": {"location": str(writable_dir("MADOGUCHI_ATTACHMENTS_DIR", path))},
        }
    if raw_dir:
        raise ConfigError(
            "MADOGUCHI_ATTACHMENTS_DIR: attachments go to one place; "
            "unset it or MADOGUCHI_ATTACHMENTS_BUCKET"
        )
    return {"BACKEND": "storages.backends.s3.S3Storage", "OPTIONS": s3_options(bucket)}


def s3_options(bucket: str) -> dict[str, object]:
    """django-storages' S3Storage options for ``bucket``.

    Without an access key boto3 finds credentials itself (``AWS_*`` variables, the file
    ``AWS_SHARED_CREDENTIALS_FILE`` or ``~/.aws/credentials``, an instance or task role).
    """
    try:
        from botocore.config import Config
    except ImportError:
        raise ConfigError(
            "MADOGUCHI_ATTACHMENTS_BUCKET: S3 needs django-storages and boto3: "
            "pip install 'madoguchi[s3]'"
        ) from None
    endpoint = env("MADOGUCHI_ATTACHMENTS_ENDPOINT_URL")
    if endpoint is not None:
        parts = urlsplit(endpoint)
        if parts.scheme not in {"http", "https"} or not parts.netloc:
            raise ConfigError(
                "MADOGUCHI_ATTACHMENTS_ENDPOINT_URL: expected http(s)://HOST[:PORT], "
                f"got {endpoint!r}"
            )
    key_id = env("MADOGUCHI_ATTACHMENTS_ACCESS_KEY_ID")
    secret = env("MADOGUCHI_ATTACHMENTS_SECRET_ACCESS_KEY")
    if key_id and not secret:
        raise ConfigError(
            "MADOGUCHI_ATTACHMENTS_SECRET_ACCESS_KEY: needed with "
            "MADOGUCHI_ATTACHMENTS_ACCESS_KEY_ID"
        )
    if secret and not key_id:
        raise ConfigError(
            "MADOGUCHI_ATTACHMENTS_ACCESS_KEY_ID: needed with "
            "MADOGUCHI_ATTACHMENTS_SECRET_ACCESS_KEY"
        )
    options: dict[str, object] = {
        "bucket_name": bucket,
        "endpoint_url": endpoint,
        "region_name": env("MADOGUCHI_ATTACHMENTS_REGION"),
        # content-addressed: a name always holds the same bytes, so no other name is sought
        "file_overwrite": True,
        # a download larger than this waits in a temporary file, not in memory
        "max_memory_size": 2 * 1024 * 1024,
        "client_config": Config(
            signature_version="s3v4",
            # S3-compatible servers (MinIO, Ceph, Garage) are reached by path, not by a
            # host name per bucket; they may not know boto3's newer default checksums
            s3={"addressing_style": "path" if endpoint else "auto"},
            request_checksum_calculation="when_required" if endpoint else "when_supported",
            response_checksum_validation="when_required" if endpoint else "when_supported",
            retries={"mode": "standard"},
        ),
    }
    if key_id:
        options |= {"access_key": key_id, "secret_key": secret}
    return options


def sqlite(path: Path) -> dict[str, object]:
    return {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": str(path),
        "OPTIONS": {
            "transaction_mode": "IMMEDIATE",
            "timeout": 20,
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;",
        },
        "TEST": {"NAME": str(path.with_name("test_" + path.name))},
    }


def flag(name: str) -> bool:
    value = (env(name) or VARIABLES[name]).lower()
    if value in {"1", "true", "yes", "on"}:
        return True
    if value in {"0", "false", "no", "off"}:
        return False
    raise ConfigError(f"{name}: expected true or false, got {value!r}")


def integer(name: str, *, minimum: int = 0) -> int:
    value = env(name) or VARIABLES[name]
    try:
        number = int(value)
    except ValueError:
        raise ConfigError(f"{name}: expected a whole number, got {value!r}") from None
    if number < minimum:
        raise ConfigError(f"{name}: must be at least {minimum}, got {number}")
    return number


def seconds(name: str, *, minimum: float) -> float:
    value = env(name) or VARIABLES[name]
    try:
        number = float(value)
    except ValueError:
        raise ConfigError(f"{name}: expected a number of seconds, got {value!r}") from None
    if not number >= minimum:
        raise ConfigError(f"{name}: must be at least {minimum}, got {value}")
    return number


def base_url(web: Bind) -> str:
    """The address people open Madoguchi at, for links in notification mail."""
    value = env("MADOGUCHI_BASE_URL") or f"http://{web}"
    if urlsplit(value).scheme not in {"http", "https"} or not urlsplit(value).netloc:
        raise ConfigError(f"MADOGUCHI_BASE_URL: expected http(s)://HOST[:PORT], got {value!r}")
    return value.rstrip("/")


def bind(name: str) -> Bind:
    value = env(name) or VARIABLES[name]
    host, sep, port = value.rpartition(":")
    if not sep or not port.isdigit() or not 0 <= int(port) < 65536:
        raise ConfigError(f"{name}: expected HOST:PORT, got {value!r}")
    return Bind(host.strip("[]") or "127.0.0.1", int(port))


def word_list(name: str) -> list[str]:
    """A comma-separated list; a default that is not a list ("none") is the empty list."""
    value = env(name) or VARIABLES[name]
    if value == "none":
        return []
    return [w.strip() for w in value.split(",") if w.strip()]
