#!/usr/bin/env bash
# The main job: set up, then train snnTorch's tutorial-5 network on real MNIST
# with fast_sigmoid and with an IW-ST estimator, and compare them.
# Extra arguments go to `python -m snntorch_bayes` (see --help).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
# Offline machines: use the project's staged copy of MNIST when no other is set.
if [ -z "${SNNTORCH_BAYES_MNIST:-}" ] && [ -d ../shared/data/mnist ]; then
  export SNNTORCH_BAYES_MNIST=../shared/data/mnist
fi
exec .venv/bin/python -m snntorch_bayes "$@"
