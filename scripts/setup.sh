#!/usr/bin/env bash
# Set-up on a fresh machine (idempotent): a virtual environment in .venv with
# snntorch_bayes installed in editable mode, with its data and dev extras.
# Re-runs skip the install while pyproject.toml is unchanged.
set -euo pipefail
cd "$(dirname "$0")/.."
python=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  "$python" -m venv .venv
fi
stamp=.venv/.snntorch_bayes-installed
want=$(sha256sum pyproject.toml | cut -d' ' -f1)
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
  .venv/bin/python -m pip install --quiet --upgrade pip
  .venv/bin/python -m pip install --quiet -e ".[data,dev]"
  echo "$want" > "$stamp"
fi
