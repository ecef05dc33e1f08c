# Sourced by scripts/test and scripts/check: the Python packages into .venv, when missing or
# older than pyproject.toml.
if [ ! -x .venv/bin/pytest ] || [ pyproject.toml -nt .venv/bin/pytest ]; then
  python3 -m venv .venv
  .venv/bin/pip install --quiet --upgrade pip
  .venv/bin/pip install --quiet -e ".[test]"
  touch .venv/bin/pytest
fi
