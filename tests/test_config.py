"""Configuration: every variable documented, wrong values named at start."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from madoguchi import config

DOC = Path(__file__).resolve().parents[1] / "docs" / "configuration.md"


def test_every_variable_is_documented():
    """Each MADOGUCHI_* variable the code reads appears in docs/configuration.md."""
    documented = set(re.findall(r"`(MADOGUCHI_[A-Z_]+)`", DOC.read_text()))
    assert set(config.VARIABLES) == documented


def test_code_reads_only_listed_variables():
    """No module reads a MADOGUCHI_* variable that is not in config.VARIABLES."""
    src = Path(config.__file__).parent
    used = set()
    for path in src.rglob("*.py"):
        used |= set(re.findall(r"\"(MADOGUCHI_[A-Z_]+)\"", path.read_text()))
    assert used <= set(config.VARIABLES)


@pytest.mark.parametrize(
    ("name", "value", "call"),
    [
        ("MADOGUCHI_DEBUG", "maybe", lambda: config.flag("MADOGUCHI_DEBUG")),
        ("MADOGUCHI_SMTP_BIND", "localhost", lambda: config.bind("MADOGUCHI_SMTP_BIND")),
        (
            "MADOGUCHI_MAX_MESSAGE_BYTES",
            "lots",
            lambda: config.integer("MADOGUCHI_MAX_MESSAGE_BYTES"),
        ),
        ("MADOGUCHI_SECRET_KEY", "short", lambda: config.secret_key(Path("/tmp"))),
        ("MADOGUCHI_DATABASE_URL", "mysql://db/x", lambda: config.database(Path("/tmp"))),
    ],
)
def test_wrong_value_names_the_variable(monkeypatch, name, value, call):
    """A wrong value raises ConfigError whose message starts with the variable's name."""
    monkeypatch.setenv(name, value)
    with pytest.raises(config.ConfigError, match=f"^{name}"):
        call()


def test_unwritable_data_dir_is_named(monkeypatch, tmp_path):
    """A data dir that cannot be written is reported with the variable's name."""
    blocker = tmp_path / "file"
    blocker.write_text("")
    monkeypatch.setenv("MADOGUCHI_DATA_DIR", str(blocker / "sub"))
    with pytest.raises(config.ConfigError, match="^MADOGUCHI_DATA_DIR"):
        config.data_dir()


def test_secret_key_is_generated_once_and_private(monkeypatch, tmp_path):
    """Without MADOGUCHI_SECRET_KEY a key is generated into the data dir, mode 0600, and kept."""
    monkeypatch.delenv("MADOGUCHI_SECRET_KEY", raising=False)
    first = config.secret_key(tmp_path)
    assert config.secret_key(tmp_path) == first and len(first) >= 32
    assert (tmp_path / "secret_key").stat().st_mode & 0o777 == 0o600


def test_processes_starting_at_once_do_not_trip_over_each_others_probe(tmp_path):
    """Two workers checked the folder with the same probe file: one removed the other's
    and failed to start (CI, 2026-12-04). Each check now writes a file of its own."""
    (tmp_path / ".write-test").mkdir()  # another process's probe, in the way of a shared name
    assert config.writable_dir("MADOGUCHI_DATA_DIR", tmp_path) == tmp_path.resolve()
    assert sorted(p.name for p in tmp_path.iterdir()) == [".write-test"]  # nothing left
