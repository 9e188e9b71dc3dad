#!/usr/bin/env bash
# Set-up on a fresh machine (idempotent): a virtual environment in .venv with
# snntorch_bayes installed in editable mode, with its tutorials (data + tonic),
# dev and docs extras.
# Re-runs skip the install while pyproject.toml is unchanged.
set -euo pipefail
cd "$(dirname "$0")/.."
python=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  "$python" -m venv .venv
fi
stamp=.venv/.snntorch_bayes-installed
want=$(cat pyproject.toml scripts/setup.sh | sha256sum | cut -d' ' -f1)
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
  .venv/bin/python -m pip install --quiet --upgrade pip
  .venv/bin/python -m pip install --quiet -e ".[tutorials,dev,docs]"
  echo "$want" > "$stamp"
fi
