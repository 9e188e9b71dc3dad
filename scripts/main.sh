#!/usr/bin/env bash
# The main job: set up, then train snnTorch's tutorial-5 network on real MNIST
# with fast_sigmoid, an IW-ST drop-in and as an SBNN, and a deep plain binary
# network on Fashion-MNIST as an SBNN against fair twins; compare them.
# Extra arguments go to `python -m snntorch_bayes` (see --help).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
source scripts/local_data.sh
exec .venv/bin/python -m snntorch_bayes "$@"
