#!/usr/bin/env bash
# Every results table and plot: set up, then run benchmarks/run_all.py.
#   bash scripts/benchmarks.sh            # full mode, rewrites benchmarks/results/
#   bash scripts/benchmarks.sh --quick    # smoke test of every benchmark
# Extra arguments go to run_all.py (see --help).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
source scripts/local_data.sh
exec .venv/bin/python benchmarks/run_all.py "$@"
