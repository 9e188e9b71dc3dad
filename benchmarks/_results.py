"""Shared by the benchmark scripts: where and how results are written."""

from __future__ import annotations

import csv
import platform
import random
import statistics
import sys
import time
from collections.abc import Callable, Hashable
from datetime import datetime, timezone
from pathlib import Path

import torch

RESULTS = Path(__file__).parent / "results"


def provenance() -> dict[str, str]:
    """The columns every results row starts with: when (UTC), on what
    machine, with which torch, by which command."""
    cpu = platform.processor() or platform.machine()
    return {
        "date": datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "machine": f"{cpu}, {torch.get_num_threads()} threads",
        "torch": torch.__version__,
        "command": " ".join(["python", *sys.argv]),
    }


def write_csv(path: str | Path, rows: list[dict]) -> Path:
    """Write ``rows`` (dicts with the same keys) to ``path``, replacing it;
    git keeps the history of committed results."""
    if not rows:
        raise ValueError("no rows to write")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return path


def interleaved_medians(
    steppers: dict[Hashable, Callable[[], object]], rounds: int, steps: int, log: bool = True
) -> dict[Hashable, list[float]]:
    """Time every stepper in ``rounds`` rounds, in a fresh (seeded) random
    order each round, so drifts of the machine hit every method alike;
    returns, per key, the median seconds of its ``steps`` calls in each round."""
    per_round: dict[Hashable, list[float]] = {key: [] for key in steppers}
    rng = random.Random(0)
    for r in range(rounds):
        order = list(steppers)
        rng.shuffle(order)
        for key in order:
            times = []
            for _ in range(steps):
                t0 = time.perf_counter()
                steppers[key]()
                times.append(time.perf_counter() - t0)
            per_round[key].append(statistics.median(times))
        if log:
            print(f"round {r + 1}/{rounds} done", file=sys.stderr)
    return per_round
