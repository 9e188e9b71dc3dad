"""Shared fixtures and helpers for the test suite."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import torch

ROOT = Path(__file__).resolve().parents[1]
#: The project's offline copy of MNIST (``../shared/data/mnist``), if present.
SHARED_MNIST = Path(
    os.environ.get("SNNTORCH_BAYES_MNIST", ROOT.parent / "shared" / "data" / "mnist")
)


@pytest.fixture(autouse=True)
def _seed():
    torch.manual_seed(1234)
    yield


DEVICES = ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])
