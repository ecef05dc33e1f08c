"""`python -m django check --deploy` with the production settings of docs/configuration.md."""

from __future__ import annotations

import os
import re
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.processes

DOC = Path(__file__).resolve().parents[1] / "docs" / "configuration.md"


def production_block() -> dict[str, str]:
    """The variables of the first ``sh`` block under "## Production", as documented."""
    section = DOC.read_text().split("\n## Production\n", 1)[1]
    block = re.search(r"```sh\n(.*?)```", section, re.S)
    assert block, "docs/configuration.md: no sh block in the Production section"
    found = {}
    for line in block.group(1).splitlines():
        name, _, value = line.partition("#")[0].strip().partition("=")
        if name:
            found[name] = value
    return found


def test_deploy_check_passes_with_the_documented_production_settings(tmp_path):
    documented = production_block()
    assert documented["MADOGUCHI_HTTPS"] == "true" and documented["MADOGUCHI_SECRET_KEY"] == "..."
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MADOGUCHI_", "DJANGO_"))}
    env |= documented | {
        "MADOGUCHI_SECRET_KEY": secrets.token_urlsafe(50),
        "MADOGUCHI_DATA_DIR": str(tmp_path),
        "DJANGO_SETTINGS_MODULE": "madoguchi.settings",
    }
    done = subprocess.run(
        [sys.executable, "-m", "django", "check", "--deploy", "--fail-level", "WARNING"],
        env=env, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    assert "System check identified no issues" in done.stdout + done.stderr
