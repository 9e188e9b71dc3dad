#!/usr/bin/env bash
# The CIFAR-10 check for one GPU (about 2 minutes on an H200, data included; at
# most 8 on a slower card, where --time-limit stops it): the SBNN and both
# deterministic twins, with the recipe, on the whole CIFAR-10 (JPEG copy),
# conv residual network of 8 blocks of 128 channels, 3 epochs, seed 0. Prints
# the table and the device; results go to gpu_check/ (or the folder given as
# the first argument).
# Needs the CIFAR-10 copy: SNNTORCH_BAYES_CIFAR10, or ../shared/data/.
# On a machine whose Python already holds torch, torchvision and snnTorch (a
# GPU image with no package registry), CHECK_PYTHON=python3 uses that
# interpreter with this checkout on its path instead of setting up .venv.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ -n "${CHECK_PYTHON:-}" ]; then
  python=$CHECK_PYTHON
  export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}"
else
  bash scripts/setup.sh
  python=.venv/bin/python
fi
source scripts/local_data.sh
out=${1:-gpu_check}
exec "$python" benchmarks/full_scale.py --preset cifar10-binary-resnet \
  --budget full --epochs 3 --seeds 0 --device cuda --time-limit 6 --out-dir "$out"
